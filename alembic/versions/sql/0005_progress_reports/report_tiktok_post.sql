-- layer: 1
-- TikTok task posts: one row per (client, video) with the video's Jakarta day: the client's
-- own videos and, for directorate clients, videos tagged with the client's role in
-- tiktok_post_roles. Reads Cicero through the adapter (see report_ig_post).
-- A same-day recap (outbox.report_upto set, see report_upto.sql) sees only the posts uploaded
-- (original_created_at, else created_at) up to that moment.
CREATE OR REPLACE VIEW report_tiktok_post AS
SELECT c.client_id,
       p.report_date,
       p.video_id,
       p.created_at
  FROM cicero_tiktok_posts() p
  JOIN cicero_clients() c ON lower(c.client_id) = lower(p.client_id)
 WHERE coalesce(p.original_created_at, p.created_at) <= report_upto()
UNION
SELECT c.client_id,
       p.report_date,
       p.video_id,
       p.created_at
  FROM cicero_tiktok_post_roles() r
  JOIN cicero_tiktok_posts() p ON p.video_id = r.video_id
  JOIN cicero_clients() c ON lower(c.client_id) = lower(r.role_name)
                         AND lower(c.client_type) = 'direktorat'
 WHERE coalesce(p.original_created_at, p.created_at) <= report_upto();
