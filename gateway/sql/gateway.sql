-- Runtime queries of the WhatsApp gateway (gateway/*.py). Every parameter is cast.

-- name: try_session_lock
-- One gateway process per session: a session-level advisory lock held by the gateway's LISTEN
-- connection for its whole life (released by PostgreSQL when that connection ends).
SELECT pg_try_advisory_lock(hashtext('cicero-wa-gateway'), hashtext(%(session)s::text))

-- name: session_lock_holder
-- Who holds the session lock (for the refusal message).
SELECT a.pid, a.application_name, a.client_addr::text, a.backend_start
  FROM pg_locks AS l
  JOIN pg_stat_activity AS a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted
   AND l.classid = hashtext('cicero-wa-gateway')::oid
   AND l.objid = hashtext(%(session)s::text)::oid
   AND l.objsubid = 2
 LIMIT 1

-- name: session_lock_pid
-- The server pid of the connection holding the session lock (NULL when nobody holds it).
SELECT l.pid
  FROM pg_locks AS l
 WHERE l.locktype = 'advisory' AND l.granted
   AND l.classid = hashtext('cicero-wa-gateway')::oid
   AND l.objid = hashtext(%(session)s::text)::oid
   AND l.objsubid = 2
 LIMIT 1

-- name: take_over
-- Fenced takeover: end the lock holder's connection when the session's heartbeat is older than
-- the threshold (the process is frozen or hung), so its lock is released. Returns the pids it
-- terminated; nothing when the heartbeat is fresh.
SELECT l.pid, pg_terminate_backend(l.pid)
  FROM pg_locks AS l, wa_session AS s
 WHERE l.locktype = 'advisory' AND l.granted
   AND l.classid = hashtext('cicero-wa-gateway')::oid
   AND l.objid = hashtext(%(session)s::text)::oid
   AND l.objsubid = 2
   AND s.name = %(session)s::text
   AND (s.heartbeat_at IS NULL OR s.heartbeat_at < now() - %(stale)s::interval)

-- name: heartbeat_age
-- Seconds since the session's last heartbeat (NULL: never, or no such session).
SELECT extract(epoch FROM now() - heartbeat_at)::float8 FROM wa_session
 WHERE name = %(session)s::text

-- name: set_state
-- Record the session's state; state_changed_at moves only when the state really changes.
-- Fenced: only while the session lock is held by %(lock_pid)s (the owner's LISTEN connection),
-- when given, so a process that lost the lock never writes the session's state.
UPDATE wa_session
   SET state = %(state)s::text,
       state_detail = %(detail)s::text,
       state_changed_at = CASE WHEN state IS DISTINCT FROM %(state)s::text THEN now()
                               ELSE state_changed_at END,
       heartbeat_at = now()
 WHERE name = %(session)s::text
   AND (%(lock_pid)s::int IS NULL OR EXISTS (
        SELECT 1 FROM pg_locks AS l
         WHERE l.locktype = 'advisory' AND l.granted AND l.pid = %(lock_pid)s::int
           AND l.classid = hashtext('cicero-wa-gateway')::oid
           AND l.objid = hashtext(%(session)s::text)::oid AND l.objsubid = 2))
RETURNING state

-- name: set_jid
UPDATE wa_session SET jid = %(jid)s::text WHERE name = %(session)s::text

-- name: heartbeat
-- Fenced like set_state: a process that lost the session lock never beats.
UPDATE wa_session SET heartbeat_at = now()
 WHERE name = %(session)s::text
   AND (%(lock_pid)s::int IS NULL OR EXISTS (
        SELECT 1 FROM pg_locks AS l
         WHERE l.locktype = 'advisory' AND l.granted AND l.pid = %(lock_pid)s::int
           AND l.classid = hashtext('cicero-wa-gateway')::oid
           AND l.objid = hashtext(%(session)s::text)::oid AND l.objsubid = 2))
RETURNING heartbeat_at

-- name: start_send
-- Just before rows are handed to WhatsApp: settle the sends done since the last such statement
-- (the same SET as outbox.sql's mark_sent_many, each under its own claim token), mark the
-- chunk's first row in flight (send_started_at) and renew its lease, and check the fence, all
-- in one statement. The chunk's rows are returned, and may be sent, only while each is still
-- leased by its claim AND its first row could be marked AND the session lock is still held by
-- %(lock_pid)s (this process's LISTEN connection); nothing when the first row's lease was lost.
-- With pacing on a chunk is one row. With pacing off it is the rest of the claim's first-attempt
-- rows (gateway/loop.py), and one marked row stands for them: release_orphans counts every
-- first-attempt row of a claim with a marked row as in flight, so one row is written per chunk,
-- not one per send. The fence does not depend on the row (one session per gateway), so
-- PostgreSQL evaluates it once.
WITH settled AS (
    UPDATE wa_outbox AS w
       SET status = 'sent',
           sent_at = coalesce(t.sent_at, now()),
           finished_at = now(),
           wa_message_id = t.wa_message_id,
           last_error = NULL,
           lease_expires_at = NULL
      FROM unnest(%(sent_id)s::bigint[], %(sent_token)s::uuid[], %(wa_message_id)s::text[],
                  %(sent_at)s::timestamptz[]) AS t(id, token, wa_message_id, sent_at)
     WHERE w.id = t.id AND w.claim_token = t.token AND w.status = 'sending'
    RETURNING w.id
), marked AS (
    UPDATE wa_outbox AS w
       SET send_started_at = now(),
           lease_expires_at = greatest(w.lease_expires_at, now() + %(lease)s::interval)
     WHERE w.id = (%(id)s::bigint[])[1] AND w.claim_token = (%(token)s::uuid[])[1]
       AND w.status = 'sending' AND w.session_name = %(session)s::text
       AND EXISTS (
            SELECT 1 FROM pg_locks AS l
             WHERE l.locktype = 'advisory' AND l.granted AND l.pid = %(lock_pid)s::int
               AND l.classid = hashtext('cicero-wa-gateway')::oid
               AND l.objid = hashtext(%(session)s::text)::oid AND l.objsubid = 2)
    RETURNING w.id
)
SELECT w.id, (SELECT count(*) FROM settled)
  FROM wa_outbox AS w
  JOIN unnest(%(id)s::bigint[], %(token)s::uuid[]) AS c(id, token)
    ON w.id = c.id AND w.claim_token = c.token
 WHERE w.status = 'sending' AND EXISTS (SELECT 1 FROM marked)

-- name: renew_lease
-- Renew the lease of the rows of a claim still being worked on (a long batch never outlives
-- its lease, so nobody takes back rows that are still going to be sent).
UPDATE wa_outbox
   SET lease_expires_at = now() + %(lease)s::interval
 WHERE claim_token = %(token)s::uuid AND status = 'sending'
RETURNING id

-- name: release_orphans
-- The new owner of a session, as soon as it holds the session lock: every row still `sending`
-- was left by a previous owner (a crash, a kill, a lost database) or by this process before it
-- reconnected. Rows never handed to WhatsApp go back to pending with the attempt uncounted.
-- The rows that were in flight follow the delivery-unknown rule (docs/concepts/delivery.md):
-- 'hold' fails them "delivery unknown", 'resend' puts them back with the attempt counted
-- (failed when the attempts are used up, so a row that kills the process every time fails
-- alone). In flight: a row marked by start_send (send_started_at), and, with pacing off, every
-- first-attempt row of a claim one of whose rows is marked, under 'resend' (the chunk the mark
-- stands for; under 'hold' and for later attempts the gateway marks each row itself).
WITH marked AS (
    SELECT DISTINCT m.claim_token
      FROM wa_outbox AS m
     WHERE m.is_open AND m.status = 'sending' AND m.session_name = %(session)s::text
       AND m.send_started_at IS NOT NULL
), orphan AS (
    SELECT o.id,
           o.send_started_at IS NOT NULL
           OR (%(policy)s::text = 'resend' AND o.attempts <= 1
               AND o.claim_token IN (SELECT claim_token FROM marked)) AS in_flight
      FROM wa_outbox AS o
     WHERE o.is_open AND o.status = 'sending' AND o.session_name = %(session)s::text
)
UPDATE wa_outbox AS w
   SET status = CASE
           WHEN NOT o.in_flight THEN 'pending'
           WHEN %(policy)s::text = 'hold' OR w.attempts >= w.max_attempts THEN 'failed'
           ELSE 'pending'
       END,
       attempts = CASE WHEN NOT o.in_flight THEN greatest(w.attempts - 1, 0)
                       ELSE w.attempts END,
       finished_at = CASE
           WHEN o.in_flight
            AND (%(policy)s::text = 'hold' OR w.attempts >= w.max_attempts) THEN now()
       END,
       available_at = greatest(w.available_at, now()),
       last_error = CASE
           WHEN NOT o.in_flight THEN w.last_error
           WHEN %(policy)s::text = 'hold'
           THEN 'delivery unknown: the gateway stopped while the message was being sent ('
                || %(why)s::text || '); check with the recipient, then retry or cancel'
           WHEN w.attempts >= w.max_attempts
           THEN format('attempts exhausted (%%s/%%s): the gateway stopped while sending it (%%s)',
                       w.attempts, w.max_attempts, %(why)s::text)
           ELSE 'the gateway stopped while sending it (' || %(why)s::text || '); sent again'
       END,
       lease_expires_at = NULL
  FROM orphan AS o
 WHERE w.id = o.id AND w.is_open AND w.status = 'sending'
RETURNING w.id, w.status, w.attempts, o.in_flight

-- name: pause
-- Pause sending for the whole session (never shortens a longer pause already in place).
UPDATE wa_session
   SET paused_until = greatest(coalesce(paused_until, now()), now() + %(pause)s::interval),
       pause_reason = %(reason)s::text
 WHERE name = %(session)s::text
RETURNING paused_until

-- name: pause_state
-- The session's pause (NULL when it is not paused) and the server clock.
SELECT CASE WHEN paused_until > now() THEN paused_until END AS paused_until,
       pause_reason, now() AS now
  FROM wa_session
 WHERE name = %(session)s::text

-- name: pacing_window
-- Pacing derived from the database, so it holds across restarts: the last send of the session,
-- and when the hourly and daily (rolling 24 h) budgets free a slot again (NULL = not exhausted):
-- the whole budgets (per_hour, per_day), and the part of them open to every row (general_hour,
-- general_day: the budgets less the reserve kept for answers and alerts).
-- Read from wa_send_log (one row per send, written by the settle), which no purge of wa_outbox
-- touches: deleting messages never raises the send rate.
SELECT now() AS now,
       (SELECT max(sent_at) FROM wa_send_log
         WHERE session_name = %(session)s::text) AS last_sent_at,
       (SELECT sent_at + interval '1 hour' FROM wa_send_log
         WHERE session_name = %(session)s::text AND sent_at > now() - interval '1 hour'
         ORDER BY sent_at DESC OFFSET %(per_hour)s::int - 1 LIMIT 1) AS hour_free_at,
       (SELECT sent_at + interval '24 hours' FROM wa_send_log
         WHERE session_name = %(session)s::text AND sent_at > now() - interval '24 hours'
         ORDER BY sent_at DESC OFFSET %(per_day)s::int - 1 LIMIT 1) AS day_free_at,
       (SELECT sent_at + interval '1 hour' FROM wa_send_log
         WHERE session_name = %(session)s::text AND sent_at > now() - interval '1 hour'
         ORDER BY sent_at DESC OFFSET %(general_hour)s::int - 1 LIMIT 1) AS hour_general_at,
       (SELECT sent_at + interval '24 hours' FROM wa_send_log
         WHERE session_name = %(session)s::text AND sent_at > now() - interval '24 hours'
         ORDER BY sent_at DESC OFFSET %(general_day)s::int - 1 LIMIT 1) AS day_general_at

-- name: store_inbound
-- Incoming messages, stored once per (session, WhatsApp message id): a redelivery is a no-op.
INSERT INTO wa_inbox (session_name, chat, sender, wa_message_id, text, from_me, received_at)
SELECT %(session)s::text, t.chat, t.sender, t.wa_message_id, t.text, t.from_me,
       coalesce(t.received_at, now())
  FROM unnest(%(chat)s::text[], %(sender)s::text[], %(wa_message_id)s::text[], %(text)s::text[],
              %(from_me)s::boolean[], %(received_at)s::timestamptz[])
       AS t(chat, sender, wa_message_id, text, from_me, received_at)
ON CONFLICT (session_name, wa_message_id) DO NOTHING
RETURNING id

-- name: receipt_delivered
-- Receipts are matched by WhatsApp message id (a receipt's chat may be a @lid JID).
UPDATE wa_outbox
   SET delivered_at = least(coalesce(delivered_at, coalesce(%(at)s::timestamptz, now())),
                            coalesce(%(at)s::timestamptz, now()))
 WHERE wa_message_id = ANY(%(ids)s::text[]) AND session_name = %(session)s::text
RETURNING id

-- name: receipt_read
UPDATE wa_outbox
   SET delivered_at = coalesce(delivered_at, %(at)s::timestamptz, now()),
       read_at = least(coalesce(read_at, coalesce(%(at)s::timestamptz, now())),
                       coalesce(%(at)s::timestamptz, now()))
 WHERE wa_message_id = ANY(%(ids)s::text[]) AND session_name = %(session)s::text
RETURNING id

-- name: purge_retention
-- The scheduled purge (WA_RETENTION_SENT_DAYS, WA_RETENTION_FAILED_DAYS): finished rows older
-- than their status's age (superseded rows age like sent ones, expired like failed ones), a
-- batch at a time; a row a complaint points to stays (as in outbox.sql's purge). A NULL age
-- keeps that status.
DELETE FROM wa_outbox
 WHERE id IN (SELECT o.id
                FROM wa_outbox AS o
               WHERE ((o.status IN ('sent', 'superseded')
                       AND o.finished_at < now() - %(sent)s::interval)
                   OR (o.status IN ('failed', 'cancelled', 'expired')
                       AND o.finished_at < now() - %(failed)s::interval))
                 AND NOT EXISTS (SELECT 1 FROM complaint_queue AS c WHERE c.outbox_id = o.id)
               LIMIT %(batch)s::int)

-- name: purge_send_log
-- The pacing history older than the longest cap window (24 h) with a day to spare.
DELETE FROM wa_send_log WHERE sent_at < now() - interval '48 hours'

-- name: claim_max_bytes
-- The bound on the attachment bytes one claim holds (read once per connection by the gateway).
SELECT claim_max_bytes FROM wa_outbox_limits

-- name: unserved_sessions
-- Sessions other than this one with messages due for longer than %(after)s and no gateway
-- holding their lock: nobody will send them. The oldest such row names the stall (the alert's
-- dedupe key), so one stall alerts once.
SELECT w.session_name, w.waiting, w.oldest_id, w.oldest_due
  FROM (SELECT o.session_name, count(*) AS waiting, min(o.id) AS oldest_id,
               min(o.available_at) AS oldest_due
          FROM wa_outbox AS o
         WHERE o.is_open AND o.status = 'pending' AND o.session_name <> %(session)s::text
           AND o.available_at < now() - %(after)s::interval
         GROUP BY o.session_name) AS w
 WHERE NOT EXISTS (
        SELECT 1 FROM pg_locks AS l
         WHERE l.locktype = 'advisory' AND l.granted
           AND l.classid = hashtext('cicero-wa-gateway')::oid
           AND l.objid = hashtext(w.session_name)::oid AND l.objsubid = 2)
 ORDER BY w.session_name
