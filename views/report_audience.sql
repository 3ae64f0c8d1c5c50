-- layer: 1
-- Who is counted for a client (domain §2.2): active users only. Org (and any non-directorate)
-- client: the users whose client_id is the client. Directorate client: the users holding the
-- directorate's role (role_name = lower(client_id)), whatever their own satker.
-- Handles are normalised here once (§2.2); NULL = no handle ("belum input username").
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
  FROM clients c
  JOIN "user" u ON lower(u.client_id) = lower(c.client_id)
 WHERE u.status
   AND lower(coalesce(c.client_type, 'org')) <> 'direktorat'
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
  FROM clients c
  JOIN roles r ON lower(r.role_name) = lower(c.client_id)
  JOIN user_roles ur ON ur.role_id = r.role_id
  JOIN "user" u ON u.user_id = ur.user_id
  LEFT JOIN clients uc ON lower(uc.client_id) = lower(u.client_id)
 WHERE u.status
   AND lower(c.client_type) = 'direktorat';
