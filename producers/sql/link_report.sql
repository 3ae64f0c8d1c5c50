-- Queries of producers/jobs/link_report.py: the amplification links (link_report) personnel
-- reported for the Instagram task posts of a Jakarta day or month. A client counts when it is
-- active with amplification on (client_amplify_status); its people are report_audience's.

-- name: posts
-- The Instagram task posts of those clients on %(day)s created up to %(as_of)s, in order.
SELECT p.client_id, p.shortcode
  FROM report_ig_post p
  JOIN cicero_clients() c ON c.client_id = p.client_id
                         AND c.client_status AND c.client_amplify_status
 WHERE p.report_date = %(day)s::date AND p.created_at <= %(as_of)s::timestamptz
 ORDER BY p.client_id, p.created_at, p.shortcode

-- name: people
-- Per client with such posts, every person of its audience (a directorate: only the people of
-- the directorate itself, as the old per-client link recap): the posts he reported links for
-- (a link_report row with at least one non-empty link) and the number of links, in the
-- order of the lists (satfung, jabatan, pangkat, name).
WITH posts AS (
    SELECT p.client_id, p.shortcode
      FROM report_ig_post p
      JOIN cicero_clients() c ON c.client_id = p.client_id
                             AND c.client_status AND c.client_amplify_status
     WHERE p.report_date = %(day)s::date AND p.created_at <= %(as_of)s::timestamptz),
n AS (SELECT client_id, count(*)::integer AS posts FROM posts GROUP BY client_id),
l AS (
    SELECT p.client_id, r.user_id, r.shortcode,
           ((nullif(btrim(r.instagram_link), '') IS NOT NULL)::integer
            + (nullif(btrim(r.facebook_link), '') IS NOT NULL)::integer
            + (nullif(btrim(r.twitter_link), '') IS NOT NULL)::integer
            + (nullif(btrim(r.tiktok_link), '') IS NOT NULL)::integer
            + (nullif(btrim(r.youtube_link), '') IS NOT NULL)::integer) AS links
      FROM posts p
      JOIN cicero_link_reports() r ON r.shortcode = p.shortcode)
SELECT a.client_id, c.nama AS client_name, n.posts, a.user_id,
       cicero_person_label(a.title, a.nama) AS person, a.divisi, a.exception,
       (count(DISTINCT l.shortcode) FILTER (WHERE l.links > 0))::integer AS done,
       coalesce(sum(l.links), 0)::integer AS links
  FROM n
  JOIN cicero_clients() c ON c.client_id = n.client_id
  JOIN report_audience a ON a.client_id = n.client_id AND a.user_client_id = a.client_id
  LEFT JOIN l ON l.client_id = a.client_id AND l.user_id = a.user_id
 GROUP BY a.client_id, c.nama, n.posts, a.user_id, a.title, a.nama, a.divisi, a.jabatan,
          a.exception
 ORDER BY a.client_id, cicero_division_rank(a.divisi), a.divisi, cicero_jabatan_rank(a.jabatan),
          cicero_pangkat_rank(a.title), a.nama, a.user_id

-- name: orphans
-- link_report rows whose post no longer exists (bad input: logged once per run).
SELECT count(*)::integer, min(r.shortcode)
  FROM cicero_link_reports() r
 WHERE NOT EXISTS (SELECT 1 FROM cicero_insta_posts() p WHERE p.shortcode = r.shortcode)

-- name: month_links
-- Every link_report row of the audience of the given clients for their Instagram task posts
-- of %(start)s .. %(end)s (the monthly workbook), ordered by client, day and person.
SELECT a.client_id, p.report_date, cicero_person_label(a.title, a.nama) AS person,
       a.user_id, a.divisi, r.shortcode, r.instagram_link, r.facebook_link, r.twitter_link,
       r.tiktok_link, r.youtube_link
  FROM report_ig_post p
  JOIN cicero_clients() c ON c.client_id = p.client_id
                         AND c.client_status AND c.client_amplify_status
  JOIN cicero_link_reports() r ON r.shortcode = p.shortcode
  JOIN report_audience a ON a.client_id = p.client_id AND a.user_id = r.user_id
                         AND a.user_client_id = a.client_id
 WHERE p.report_date BETWEEN %(start)s::date AND %(end)s::date
 ORDER BY a.client_id, p.report_date, cicero_division_rank(a.divisi), a.divisi, a.nama,
          a.user_id, r.shortcode

-- name: amplify_clients
-- The active clients with amplification on: id and name.
SELECT client_id, nama FROM cicero_clients()
 WHERE client_status AND client_amplify_status
 ORDER BY client_id
