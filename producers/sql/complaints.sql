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
-- The complainant's personnel row (by NRP, digits compared) and his client. The handles are
-- normalised as the reports normalise them (report_audience: cicero_ig_handle,
-- cicero_tiktok_handle); whatsapp_jid is the registered number as the outbox would take it
-- (wa_parse_recipient), NULL with whatsapp_problem when it is missing or unusable.
SELECT u.user_id, u.nama, u.title, u.divisi, u.jabatan, u.insta, u.tiktok, u.whatsapp,
       cicero_ig_handle(u.insta) AS ig_handle, cicero_tiktok_handle(u.tiktok) AS tt_handle,
       coalesce(u.exception, false) AS exception,
       w.jid AS whatsapp_jid, w.problem AS whatsapp_problem,
       coalesce(u.status, true) AS active, u.client_id,
       c.client_id AS client_key, c.nama AS client_nama, lower(c.client_type) AS client_type,
       c.client_operator, c.client_tiktok
  FROM cicero_users() u
  LEFT JOIN cicero_clients() c ON lower(c.client_id) = lower(u.client_id)
 CROSS JOIN LATERAL wa_parse_recipient(u.whatsapp) w
 WHERE u.user_id = %(nrp)s
    OR regexp_replace(u.user_id, '[^0-9]', '', 'g') = %(nrp)s
 ORDER BY (u.user_id = %(nrp)s) DESC, u.user_id
 LIMIT 1

-- name: valid_recipients
-- The entries of a multi-value contact field the outbox accepts, as canonical JIDs,
-- deduplicated, in the order written. Split by cicero_split_list, the reports' own splitter
-- (',', ';', CR, LF), so a complaint forward reaches the operators a recap reaches.
SELECT r.jid
  FROM cicero_split_list(%(raw)s) AS e
 CROSS JOIN LATERAL wa_parse_recipient(e.item) AS r
 WHERE r.problem IS NULL
 GROUP BY r.jid
 ORDER BY min(e.ord)

-- name: last_recap
-- The most recent recap of the client's day that the producers recorded as run (producer_run,
-- status done) at or before %(at)s, within %(lookback)s days, and that enqueued a message
-- about that client. The period comes from the run's slot: daily_report covers the Jakarta day
-- before its slot, the same-day recaps their slot's day up to the slot. Whether the client was
-- in the run is read from the run's outbox rows, looked up by their exact keys through the
-- dedupe index: <job>:<period key>:<message_key>[#1]:<recipient> (producers/jobs/reports.py;
-- the period key is the day, plus THHMM for a same-day recap; message_key
-- daily:<CLIENT>:ig|tiktok|dir_ig|dir_tiktok) for each of the client's group, operator and
-- super admin recipients as the reports canonicalise them. A scan of wa_outbox by key prefix
-- would read the whole table (seconds at 300 000 rows); these probes read a few index pages.
WITH c AS (
    SELECT c.client_id, c.client_group, c.client_operator, c.client_super
      FROM cicero_clients() c
     WHERE c.client_id = %(client_id)s::text),
recipient AS (
    SELECT DISTINCT p.jid
      FROM c
     CROSS JOIN LATERAL (
           SELECT cicero_group_id(s.item) AS v FROM cicero_split_list(c.client_group) s
           UNION ALL SELECT s.item FROM cicero_split_list(c.client_operator) s
           UNION ALL SELECT s.item FROM cicero_split_list(c.client_super) s) x
     CROSS JOIN LATERAL wa_parse_recipient(x.v) p
     WHERE p.jid IS NOT NULL),
run AS (
    SELECT r.job, r.slot,
           r.job || ':'
           || CASE WHEN r.job = 'daily_report'
                   THEN ((r.slot AT TIME ZONE 'Asia/Jakarta')::date - 1)::text
                   ELSE (r.slot AT TIME ZONE 'Asia/Jakarta')::date::text || 'T'
                        || to_char(r.slot AT TIME ZONE 'Asia/Jakarta', 'HH24MI') END
           || ':daily:' || %(client_id)s::text || ':' AS prefix
      FROM producer_run r
     WHERE r.job = ANY(%(jobs)s::text[])
       AND r.status = 'done'
       AND r.slot <= %(at)s::timestamptz
       AND r.slot > %(at)s::timestamptz - make_interval(days => %(lookback)s::integer))
SELECT run.job, run.slot
  FROM run
 WHERE EXISTS (
       SELECT 1
         FROM recipient
        CROSS JOIN unnest(ARRAY['ig', 'tiktok', 'dir_ig', 'dir_tiktok']) AS m (key)
        CROSS JOIN unnest(ARRAY['', '#1']) AS part (suffix)
         JOIN wa_outbox o
           ON o.dedupe_key = run.prefix || m.key || part.suffix || ':' || recipient.jid)
 ORDER BY run.slot DESC, run.job
 LIMIT 1

-- name: instagram_liked_count
-- Distinct Instagram task posts of the client (report_ig_post: own, collaboration, directorate
-- role; the reports' own definition) created in [start, until] whose like list holds the
-- handle, matched by the reports' rule (cicero_ig_like_handle; strings or {"username": ...}).
SELECT count(*)
  FROM report_ig_post cp
  JOIN cicero_insta_likes() l ON l.shortcode = cp.shortcode
 WHERE lower(cp.client_id) = lower(%(client_id)s)
   AND cp.created_at >= %(start)s AND cp.created_at <= %(until)s
   AND jsonb_typeof(l.likes) = 'array'
   AND (l.likes @> jsonb_build_array(%(handle)s::text)  -- the current writer's form
        OR (strpos(lower(l.likes::text), %(handle)s) > 0     -- cheap pre-filter, then exact
            AND EXISTS (
                SELECT 1 FROM jsonb_array_elements_text(l.likes) AS e (v)
                 WHERE cicero_ig_like_handle(e.v) = %(handle)s)))

-- name: tiktok_commented_count
-- Distinct TikTok task videos of the client (report_tiktok_post) created in [start, until]
-- whose comment list holds the handle (cicero_tiktok_comment_handle, the reports' rule).
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
                SELECT 1 FROM jsonb_array_elements_text(c.comments) AS e (v)
                 WHERE cicero_tiktok_comment_handle(e.v) = %(handle)s)))

-- name: instagram_period
-- The client's Instagram task posts of one Jakarta day uploaded (original_created_at, else
-- created_at, as the same-day recaps count them) up to %(upto)s, with what the user did on
-- each: liked (his handle in the like list, by the reports' rule) and reported (a link_report
-- row with at least one non-empty link).
SELECT cp.shortcode,
       coalesce(p.caption, '') AS caption,
       EXISTS (
           SELECT 1
             FROM cicero_insta_likes() l
            CROSS JOIN LATERAL jsonb_array_elements_text(
                      CASE WHEN jsonb_typeof(l.likes) = 'array' THEN l.likes
                           ELSE '[]'::jsonb END) AS e (v)
            WHERE l.shortcode = cp.shortcode
              AND cicero_ig_like_handle(e.v) = %(handle)s) AS liked,
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
   AND coalesce(p.original_created_at, p.created_at) <= %(upto)s::timestamptz
 ORDER BY cp.created_at, cp.shortcode

-- name: tiktok_period
-- The client's TikTok task videos of one Jakarta day uploaded up to %(upto)s, whether the
-- user's handle commented (cicero_tiktok_comment_handle, the reports' rule), and the link the
-- recaps print (https://www.tiktok.com/@<client_tiktok>/video/<id>).
SELECT cv.video_id,
       coalesce(p.caption, '') AS caption,
       'https://www.tiktok.com/@'
       || coalesce(nullif(btrim(pc.client_tiktok, ' @'), ''), lower(pc.client_id))
       || '/video/' || cv.video_id AS link,
       EXISTS (
           SELECT 1
             FROM cicero_tiktok_comments() c
            CROSS JOIN LATERAL jsonb_array_elements_text(
                      CASE WHEN jsonb_typeof(c.comments) = 'array' THEN c.comments
                           ELSE '[]'::jsonb END) AS e (v)
            WHERE c.video_id = cv.video_id
              AND cicero_tiktok_comment_handle(e.v) = %(handle)s) AS commented
  FROM report_tiktok_post cv
  JOIN cicero_tiktok_posts() p ON p.video_id = cv.video_id
  JOIN cicero_clients() pc ON pc.client_id = cv.client_id
 WHERE lower(cv.client_id) = lower(%(client_id)s)
   AND cv.report_date = %(day)s
   AND coalesce(p.original_created_at, p.created_at) <= %(upto)s::timestamptz
 ORDER BY cv.created_at, cv.video_id

-- name: inbox_received_at
SELECT received_at FROM wa_inbox WHERE id = %(id)s
