-- layer: 1
-- Who is counted for a client: active users only (status true).
-- * Org (and any non-directorate) client: the users whose client_id is the client and, where
--   the database has roles (user_roles), who hold the role 'operator', as the old scheduled
--   org recap counted them (a user whose operator role was removed stays out even while his
--   status is still true). Without user_roles every active user of the client counts.
-- * Directorate client: the users holding the directorate's role (role_name =
--   lower(client_id)), whatever their own satker.
-- Handles are normalised here once; NULL = no handle ("belum input username").
CREATE OR REPLACE VIEW report_audience AS
SELECT c.client_id,
       lower(coalesce(c.client_type, 'org')) AS client_type,
       u.user_id,
       c.client_id AS user_client_id,
       c.nama AS user_client_name,
       u.title,
       u.nama,
       coalesce(nullif(btrim(u.divisi), ''), '-') AS divisi,
       u.jabatan,
       cicero_ig_handle(u.insta) AS insta,
       cicero_tiktok_handle(u.tiktok) AS tiktok,
       coalesce(u.exception, false) AS exception
  FROM cicero_clients() c
  JOIN cicero_users() u ON lower(u.client_id) = lower(c.client_id)
 WHERE u.status
   AND lower(coalesce(c.client_type, 'org')) <> 'direktorat'
   AND (NOT cicero_has_user_roles()
        OR u.user_id IN (SELECT ur.user_id FROM cicero_user_roles() ur
                          WHERE lower(ur.role_name) = 'operator'))
UNION ALL
SELECT c.client_id,
       'direktorat' AS client_type,
       u.user_id,
       coalesce(uc.client_id, u.client_id) AS user_client_id,
       coalesce(uc.nama, u.client_id) AS user_client_name,
       u.title,
       u.nama,
       coalesce(nullif(btrim(u.divisi), ''), '-') AS divisi,
       u.jabatan,
       cicero_ig_handle(u.insta) AS insta,
       cicero_tiktok_handle(u.tiktok) AS tiktok,
       coalesce(u.exception, false) AS exception
  FROM cicero_clients() c
  JOIN cicero_user_roles() ur ON lower(ur.role_name) = lower(c.client_id)
  JOIN cicero_users() u ON u.user_id = ur.user_id
  LEFT JOIN cicero_clients() uc ON lower(uc.client_id) = lower(u.client_id)
 WHERE u.status
   AND lower(c.client_type) = 'direktorat';
