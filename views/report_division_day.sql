-- layer: 4
-- Per (report_date, audience client, platform, divisi): counts and the name lists of the org
-- recap (domain §3.1), each person as '- <pangkat nama> : @handle (x/N konten)', ordered by
-- jabatan, pangkat, name (§2.5).
CREATE OR REPLACE VIEW report_division_day AS
SELECT report_date, client_id, client_type, platform, divisi,
       cicero_division_rank(divisi) AS division_rank,
       count(*)::integer AS users,
       count(*) FILTER (WHERE status = 'lengkap')::integer AS lengkap,
       count(*) FILTER (WHERE status = 'kurang')::integer AS kurang,
       count(*) FILTER (WHERE status IN ('belum', 'belum_username'))::integer AS belum,
       count(*) FILTER (WHERE status = 'belum_username')::integer AS belum_username,
       coalesce(string_agg(line, E'\n' ORDER BY person_rank, nama, user_id)
                    FILTER (WHERE status = 'lengkap'), '-') AS lengkap_lines,
       coalesce(string_agg(line, E'\n' ORDER BY person_rank, nama, user_id)
                    FILTER (WHERE status = 'kurang'), '-') AS kurang_lines,
       coalesce(string_agg(line, E'\n' ORDER BY person_rank, nama, user_id)
                    FILTER (WHERE status IN ('belum', 'belum_username')), '-') AS belum_lines
  FROM (SELECT u.*,
               cicero_jabatan_rank(u.jabatan) * 100 + cicero_pangkat_rank(u.title) AS person_rank,
               '- ' || cicero_person_label(u.title, u.nama) || ' : '
               || CASE WHEN u.handle IS NULL
                       THEN 'belum mengisi data ' || CASE u.platform WHEN 'instagram' THEN 'instagram'
                                                                     ELSE 'tiktok' END
                       ELSE '@' || u.handle || ' (' || u.done || '/' || u.posts || ' konten)' END
                   AS line
          FROM report_user_platform_day u) s
 GROUP BY report_date, client_id, client_type, platform, divisi;
