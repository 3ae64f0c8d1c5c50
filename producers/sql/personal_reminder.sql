-- Queries of producers/jobs/personal_reminder.py. Its state is personal_reminder_state (per
-- Jakarta day, personal chat and client: the last reminder stage enqueued).

-- name: tasks
-- Per opted-in person (cicero_users().wa_notification_opt_in; false where the database has no
-- such column) of an active client's audience with task posts on %(day)s up to %(as_of)s:
-- one row per post with whether he did it (his handle in the post's like / comment list), and
-- his personal chat (wa_parse_recipient of "user".whatsapp: chat NULL and the problem when it
-- is not usable). Exception users and people of clients without posts give no row.
WITH posts AS (
    SELECT p.client_id, 'ig' AS kind, p.shortcode AS post_id, p.created_at
      FROM report_ig_post p
     WHERE p.report_date = %(day)s::date AND p.created_at <= %(as_of)s::timestamptz
    UNION ALL
    SELECT p.client_id, 'tiktok', p.video_id, p.created_at
      FROM report_tiktok_post p
     WHERE p.report_date = %(day)s::date AND p.created_at <= %(as_of)s::timestamptz),
people AS (
    SELECT a.client_id, a.user_id, cicero_person_label(a.title, a.nama) AS person, a.insta,
           a.tiktok, u.whatsapp
      FROM report_audience a
      JOIN cicero_users() u ON u.user_id = a.user_id
      JOIN cicero_clients() c ON c.client_id = a.client_id AND c.client_status
     WHERE u.wa_notification_opt_in AND NOT a.exception
       AND a.client_id IN (SELECT client_id FROM posts)),
likers AS (
    SELECT DISTINCT p.post_id, cicero_ig_like_handle(v) AS handle
      FROM posts p
      JOIN cicero_insta_likes() l ON l.shortcode = p.post_id
     CROSS JOIN LATERAL jsonb_array_elements_text(
               CASE jsonb_typeof(l.likes) WHEN 'array' THEN l.likes ELSE '[]' END) AS v
     WHERE p.kind = 'ig'),
commenters AS (
    SELECT DISTINCT p.post_id, cicero_tiktok_comment_handle(v) AS handle
      FROM posts p
      JOIN cicero_tiktok_comments() k ON k.video_id = p.post_id
     CROSS JOIN LATERAL jsonb_array_elements_text(
               CASE jsonb_typeof(k.comments) WHEN 'array' THEN k.comments ELSE '[]' END) AS v
     WHERE p.kind = 'tiktok')
SELECT pe.client_id, c.nama AS client_name,
       coalesce(nullif(btrim(c.client_tiktok, ' @'), ''), lower(c.client_id)) AS tiktok_account,
       pe.user_id, pe.person, pe.insta, pe.tiktok, w.jid AS chat, w.problem,
       p.kind, p.post_id,
       CASE p.kind
            WHEN 'ig' THEN EXISTS (SELECT 1 FROM likers x
                                    WHERE x.post_id = p.post_id AND x.handle = pe.insta)
            ELSE EXISTS (SELECT 1 FROM commenters x
                          WHERE x.post_id = p.post_id AND x.handle = pe.tiktok) END AS done
  FROM people pe
  JOIN posts p ON p.client_id = pe.client_id
  JOIN cicero_clients() c ON c.client_id = pe.client_id
 CROSS JOIN LATERAL wa_parse_recipient(coalesce(pe.whatsapp, '')) w
 ORDER BY pe.client_id, pe.user_id, p.kind, p.created_at, p.post_id

-- name: state
SELECT chat_id, client_id, last_stage, is_complete
  FROM personal_reminder_state
 WHERE date_key = %(day)s::date

-- name: save
INSERT INTO personal_reminder_state (date_key, chat_id, client_id, user_id, last_stage,
                                     is_complete, updated_at)
VALUES (%(day)s::date, %(chat)s, %(client_id)s, %(user_id)s, %(stage)s, %(complete)s, now())
ON CONFLICT (date_key, chat_id, client_id) DO UPDATE
   SET user_id = EXCLUDED.user_id, last_stage = EXCLUDED.last_stage,
       is_complete = EXCLUDED.is_complete, updated_at = EXCLUDED.updated_at

-- name: forget
DELETE FROM personal_reminder_state WHERE date_key < %(before)s::date
