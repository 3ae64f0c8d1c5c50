-- layer: 7
-- Daily report (docs/concepts/reports.md): one row per (report_date, message, recipient).
--  * org clients (client_type 'org', active): 'daily:<CLIENT>:ig' (Rekap Akumulasi Likes
--    Instagram) and 'daily:<CLIENT>:tiktok' (Rekap Akumulasi Komentar TikTok); rule 'all'
--    (lengkap = every post); per-division name lists; "Tidak ada konten ..." when the client
--    had no post that day;
--  * directorate clients (client_type 'direktorat', active): 'daily:<CLIENT>:dir_ig' and
--    'daily:<CLIENT>:dir_tiktok'; the client's rule (report_lengkap_rule: all posts unless
--    report_rule says >= 50 %); totals, Top 5 / Bottom 5 satker by
--    likes (comments), one block per satker; admin_copy = true.
-- A platform whose client_insta_status / client_tiktok_status is false is left out.
-- Recipients: report_recipient of the client (group, operator, super).
-- Filter with WHERE report_date = <date>: the date reaches every layer below (report_client_day
-- is read once for all clients).
CREATE OR REPLACE VIEW daily_report_view AS
SELECT m.report_date, m.message_key, m.client_id, m.client_name, m.client_type, m.platform,
       m.message_order, r.recipient, r.recipient_raw, r.recipient_role, r.recipient_valid,
       m.admin_copy, m.summary
  FROM (SELECT d.report_date,
               'daily:' || c.client_id || ':' || CASE WHEN ct.is_dir THEN 'dir_' ELSE '' END
               || pl.key AS message_key,
               c.client_id, c.nama AS client_name, ct.client_type, pl.platform,
               pl.message_order, ct.is_dir AS admin_copy,
               CASE
               WHEN coalesce(k.posts, 0) = 0 THEN
                   'Tidak ada konten pada akun Official ' || pl.label || ' *' || c.nama || '* pada '
                   || id_date_long(d.report_date) || '.'
               WHEN NOT ct.is_dir THEN
                   E'Mohon ijin Komandan,\n\n'
                   || pl.title || E'\n'
                   || CASE pl.platform WHEN 'instagram' THEN '*Polres*: *' || c.nama || '*'
                                       ELSE '*' || c.nama || '*' END || E'\n'
                   || id_date_long(d.report_date) || E'\n'
                   || 'Periode data: ' || report_period_line() || E'\n\n'
                   || '*Jumlah Konten:* ' || id_number(k.posts) || E'\n'
                   || E'*Daftar Link Konten:*\n' || k.links || E'\n\n'
                   || '*Jumlah user:* ' || id_number(coalesce(s.users, 0)) || E' user\n'
                   || '✅ *Melaksanakan lengkap:* ' || id_number(coalesce(s.lengkap, 0))
                   || E' user\n'
                   || '⚠️ *Melaksanakan kurang lengkap:* ' || id_number(coalesce(s.kurang, 0))
                   || E' user\n'
                   || '❌ *Belum melaksanakan:* '
                   || id_number(coalesce(s.belum, 0) + coalesce(s.belum_username, 0)) || ' user ('
                   || id_number(coalesce(s.belum_username, 0)) || ' belum input username '
                   || pl.label || E')\n'
                   || coalesce(E'\n' || s.division_blocks || E'\n', '')
                   || E'\nTerimakasih.'
               ELSE
                   E'Mohon ijin Komandan,\n\n'
                   || pl.title || E'\n'
                   || '*' || c.nama || E'*\n'
                   || id_date_long(d.report_date) || E'\n'
                   || 'Periode data: ' || report_period_line() || E'\n\n'
                   || '*Jumlah Konten:* ' || id_number(k.posts) || E'\n'
                   || E'*Daftar Link Konten:*\n' || k.links || E'\n\n'
                   || '*Jumlah Total Personil:* ' || id_number(coalesce(s.users, 0)) || E' pers\n'
                   || '✅ *Sudah melaksanakan:* ' || id_number(coalesce(s.sudah, 0)) || E' pers\n'
                   || '- Melaksanakan lengkap ('
                   || CASE ct.rule WHEN 'half' THEN '≥ 50% konten' ELSE 'semua konten' END
                   || '): ' || id_number(coalesce(s.lengkap, 0)) || E' pers\n'
                   || '- Melaksanakan kurang ('
                   || CASE ct.rule WHEN 'half' THEN '< 50% konten' ELSE 'sebagian konten' END
                   || '): '
                   || id_number(coalesce(s.kurang, 0)) || E' pers\n'
                   || '❌ *Belum melaksanakan:* '
                   || id_number(coalesce(s.belum, 0) + coalesce(s.belum_username, 0)) || E' pers\n'
                   || '⚠️❌ *Belum Update Username ' || pl.label || ':* '
                   || id_number(coalesce(s.belum_username, 0)) || E' pers\n\n'
                   || '🔥 *Top 5 ' || pl.unit || E':*\n'
                   || coalesce(cicero_numbered_list(s.satker_ranked, 5), 'Tidak ada data.')
                   || E'\n\n'
                   || '❄️ *Bottom 5 ' || pl.unit || E':*\n'
                   || coalesce(cicero_numbered_list(s.satker_ranked, 5, true), 'Tidak ada data.')
                   || E'\n\n'
                   || E'*Rekap per Satker:*\n'
                   || coalesce(cicero_numbered_list(s.satker_blocks), '-') || E'\n\n'
                   || 'Terimakasih.'
               END AS summary
          FROM (SELECT date '2000-01-01' + g AS report_date FROM generate_series(0, 36889) AS g) d
         CROSS JOIN cicero_clients() c
         CROSS JOIN LATERAL (SELECT lower(c.client_type) AS client_type,
                                    lower(c.client_type) = 'direktorat' AS is_dir,
                                    report_lengkap_rule(c.client_id) AS rule) ct
         CROSS JOIN LATERAL (VALUES
                ('instagram', 'ig', 1, c.client_insta_status, 'Instagram',
                 '📋 *Rekap Akumulasi Likes Instagram*', 'Likes'),
                ('tiktok', 'tiktok', 2, c.client_tiktok_status, 'TikTok',
                 '📋 *Rekap Akumulasi Komentar TikTok*', 'Komentar'))
               AS pl(platform, key, message_order, enabled, label, title, unit)
          LEFT JOIN (SELECT p.report_date, p.client_id, 'instagram' AS platform,
                            count(*)::integer AS posts,
                            string_agg('https://www.instagram.com/p/' || p.shortcode, E'\n'
                                       ORDER BY p.created_at, p.shortcode) AS links
                       FROM report_ig_post p
                      GROUP BY p.report_date, p.client_id
                     UNION ALL
                     SELECT p.report_date, p.client_id, 'tiktok',
                            count(*)::integer,
                            string_agg('https://www.tiktok.com/@'
                                       || coalesce(nullif(btrim(pc.client_tiktok, ' @'), ''),
                                                   lower(pc.client_id))
                                       || '/video/' || p.video_id, E'\n'
                                       ORDER BY p.created_at, p.video_id)
                       FROM report_tiktok_post p
                       JOIN cicero_clients() pc ON pc.client_id = p.client_id
                      GROUP BY p.report_date, p.client_id) k
                 ON k.report_date = d.report_date AND k.client_id = c.client_id
                AND k.platform = pl.platform
          LEFT JOIN report_client_day s
                 ON s.report_date = d.report_date AND s.client_id = c.client_id
                AND s.platform = pl.platform
         WHERE c.client_status
           AND ct.client_type IN ('org', 'direktorat')
           AND pl.enabled IS NOT FALSE) m
  JOIN report_recipient r ON r.client_id = m.client_id;
