-- layer: 1
-- TikTok task posts: one row per (client, video) with the video's Jakarta day: the client's
-- own videos and, for directorate clients, videos tagged with the client's role in
-- tiktok_post_roles (domain §2.1).
CREATE OR REPLACE VIEW report_tiktok_post AS
SELECT c.client_id,
       (p.created_at AT TIME ZONE 'Asia/Jakarta')::date AS report_date,
       p.video_id,
       p.created_at
  FROM tiktok_post p
  JOIN clients c ON lower(c.client_id) = lower(p.client_id)
UNION
SELECT c.client_id,
       (p.created_at AT TIME ZONE 'Asia/Jakarta')::date AS report_date,
       p.video_id,
       p.created_at
  FROM tiktok_post_roles r
  JOIN tiktok_post p ON p.video_id = r.video_id
  JOIN clients c ON lower(c.client_id) = lower(r.role_name)
                AND lower(c.client_type) = 'direktorat';
