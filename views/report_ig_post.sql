-- layer: 1
-- Instagram task posts: one row per (client, post) with the post's Jakarta day. A post is a
-- task of a client when it is the client's own post (insta_post.client_id), a collaboration
-- post listed in insta_post_clients, or (directorate clients) tagged with the client's role in
-- insta_post_roles (domain §2.1). Client ids are matched case-insensitively and reported in
-- their canonical clients.client_id spelling. created_at must be timestamptz (as migration
-- 0001 creates it): on a legacy install with a naive UTC column, convert it first
-- (ALTER ... TYPE timestamptz USING created_at AT TIME ZONE 'UTC').
CREATE OR REPLACE VIEW report_ig_post AS
SELECT c.client_id,
       (p.created_at AT TIME ZONE 'Asia/Jakarta')::date AS report_date,
       p.shortcode,
       p.created_at
  FROM insta_post p
  JOIN clients c ON lower(c.client_id) = lower(p.client_id)
UNION
SELECT c.client_id,
       (p.created_at AT TIME ZONE 'Asia/Jakarta')::date AS report_date,
       p.shortcode,
       p.created_at
  FROM insta_post_clients pc
  JOIN insta_post p ON p.shortcode = pc.shortcode
  JOIN clients c ON lower(c.client_id) = lower(pc.client_id)
UNION
SELECT c.client_id,
       (p.created_at AT TIME ZONE 'Asia/Jakarta')::date AS report_date,
       p.shortcode,
       p.created_at
  FROM insta_post_roles r
  JOIN insta_post p ON p.shortcode = r.shortcode
  JOIN clients c ON lower(c.client_id) = lower(r.role_name)
                AND lower(c.client_type) = 'direktorat';
