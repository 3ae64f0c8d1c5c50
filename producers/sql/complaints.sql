-- Complaint intake (wa_inbox -> complaint_queue) and the data behind the standard answers.
-- Every "today" is a Jakarta day passed in as a date; no query reads the session time zone.

-- name: claim_inbox
-- Unprocessed inbound messages, oldest first; rows another intake holds are skipped. The
-- sender's canonical JID comes from wa_jid, the outbox's own recipient rule.
SELECT id, session_name, chat, sender, wa_message_id, text, from_me,
       wa_jid(sender) AS sender_jid
  FROM wa_inbox
 WHERE processed_at IS NULL
 ORDER BY id
 LIMIT %(limit)s
   FOR UPDATE SKIP LOCKED

-- name: mark_inbox
UPDATE wa_inbox
   SET processed_at = now(), process_result = %(result)s
 WHERE id = %(id)s

-- name: recipient_ok
-- Which of the inbox row's chat / sender the outbox would accept as a recipient.
SELECT (SELECT r.problem IS NULL FROM wa_parse_recipient(%(chat)s) AS r)   AS chat_ok,
       (SELECT r.problem IS NULL FROM wa_parse_recipient(%(sender)s) AS r) AS sender_ok

-- name: insert_complaint
INSERT INTO complaint_queue (complainant, session_name, inbox_id, nrp, reporter_name, polres,
                             instagram, tiktok, issues, raw_text)
VALUES (%(complainant)s, %(session_name)s, %(inbox_id)s, %(nrp)s, %(reporter_name)s,
        %(polres)s, %(instagram)s, %(tiktok)s, %(issues)s, %(raw_text)s)
ON CONFLICT (inbox_id) WHERE inbox_id IS NOT NULL DO NOTHING
RETURNING id

-- name: complaint_of_inbox
SELECT id FROM complaint_queue WHERE inbox_id = %(inbox_id)s

-- name: personnel
-- The complainant's personnel row (by NRP, digits compared) and his client.
SELECT u.user_id, u.nama, u.title, u.divisi, u.jabatan, u.insta, u.tiktok, u.whatsapp,
       coalesce(u.status, true) AS active, u.client_id,
       c.client_id AS client_key, c.nama AS client_nama, lower(c.client_type) AS client_type,
       c.client_operator
  FROM cicero_users() u
  LEFT JOIN cicero_clients() c ON lower(c.client_id) = lower(u.client_id)
 WHERE u.user_id = %(nrp)s
    OR regexp_replace(u.user_id, '[^0-9]', '', 'g') = %(nrp)s
 ORDER BY (u.user_id = %(nrp)s) DESC, u.user_id
 LIMIT 1

-- name: valid_recipients
-- The entries of a multi-value contact field (split on , ; newline) the outbox accepts, as
-- canonical JIDs, deduplicated, in the order written.
SELECT r.jid
  FROM regexp_split_to_table(coalesce(%(raw)s, ''), '[,;\n]+') WITH ORDINALITY AS e (v, n)
 CROSS JOIN LATERAL wa_parse_recipient(e.v) AS r
 WHERE btrim(e.v) <> '' AND r.problem IS NULL
 GROUP BY r.jid
 ORDER BY min(e.n)

-- name: instagram_liked_count
-- Distinct Instagram task posts of the client (report_ig_post: own, collaboration, directorate
-- role; the reports' own definition) created in [start, until] whose like list holds the
-- handle, matched by the reports' rule (cicero_ig_handle; strings or {"username": ...}).
SELECT count(*)
  FROM report_ig_post cp
  JOIN cicero_insta_likes() l ON l.shortcode = cp.shortcode
 WHERE lower(cp.client_id) = lower(%(client_id)s)
   AND cp.created_at >= %(start)s AND cp.created_at <= %(until)s
   AND jsonb_typeof(l.likes) = 'array'
   AND (l.likes @> jsonb_build_array(%(handle)s::text)  -- the current writer's form
        OR (strpos(lower(l.likes::text), %(handle)s) > 0     -- cheap pre-filter, then exact
            AND EXISTS (
                SELECT 1 FROM jsonb_array_elements(l.likes) AS e
                 WHERE cicero_ig_handle(coalesce(e ->> 'username', e #>> '{}'))
                       = %(handle)s)))

-- name: tiktok_commented_count
-- Distinct TikTok task videos of the client (report_tiktok_post) created in [start, until]
-- whose comment list holds the handle (cicero_tiktok_handle, the reports' rule).
SELECT count(*)
  FROM report_tiktok_post cv
  JOIN cicero_tiktok_comments() c ON c.video_id = cv.video_id
 WHERE lower(cv.client_id) = lower(%(client_id)s)
   AND cv.created_at >= %(start)s AND cv.created_at <= %(until)s
   AND jsonb_typeof(c.comments) = 'array'
   AND (c.comments @> jsonb_build_array('@' || %(handle)s::text)  -- the writers' forms
        OR c.comments @> jsonb_build_array(%(handle)s::text)
        OR (strpos(lower(c.comments::text), %(handle)s) > 0     -- cheap pre-filter, then exact
            AND EXISTS (
                SELECT 1 FROM jsonb_array_elements(c.comments) AS e
                 WHERE cicero_tiktok_handle(coalesce(e ->> 'username', e #>> '{}'))
                       = %(handle)s)))

-- name: instagram_today
-- The client's Instagram task posts of one Jakarta day with what the user did on each: liked
-- (his handle in the like list, by the reports' rule) and reported (a link_report row with at
-- least one non-empty link).
SELECT cp.shortcode,
       coalesce(p.caption, '') AS caption,
       EXISTS (
           SELECT 1
             FROM cicero_insta_likes() l
            CROSS JOIN LATERAL jsonb_array_elements(
                      CASE WHEN jsonb_typeof(l.likes) = 'array' THEN l.likes
                           ELSE '[]'::jsonb END) AS e
            WHERE l.shortcode = cp.shortcode
              AND cicero_ig_handle(coalesce(e ->> 'username', e #>> '{}'))
                  = %(handle)s) AS liked,
       EXISTS (
           SELECT 1
             FROM cicero_link_reports() lr
            WHERE lr.shortcode = cp.shortcode AND lr.user_id = %(user_id)s
              AND (coalesce(btrim(lr.instagram_link), '') <> ''
                   OR coalesce(btrim(lr.facebook_link), '') <> ''
                   OR coalesce(btrim(lr.twitter_link), '') <> ''
                   OR coalesce(btrim(lr.tiktok_link), '') <> ''
                   OR coalesce(btrim(lr.youtube_link), '') <> '')) AS reported
  FROM report_ig_post cp
  JOIN cicero_insta_posts() p ON p.shortcode = cp.shortcode
 WHERE lower(cp.client_id) = lower(%(client_id)s)
   AND cp.report_date = %(day)s
 ORDER BY cp.created_at, cp.shortcode

-- name: tiktok_today
-- The client's TikTok task videos of one Jakarta day and whether the user's handle commented.
SELECT cv.video_id,
       EXISTS (
           SELECT 1
             FROM cicero_tiktok_comments() c
            CROSS JOIN LATERAL jsonb_array_elements(
                      CASE WHEN jsonb_typeof(c.comments) = 'array' THEN c.comments
                           ELSE '[]'::jsonb END) AS e
            WHERE c.video_id = cv.video_id
              AND cicero_tiktok_handle(coalesce(e ->> 'username', e #>> '{}'))
                  = %(handle)s) AS commented
  FROM report_tiktok_post cv
 WHERE lower(cv.client_id) = lower(%(client_id)s)
   AND cv.report_date = %(day)s
 ORDER BY cv.created_at, cv.video_id
