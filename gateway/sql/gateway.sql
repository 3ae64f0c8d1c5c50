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

-- name: set_state
-- Record the session's state; state_changed_at moves only when the state really changes.
UPDATE wa_session
   SET state = %(state)s::text,
       state_detail = %(detail)s::text,
       state_changed_at = CASE WHEN state IS DISTINCT FROM %(state)s::text THEN now()
                               ELSE state_changed_at END,
       heartbeat_at = now()
 WHERE name = %(session)s::text
RETURNING state

-- name: set_jid
UPDATE wa_session SET jid = %(jid)s::text WHERE name = %(session)s::text

-- name: heartbeat
UPDATE wa_session SET heartbeat_at = now() WHERE name = %(session)s::text

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
-- and when the hourly and daily (rolling 24 h) budgets free a slot again (NULL = not exhausted).
SELECT now() AS now,
       (SELECT max(sent_at) FROM wa_outbox
         WHERE session_name = %(session)s::text AND sent_at IS NOT NULL AND status = 'sent') AS last_sent_at,
       (SELECT sent_at + interval '1 hour' FROM wa_outbox
         WHERE session_name = %(session)s::text AND sent_at IS NOT NULL AND status = 'sent'
           AND sent_at > now() - interval '1 hour'
         ORDER BY sent_at DESC OFFSET %(per_hour)s::int - 1 LIMIT 1) AS hour_free_at,
       (SELECT sent_at + interval '24 hours' FROM wa_outbox
         WHERE session_name = %(session)s::text AND sent_at IS NOT NULL AND status = 'sent'
           AND sent_at > now() - interval '24 hours'
         ORDER BY sent_at DESC OFFSET %(per_day)s::int - 1 LIMIT 1) AS day_free_at

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
