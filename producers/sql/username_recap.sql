-- Queries of producers/jobs/username_recap.py.

-- name: people
-- Every person of every active client's audience (report_audience: handles normalised, NULL =
-- not filled in), in the order of the lists (satfung, jabatan, pangkat, name).
SELECT a.client_id, c.nama AS client_name, a.user_id,
       cicero_person_label(a.title, a.nama) AS person, a.divisi,
       a.insta IS NOT NULL AS has_insta, a.tiktok IS NOT NULL AS has_tiktok
  FROM report_audience a
  JOIN cicero_clients() c ON c.client_id = a.client_id AND c.client_status
 ORDER BY a.client_id, cicero_division_rank(a.divisi), a.divisi, cicero_jabatan_rank(a.jabatan),
          cicero_pangkat_rank(a.title), a.nama, a.user_id
