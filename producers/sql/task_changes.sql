-- Queries of producers/task_changes.py (the change part of the Daftar Tugas job). Its state is
-- task_change_state (per Jakarta day and client: the posts and links already announced).

-- name: posts
-- The task posts of every active client on the Jakarta day %(day)s created up to %(as_of)s
-- (the same posts as task_delivery_recap_at's list), oldest first.
SELECT p.client_id, 'ig' AS platform, p.shortcode AS post_id, ip.caption, p.created_at
  FROM report_ig_post p
  JOIN cicero_insta_posts() ip ON ip.shortcode = p.shortcode
  JOIN cicero_clients() c ON c.client_id = p.client_id AND c.client_status
 WHERE p.report_date = %(day)s::date AND p.created_at <= %(as_of)s::timestamptz
UNION ALL
SELECT p.client_id, 'tiktok', p.video_id,  tp.caption, p.created_at
  FROM report_tiktok_post p
  JOIN cicero_tiktok_posts() tp ON tp.video_id = p.video_id
  JOIN cicero_clients() c ON c.client_id = p.client_id AND c.client_status
 WHERE p.report_date = %(day)s::date AND p.created_at <= %(as_of)s::timestamptz
 ORDER BY client_id, platform, created_at, post_id

-- name: links
-- The amplification links reported for those Instagram posts (link_report), with a
-- fingerprint of the five links and the reporter's name.
SELECT p.client_id, l.shortcode, l.user_id,
       btrim(concat_ws(' ', u.title, u.nama)) AS person,
       l.instagram_link, l.facebook_link, l.twitter_link, l.tiktok_link, l.youtube_link,
       md5(concat_ws(E'\x1f', coalesce(l.instagram_link, ''), coalesce(l.facebook_link, ''),
                     coalesce(l.twitter_link, ''), coalesce(l.tiktok_link, ''),
                     coalesce(l.youtube_link, ''))) AS fingerprint
  FROM report_ig_post p
  JOIN cicero_clients() c ON c.client_id = p.client_id AND c.client_status
  JOIN cicero_link_reports() l ON l.shortcode = p.shortcode
  LEFT JOIN cicero_users() u ON u.user_id = l.user_id
 WHERE p.report_date = %(day)s::date AND p.created_at <= %(as_of)s::timestamptz
 ORDER BY p.client_id, l.shortcode, l.user_id

-- name: clients
-- Name and group recipients of the given clients (client_group, split and canonicalised as
-- report_recipient does); a client with no group gives one row with recipient NULL.
SELECT c.client_id, c.nama,
       coalesce(nullif(btrim(c.client_tiktok, ' @'), ''), lower(c.client_id)) AS tiktok_account,
       r.recipient, r.recipient_valid
  FROM cicero_clients() c
  LEFT JOIN report_recipient r ON r.client_id = c.client_id AND r.recipient_role = 'group'
 WHERE c.client_id = ANY(%(clients)s::text[])
 ORDER BY c.client_id, r.recipient_rank

-- name: state
-- The state of the active clients (a client switched off is not told its posts are gone).
SELECT s.client_id, s.ig_posts, s.tiktok_posts, s.links, s.ig_added, s.tiktok_added,
       s.ig_deleted, s.tiktok_deleted, s.link_changes
  FROM task_change_state s
  JOIN cicero_clients() c ON c.client_id = s.client_id AND c.client_status
 WHERE s.task_date = %(day)s::date

-- name: listed_today
-- The task_list_hash of the newest Daftar Tugas enqueued that day per client (a client's
-- first run of the day takes the posts of that list as announced).
SELECT DISTINCT ON (client_id) client_id, task_list_hash
  FROM task_recap_state
 WHERE task_date = %(day)s::date
 ORDER BY client_id, enqueued_at DESC

-- name: save
INSERT INTO task_change_state (task_date, client_id, ig_posts, tiktok_posts, links, ig_added,
                               tiktok_added, ig_deleted, tiktok_deleted, link_changes,
                               updated_at)
VALUES (%(day)s::date, %(client_id)s, %(ig_posts)s::text[], %(tiktok_posts)s::text[],
        %(links)s::jsonb, %(ig_added)s, %(tiktok_added)s, %(ig_deleted)s, %(tiktok_deleted)s,
        %(link_changes)s, now())
ON CONFLICT (task_date, client_id) DO UPDATE
   SET ig_posts = EXCLUDED.ig_posts, tiktok_posts = EXCLUDED.tiktok_posts,
       links = EXCLUDED.links, ig_added = EXCLUDED.ig_added,
       tiktok_added = EXCLUDED.tiktok_added, ig_deleted = EXCLUDED.ig_deleted,
       tiktok_deleted = EXCLUDED.tiktok_deleted, link_changes = EXCLUDED.link_changes,
       updated_at = EXCLUDED.updated_at

-- name: forget
DELETE FROM task_change_state WHERE task_date < %(before)s::date
