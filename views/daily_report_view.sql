-- layer: 5
-- Daily report (domain §3.1, §3.2, §3.3): one row per (report_date, message, recipient).
--  * org clients (client_type 'org', active): 'daily:<CLIENT>:ig' (Rekap Akumulasi Likes
--    Instagram) and 'daily:<CLIENT>:tiktok' (Rekap Akumulasi Komentar TikTok), rule 'all',
--    per-division name lists; "Tidak ada konten ..." when the client had no post that day;
--  * directorate clients: 'daily:<CLIENT>:dir_ig' / ':dir_tiktok', rule 'half' (>= 50 %),
--    totals, Top 5 / Bottom 5 satker by likes (comments) and one block per satker;
--    admin_copy = true.
-- Recipients: report_recipient of the client (group, operator, super).
-- Filter with WHERE report_date = <date>: the date reaches every layer below.
CREATE OR REPLACE VIEW daily_report_view AS
SELECT m.report_date, m.message_key, m.client_id, m.client_name, m.client_type, m.platform,
       m.message_order, r.recipient, r.recipient_raw, r.recipient_role, r.recipient_valid,
       m.admin_copy, m.summary
  FROM (
        -- ------------------------------------------------------------ org clients
        SELECT d.report_date,
               'daily:' || c.client_id || ':' || pl.key AS message_key,
               c.client_id, c.nama AS client_name, 'org' AS client_type, pl.platform,
               pl.message_order, false AS admin_copy,
               CASE WHEN coalesce(k.posts, 0) = 0 THEN
                   'Tidak ada konten pada akun Official ' || pl.label || ' *' || c.nama || '* pada '
                   || id_date_long(d.report_date) || '.'
               ELSE
                   E'Mohon ijin Komandan,\n\n'
                   || pl.title || E'\n'
                   || CASE pl.platform WHEN 'instagram' THEN '*Polres*: *' || c.nama || '*'
                                       ELSE '*' || c.nama || '*' END || E'\n'
                   || id_date_long(d.report_date) || E'\n'
                   || E'Periode data: 00.00–23.59 WIB\n\n'
                   || '*Jumlah Konten:* ' || id_number(k.posts) || E'\n'
                   || E'*Daftar Link Konten:*\n' || k.links || E'\n\n'
                   || '*Jumlah user:* ' || id_number(coalesce(s.users, 0)) || E' user\n'
                   || '✅ *Melaksanakan lengkap:* ' || id_number(coalesce(s.lengkap, 0)) || E' user\n'
                   || '⚠️ *Melaksanakan kurang lengkap:* ' || id_number(coalesce(s.kurang, 0)) || E' user\n'
                   || '❌ *Belum melaksanakan:* '
                   || id_number(coalesce(s.belum, 0) + coalesce(s.belum_username, 0)) || ' user'
                   || ' (' || id_number(coalesce(s.belum_username, 0)) || ' belum input username '
                   || pl.label || E')\n'
                   || coalesce(E'\n' || b.blocks || E'\n', '')
                   || E'\nTerimakasih.'
               END AS summary
          FROM (SELECT date '2000-01-01' + g AS report_date FROM generate_series(0, 36889) AS g) d
         CROSS JOIN clients c
         CROSS JOIN LATERAL (VALUES
                ('instagram', 'ig', 1, c.client_insta_status, 'Instagram',
                 '📋 *Rekap Akumulasi Likes Instagram*'),
                ('tiktok', 'tiktok', 2, c.client_tiktok_status, 'TikTok',
                 '📋 *Rekap Akumulasi Komentar TikTok*'))
               AS pl(platform, key, message_order, enabled, label, title)
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
                                       || coalesce(nullif(ltrim(btrim(pc.client_tiktok), '@'), ''), pc.client_id)
                                       || '/video/' || p.video_id, E'\n'
                                       ORDER BY p.created_at, p.video_id)
                       FROM report_tiktok_post p
                       JOIN clients pc ON pc.client_id = p.client_id
                      GROUP BY p.report_date, p.client_id) k
                 ON k.report_date = d.report_date AND k.client_id = c.client_id
                AND k.platform = pl.platform
          LEFT JOIN report_client_day s
                 ON s.report_date = d.report_date AND s.client_id = c.client_id
                AND s.platform = pl.platform
          LEFT JOIN (SELECT v.report_date, v.client_id, v.platform,
                            string_agg('*' || v.divisi || '* (' || id_number(v.users) || E' user):\n'
                                       || '✅ Lengkap (' || id_number(v.lengkap) || E' user):\n'
                                       || v.lengkap_lines || E'\n'
                                       || '⚠️ Kurang (' || id_number(v.kurang) || E' user):\n'
                                       || v.kurang_lines || E'\n'
                                       || '❌ Belum (' || id_number(v.belum) || E' user):\n'
                                       || v.belum_lines,
                                       E'\n\n' ORDER BY v.division_rank, v.divisi) AS blocks
                       FROM report_division_day v
                      GROUP BY v.report_date, v.client_id, v.platform) b
                 ON b.report_date = d.report_date AND b.client_id = c.client_id
                AND b.platform = pl.platform
         WHERE c.client_status
           AND lower(c.client_type) = 'org'
           AND pl.enabled IS NOT FALSE
        UNION ALL
        -- ------------------------------------------------------------ directorates
        SELECT d.report_date,
               'daily:' || c.client_id || ':dir_' || pl.key AS message_key,
               c.client_id, c.nama, 'direktorat', pl.platform, pl.message_order, true,
               CASE WHEN coalesce(k.posts, 0) = 0 THEN
                   'Tidak ada konten pada akun Official ' || pl.label || ' *' || c.nama || '* pada '
                   || id_date_long(d.report_date) || '.'
               ELSE
                   E'Mohon ijin Komandan,\n\n'
                   || pl.title || E'\n'
                   || '*' || c.nama || E'*\n'
                   || id_date_long(d.report_date) || E'\n'
                   || E'Periode data: 00.00–23.59 WIB\n\n'
                   || '*Jumlah Konten:* ' || id_number(k.posts) || E'\n'
                   || E'*Daftar Link Konten:*\n' || k.links || E'\n\n'
                   || '*Jumlah Total Personil:* ' || id_number(coalesce(s.users, 0)) || E' pers\n'
                   || '✅ *Sudah melaksanakan:* ' || id_number(coalesce(s.sudah, 0)) || E' pers\n'
                   || '- Melaksanakan lengkap (≥ 50% konten): ' || id_number(coalesce(s.lengkap, 0)) || E' pers\n'
                   || '- Melaksanakan kurang (< 50% konten): ' || id_number(coalesce(s.kurang, 0)) || E' pers\n'
                   || '❌ *Belum melaksanakan:* '
                   || id_number(coalesce(s.belum, 0) + coalesce(s.belum_username, 0)) || E' pers\n'
                   || '⚠️❌ *Belum Update Username ' || pl.label || ':* '
                   || id_number(coalesce(s.belum_username, 0)) || E' pers\n\n'
                   || '🔥 *Top 5 ' || pl.unit_title || E':*\n'
                   || coalesce(cicero_numbered_list(t.ranked, 5), 'Tidak ada data.') || E'\n\n'
                   || '❄️ *Bottom 5 ' || pl.unit_title || E':*\n'
                   || coalesce(cicero_numbered_list(t.ranked, 5, true), 'Tidak ada data.') || E'\n\n'
                   || E'*Rekap per Satker:*\n'
                   || coalesce(cicero_numbered_list(t.blocks), '-') || E'\n\n'
                   || 'Terimakasih.'
               END
          FROM (SELECT date '2000-01-01' + g AS report_date FROM generate_series(0, 36889) AS g) d
         CROSS JOIN clients c
         CROSS JOIN LATERAL (VALUES
                ('instagram', 'ig', 1, c.client_insta_status, 'Instagram',
                 '📋 *Rekap Akumulasi Likes Instagram*', 'Likes'),
                ('tiktok', 'tiktok', 2, c.client_tiktok_status, 'TikTok',
                 '📋 *Rekap Akumulasi Komentar TikTok*', 'Komentar'))
               AS pl(platform, key, message_order, enabled, label, title, unit_title)
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
                                       || coalesce(nullif(ltrim(btrim(pc.client_tiktok), '@'), ''), pc.client_id)
                                       || '/video/' || p.video_id, E'\n'
                                       ORDER BY p.created_at, p.video_id)
                       FROM report_tiktok_post p
                       JOIN clients pc ON pc.client_id = p.client_id
                      GROUP BY p.report_date, p.client_id) k
                 ON k.report_date = d.report_date AND k.client_id = c.client_id
                AND k.platform = pl.platform
          LEFT JOIN report_client_day s
                 ON s.report_date = d.report_date AND s.client_id = c.client_id
                AND s.platform = pl.platform
          LEFT JOIN (SELECT sd.report_date, sd.client_id, sd.platform,
                            array_agg(sd.user_client_name || ' – ' || id_number(sd.done_total) || ' '
                                      || CASE sd.platform WHEN 'instagram' THEN 'likes' ELSE 'komentar' END
                                      ORDER BY sd.done_total DESC, sd.user_client_name)
                                FILTER (WHERE sd.user_client_id <> sd.client_id) AS ranked,
                            array_agg('*' || sd.user_client_name || E'*\n'
                                      || 'Jumlah Personil: ' || id_number(sd.users) || E' pers\n'
                                      || '✅ Sudah: ' || id_number(sd.sudah) || ' pers (lengkap '
                                      || id_number(sd.lengkap) || ', kurang ' || id_number(sd.kurang)
                                      || E')\n'
                                      || '❌ Belum: ' || id_number(sd.belum + sd.belum_username)
                                      || E' pers\n'
                                      || '⚠️❌ Belum Update Username: ' || id_number(sd.belum_username)
                                      || ' pers'
                                      ORDER BY sd.user_client_id = sd.client_id DESC, sd.sudah DESC,
                                               sd.users DESC, sd.user_client_name) AS blocks
                       FROM report_satker_day sd
                      GROUP BY sd.report_date, sd.client_id, sd.platform) t
                 ON t.report_date = d.report_date AND t.client_id = c.client_id
                AND t.platform = pl.platform
         WHERE c.client_status
           AND lower(c.client_type) = 'direktorat'
           AND pl.enabled IS NOT FALSE
       ) m
  JOIN report_recipient r ON r.client_id = m.client_id;
