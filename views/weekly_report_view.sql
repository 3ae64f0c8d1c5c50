-- layer: 6
-- Weekly report (Monday 07:00 for the previous Monday-Sunday; docs/concepts/reports.md): one row per (week_start, message
-- 'weekly:<CLIENT>', recipient) for every active org or directorate client: IG and TikTok
-- totals, Top 5 / Bottom 5 personnel (org; exception users left out) or satker (directorate)
-- by likes + comments. The producer attaches the .xlsx built from report_user_day
-- (attachment_name suggests its file name). Directorates: admin_copy = true.
-- Filter with WHERE week_start = <date>: the date reaches every layer below.
CREATE OR REPLACE VIEW weekly_report_view AS
SELECT w.week_start,
       w.week_start AS period_start,
       w.week_start + 6 AS period_end,
       'weekly:' || c.client_id AS message_key,
       c.client_id, c.nama AS client_name, ct.client_type,
       'all' AS platform, 1 AS message_order,
       r.recipient, r.recipient_raw, r.recipient_role, r.recipient_valid,
       ct.client_type = 'direktorat' AS admin_copy,
       'Rekap_Mingguan_' || c.client_id || '_' || w.week_start || '_' || w.week_start + 6 || '.xlsx'
           AS attachment_name,
       E'📊 *Laporan Mingguan Engagement*\n'
       || '*' || c.nama || E'*\n'
       || 'Periode: ' || id_day_name(w.week_start) || ', ' || id_date_dmy(w.week_start) || ' s.d. '
          || id_day_name(w.week_start + 6) || ', ' || id_date_dmy(w.week_start + 6) || E'\n\n'
       || CASE WHEN coalesce(t.ig_posts, 0) + coalesce(t.tiktok_posts, 0) = 0
               THEN E'Tidak ada konten tugas pada periode ini.\n'
               ELSE '*Jumlah personil:* ' || id_number(t.users) || ' '
                    || CASE WHEN ct.client_type = 'direktorat' THEN 'pers' ELSE 'user' END
                    || E'\n'
                    || '📸 *Instagram:* ' || id_number(t.ig_posts) || E' konten\n'
                    || 'Likes personil: ' || id_number(t.ig_done) || ' dari '
                    || id_number(t.ig_target) || ' (' || id_percent(t.ig_done, t.ig_target)
                    || E')\n'
                    || '🎵 *TikTok:* ' || id_number(t.tiktok_posts) || E' konten\n'
                    || 'Komentar personil: ' || id_number(t.tiktok_done) || ' dari '
                    || id_number(t.tiktok_target)
                    || ' (' || id_percent(t.tiktok_done, t.tiktok_target) || E')\n\n'
                    || '🔥 *5 ' || ct.rank_label || E' Tertinggi*\n'
                    || coalesce(cicero_numbered_list(t.ranked, 5), 'Tidak ada data.') || E'\n\n'
                    || '❄️ *5 ' || ct.rank_label || E' Terendah*\n'
                    || coalesce(cicero_numbered_list(t.ranked, 5, true), 'Tidak ada data.')
                    || E'\n'
          END
       || E'\n📎 Rekap Excel terlampir.\nTerimakasih.' AS summary
  FROM (SELECT date '2000-01-03' + 7 * g AS week_start FROM generate_series(0, 5270) AS g) w
 CROSS JOIN cicero_clients() c
 CROSS JOIN LATERAL (SELECT lower(c.client_type) AS client_type,
                            CASE WHEN lower(c.client_type) = 'direktorat' THEN 'Satker'
                                 ELSE 'Pelaksana' END AS rank_label) ct
  LEFT JOIN report_client_week t ON t.week_start = w.week_start AND t.client_id = c.client_id
  JOIN report_recipient r ON r.client_id = c.client_id
 WHERE c.client_status
   AND ct.client_type IN ('org', 'direktorat');
