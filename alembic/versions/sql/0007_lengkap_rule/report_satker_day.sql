-- layer: 5
-- Per (report_date, audience client, satker) totals, Instagram and TikTok side by side: the
-- per-Polres blocks of the directorate recap (an org client's only satker is itself) and,
-- for org clients, the satker's division blocks of the org recap in division order; for
-- directorates the satker's Kurang and Belum name lists (*_kurang_lines, *_belum_lines).
CREATE OR REPLACE VIEW report_satker_day AS
SELECT report_date, client_id, client_type, user_client_id, user_client_name,
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
       string_agg('*' || divisi || '* (' || id_number(ig_users) || E' user):\n'
                  || '✅ Lengkap (' || id_number(ig_lengkap) || E' user):\n'
                  || coalesce(ig_lengkap_lines, '-') || E'\n'
                  || '⚠️ Kurang (' || id_number(ig_kurang) || E' user):\n'
                  || coalesce(ig_kurang_lines, '-') || E'\n'
                  || '❌ Belum (' || id_number(ig_belum + ig_belum_username) || E' user):\n'
                  || coalesce(ig_belum_lines, '-'),
                  E'\n\n' ORDER BY division_rank, divisi)
           FILTER (WHERE client_type <> 'direktorat' AND ig_users > 0) AS ig_division_blocks,
       string_agg('*' || divisi || '* (' || id_number(tiktok_users) || E' user):\n'
                  || '✅ Lengkap (' || id_number(tiktok_lengkap) || E' user):\n'
                  || coalesce(tiktok_lengkap_lines, '-') || E'\n'
                  || '⚠️ Kurang (' || id_number(tiktok_kurang) || E' user):\n'
                  || coalesce(tiktok_kurang_lines, '-') || E'\n'
                  || '❌ Belum (' || id_number(tiktok_belum + tiktok_belum_username)
                  || E' user):\n' || coalesce(tiktok_belum_lines, '-'),
                  E'\n\n' ORDER BY division_rank, divisi)
           FILTER (WHERE client_type <> 'direktorat' AND tiktok_users > 0)
           AS tiktok_division_blocks,
       string_agg(ig_kurang_lines, E'\n') FILTER (WHERE client_type = 'direktorat')
           AS ig_kurang_lines,
       string_agg(ig_belum_lines, E'\n') FILTER (WHERE client_type = 'direktorat')
           AS ig_belum_lines,
       string_agg(tiktok_kurang_lines, E'\n') FILTER (WHERE client_type = 'direktorat')
           AS tiktok_kurang_lines,
       string_agg(tiktok_belum_lines, E'\n') FILTER (WHERE client_type = 'direktorat')
           AS tiktok_belum_lines
  FROM report_division_day
 GROUP BY report_date, client_id, client_type, user_client_id, user_client_name;
