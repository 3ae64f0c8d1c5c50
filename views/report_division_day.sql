-- layer: 4
-- Per (report_date, audience client, satker, divisi) attendance counts, Instagram (ig_*) and
-- TikTok (tiktok_*) side by side, and the name lists (docs/concepts/reports.md): org clients
-- as '- <pangkat nama> : @handle (x/N konten)', directorates as '- <pangkat nama> (x/N konten)'
-- or '(belum input username)', ordered by jabatan, pangkat, name. *_users counts the users of
-- platforms with posts that day; belum = users with a handle who did nothing, belum_username =
-- users without a handle ("Belum" in the messages is both). A directorate's satker is one
-- division '-' (its recap lists names per satker, not per division).
CREATE OR REPLACE VIEW report_division_day AS
SELECT u.report_date, u.client_id, u.client_type, u.user_client_id, u.user_client_name, u.divisi,
       cicero_division_rank(u.divisi) AS division_rank,
       max(u.ig_posts) AS ig_posts,
       (count(*) FILTER (WHERE u.ig_posts > 0))::integer AS ig_users,
       (count(*) FILTER (WHERE u.ig_status = 'lengkap'))::integer AS ig_lengkap,
       (count(*) FILTER (WHERE u.ig_status = 'kurang'))::integer AS ig_kurang,
       (count(*) FILTER (WHERE u.ig_status = 'belum'))::integer AS ig_belum,
       (count(*) FILTER (WHERE u.ig_status = 'belum_username'))::integer AS ig_belum_username,
       sum(u.ig_done)::integer AS ig_done_total,
       max(u.tiktok_posts) AS tiktok_posts,
       (count(*) FILTER (WHERE u.tiktok_posts > 0))::integer AS tiktok_users,
       (count(*) FILTER (WHERE u.tiktok_status = 'lengkap'))::integer AS tiktok_lengkap,
       (count(*) FILTER (WHERE u.tiktok_status = 'kurang'))::integer AS tiktok_kurang,
       (count(*) FILTER (WHERE u.tiktok_status = 'belum'))::integer AS tiktok_belum,
       (count(*) FILTER (WHERE u.tiktok_status = 'belum_username'))::integer
           AS tiktok_belum_username,
       sum(u.tiktok_done)::integer AS tiktok_done_total,
       string_agg(u.ig_line, E'\n' ORDER BY u.person_rank, u.nama, u.user_id)
           FILTER (WHERE u.ig_status = 'lengkap') AS ig_lengkap_lines,
       string_agg(u.ig_line, E'\n' ORDER BY u.person_rank, u.nama, u.user_id)
           FILTER (WHERE u.ig_status = 'kurang') AS ig_kurang_lines,
       string_agg(u.ig_line, E'\n' ORDER BY u.person_rank, u.nama, u.user_id)
           FILTER (WHERE u.ig_status IN ('belum', 'belum_username')) AS ig_belum_lines,
       string_agg(u.tiktok_line, E'\n' ORDER BY u.person_rank, u.nama, u.user_id)
           FILTER (WHERE u.tiktok_status = 'lengkap') AS tiktok_lengkap_lines,
       string_agg(u.tiktok_line, E'\n' ORDER BY u.person_rank, u.nama, u.user_id)
           FILTER (WHERE u.tiktok_status = 'kurang') AS tiktok_kurang_lines,
       string_agg(u.tiktok_line, E'\n' ORDER BY u.person_rank, u.nama, u.user_id)
           FILTER (WHERE u.tiktok_status IN ('belum', 'belum_username')) AS tiktok_belum_lines
  FROM (SELECT d.report_date, d.client_id, d.client_type, d.user_client_id, d.user_client_name,
               CASE WHEN d.client_type = 'direktorat' THEN '-' ELSE d.divisi END AS divisi,
               d.user_id, d.nama COLLATE "C" AS nama,
               d.ig_posts, d.ig_done, d.ig_status, d.tiktok_posts, d.tiktok_done, d.tiktok_status,
               cicero_jabatan_rank(d.jabatan) * 100 + cicero_pangkat_rank(d.title) AS person_rank,
               CASE WHEN d.client_type = 'direktorat' AND d.ig_posts > 0
                    THEN '- ' || cicero_person_label(d.title, d.nama)
                         || CASE WHEN d.insta IS NULL AND NOT d.exception
                                 THEN ' (belum input username)'
                                 ELSE ' (' || d.ig_done || '/' || d.ig_posts || ' konten)' END
                    WHEN d.ig_posts > 0
                    THEN '- ' || cicero_person_label(d.title, d.nama) || ' : '
                         || CASE WHEN d.insta IS NOT NULL
                                 THEN '@' || d.insta || ' (' || d.ig_done || '/' || d.ig_posts
                                      || ' konten)'
                                 WHEN d.exception
                                 THEN '- (' || d.ig_done || '/' || d.ig_posts || ' konten)'
                                 ELSE 'belum mengisi data instagram' END
               END AS ig_line,
               CASE WHEN d.client_type = 'direktorat' AND d.tiktok_posts > 0
                    THEN '- ' || cicero_person_label(d.title, d.nama)
                         || CASE WHEN d.tiktok IS NULL AND NOT d.exception
                                 THEN ' (belum input username)'
                                 ELSE ' (' || d.tiktok_done || '/' || d.tiktok_posts
                                      || ' konten)' END
                    WHEN d.tiktok_posts > 0
                    THEN '- ' || cicero_person_label(d.title, d.nama) || ' : '
                         || CASE WHEN d.tiktok IS NOT NULL
                                 THEN '@' || d.tiktok || ' (' || d.tiktok_done || '/'
                                      || d.tiktok_posts || ' konten)'
                                 WHEN d.exception
                                 THEN '- (' || d.tiktok_done || '/' || d.tiktok_posts || ' konten)'
                                 ELSE 'belum mengisi data tiktok' END
               END AS tiktok_line
          FROM report_user_day d) u
 GROUP BY u.report_date, u.client_id, u.client_type, u.user_client_id, u.user_client_name,
          u.divisi;
