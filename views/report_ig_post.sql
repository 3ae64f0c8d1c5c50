-- layer: 1
-- Instagram task posts: one row per (client, post) with the post's Jakarta day. A post is a
-- task of a client when it is the client's own post (insta_post.client_id), a collaboration
-- post linked to the client (insta_post_clients, where the database has it), or (directorate
-- clients) tagged with the client's role (insta_post_roles). Client ids are matched
-- case-insensitively and reported in their canonical clients.client_id spelling.
-- Reads Cicero only through the adapter (cicero_*(), views/adapter.py): created_at is a
-- timestamptz and report_date its Jakarta day whatever the column's type in this database.
-- Filter on report_date: it reaches the post table's scan in every branch.
-- A same-day recap (outbox.report_upto set, see report_upto.sql) sees only the posts uploaded
-- (original_created_at, else created_at) up to that moment.
CREATE OR REPLACE VIEW report_ig_post AS
SELECT c.client_id,
       p.report_date,
       p.shortcode,
       p.created_at
  FROM cicero_insta_posts() p
  JOIN cicero_clients() c ON lower(c.client_id) = lower(p.client_id)
 WHERE coalesce(p.original_created_at, p.created_at) <= report_upto()
UNION
SELECT c.client_id,
       p.report_date,
       p.shortcode,
       p.created_at
  FROM cicero_insta_post_links() pc
  JOIN cicero_insta_posts() p ON p.shortcode = pc.shortcode
  JOIN cicero_clients() c ON lower(c.client_id) = lower(pc.client_id)
 WHERE coalesce(p.original_created_at, p.created_at) <= report_upto()
UNION
SELECT c.client_id,
       p.report_date,
       p.shortcode,
       p.created_at
  FROM cicero_insta_post_roles() r
  JOIN cicero_insta_posts() p ON p.shortcode = r.shortcode
  JOIN cicero_clients() c ON lower(c.client_id) = lower(r.role_name)
                         AND lower(c.client_type) = 'direktorat'
 WHERE coalesce(p.original_created_at, p.created_at) <= report_upto();
