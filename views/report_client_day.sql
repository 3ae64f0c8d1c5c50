-- layer: 6
-- Per (report_date, audience client, platform) totals under the client's rule, plus the
-- pieces of the daily messages: division_blocks (org recap), satker_blocks (directorate recap:
-- the directorate itself first, then by sudah, personnel, name; each with its Kurang and
-- Belum name lists) and satker_ranked
-- (satker other than the directorate by likes / comments, best first: Top / Bottom 5).
-- platform 'instagram' (likes) or 'tiktok' (comments), only when there were posts.
-- users = users counted, sudah = lengkap + kurang, belum excludes belum_username.
CREATE OR REPLACE VIEW report_client_day AS
SELECT a.report_date, a.client_id, a.client_type, v.platform, v.posts, v.users, v.lengkap,
       v.kurang, v.belum, v.belum_username, v.lengkap + v.kurang AS sudah, v.done_total,
       v.division_blocks, v.satker_blocks, v.satker_ranked
  FROM (SELECT report_date, client_id, client_type,
               max(ig_posts) AS ig_posts,
               sum(ig_users)::integer AS ig_users,
               sum(ig_lengkap)::integer AS ig_lengkap,
               sum(ig_kurang)::integer AS ig_kurang,
               sum(ig_belum)::integer AS ig_belum,
               sum(ig_belum_username)::integer AS ig_belum_username,
               sum(ig_done_total)::integer AS ig_done_total,
               max(tiktok_posts) AS tiktok_posts,
               sum(tiktok_users)::integer AS tiktok_users,
               sum(tiktok_lengkap)::integer AS tiktok_lengkap,
               sum(tiktok_kurang)::integer AS tiktok_kurang,
               sum(tiktok_belum)::integer AS tiktok_belum,
               sum(tiktok_belum_username)::integer AS tiktok_belum_username,
               sum(tiktok_done_total)::integer AS tiktok_done_total,
               string_agg(ig_division_blocks, E'\n\n'
                          ORDER BY user_client_id = client_id DESC, user_client_name)
                   AS ig_division_blocks,
               string_agg(tiktok_division_blocks, E'\n\n'
                          ORDER BY user_client_id = client_id DESC, user_client_name)
                   AS tiktok_division_blocks,
               array_agg('*' || user_client_name || E'*\n'
                         || 'Jumlah Personil: ' || id_number(ig_users) || E' pers\n'
                         || '✅ Sudah: ' || id_number(ig_lengkap + ig_kurang) || ' pers (lengkap '
                         || id_number(ig_lengkap) || ', kurang ' || id_number(ig_kurang) || E')\n'
                         || '❌ Belum: ' || id_number(ig_belum + ig_belum_username) || E' pers\n'
                         || '⚠️❌ Belum Update Username: ' || id_number(ig_belum_username)
                         || ' pers'
                         || coalesce(E'\n⚠️ Kurang:\n' || ig_kurang_lines, '')
                         || coalesce(E'\n❌ Belum:\n' || ig_belum_lines, '')
                         ORDER BY user_client_id = client_id DESC, ig_lengkap + ig_kurang DESC,
                                  ig_users DESC, user_client_name)
                   FILTER (WHERE client_type = 'direktorat' AND ig_users > 0) AS ig_satker_blocks,
               array_agg('*' || user_client_name || E'*\n'
                         || 'Jumlah Personil: ' || id_number(tiktok_users) || E' pers\n'
                         || '✅ Sudah: ' || id_number(tiktok_lengkap + tiktok_kurang)
                         || ' pers (lengkap ' || id_number(tiktok_lengkap) || ', kurang '
                         || id_number(tiktok_kurang) || E')\n'
                         || '❌ Belum: ' || id_number(tiktok_belum + tiktok_belum_username)
                         || E' pers\n'
                         || '⚠️❌ Belum Update Username: ' || id_number(tiktok_belum_username)
                         || ' pers'
                         || coalesce(E'\n⚠️ Kurang:\n' || tiktok_kurang_lines, '')
                         || coalesce(E'\n❌ Belum:\n' || tiktok_belum_lines, '')
                         ORDER BY user_client_id = client_id DESC,
                                  tiktok_lengkap + tiktok_kurang DESC, tiktok_users DESC,
                                  user_client_name)
                   FILTER (WHERE client_type = 'direktorat' AND tiktok_users > 0)
                   AS tiktok_satker_blocks,
               array_agg(user_client_name || ' – ' || id_number(ig_done_total) || ' likes'
                         ORDER BY ig_done_total DESC, user_client_name)
                   FILTER (WHERE client_type = 'direktorat' AND user_client_id <> client_id
                           AND ig_users > 0) AS ig_satker_ranked,
               array_agg(user_client_name || ' – ' || id_number(tiktok_done_total) || ' komentar'
                         ORDER BY tiktok_done_total DESC, user_client_name)
                   FILTER (WHERE client_type = 'direktorat' AND user_client_id <> client_id
                           AND tiktok_users > 0) AS tiktok_satker_ranked
          FROM report_satker_day
         GROUP BY report_date, client_id, client_type) a
 CROSS JOIN LATERAL (VALUES
        ('instagram', a.ig_posts, a.ig_users, a.ig_lengkap, a.ig_kurang, a.ig_belum,
         a.ig_belum_username, a.ig_done_total, a.ig_division_blocks, a.ig_satker_blocks,
         a.ig_satker_ranked),
        ('tiktok', a.tiktok_posts, a.tiktok_users, a.tiktok_lengkap, a.tiktok_kurang,
         a.tiktok_belum, a.tiktok_belum_username, a.tiktok_done_total, a.tiktok_division_blocks,
         a.tiktok_satker_blocks, a.tiktok_satker_ranked))
       AS v(platform, posts, users, lengkap, kurang, belum, belum_username, done_total,
            division_blocks, satker_blocks, satker_ranked)
 WHERE v.posts > 0;
