-- Runtime queries of the outbox engine (outbox/engine.py). Every parameter is cast.

-- name: enqueue_many
-- One statement for the whole batch (one NOTIFY); a duplicate dedupe_key is skipped and
-- reported by its absence from RETURNING. A NULL priority takes the type's (INSERT trigger).
INSERT INTO wa_outbox AS o
    (recipient, content, type, dedupe_key, priority, available_at, session_name,
     max_attempts, attachment, attachment_name, attachment_mime, collapse_key, expires_at)
SELECT t.recipient, t.content, t.type, t.dedupe_key, t.priority,
       coalesce(t.available_at, now()), t.session_name, coalesce(t.max_attempts, 5),
       t.attachment, t.attachment_name, t.attachment_mime, t.collapse_key, t.expires_at
  FROM unnest(%(recipient)s::text[], %(content)s::text[], %(type)s::text[],
              %(dedupe_key)s::text[], %(priority)s::smallint[], %(available_at)s::timestamptz[],
              %(session_name)s::text[], %(max_attempts)s::int[], %(attachment)s::bytea[],
              %(attachment_name)s::text[], %(attachment_mime)s::text[],
              %(collapse_key)s::text[], %(expires_at)s::timestamptz[])
       WITH ORDINALITY AS t(recipient, content, type, dedupe_key, priority, available_at,
                            session_name, max_attempts, attachment, attachment_name,
                            attachment_mime, collapse_key, expires_at, ord)
 ORDER BY t.ord
ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
RETURNING o.id, o.dedupe_key, o.recipient

-- name: check_many
-- The verdict of the INSERT trigger for each row, without inserting anything.
SELECT t.ord::int AS ord, c.jid, c.problem
  FROM unnest(%(recipient)s::text[], %(content)s::text[], %(type)s::text[])
       WITH ORDINALITY AS t(recipient, content, type, ord),
       LATERAL wa_check_message(t.recipient, t.content, t.type) AS c
 ORDER BY t.ord

-- name: recipient_fifo
-- The per-recipient order, on a pending row ``o``: it waits while an older row of the same
-- recipient is still open (in flight, due, or waiting for a retry), so each recipient gets its
-- messages in insertion order with at most one in flight. Rows scheduled for later
-- (attempts = 0, available_at in the future) do not hold back the rows behind them. One
-- fragment, written into claim and next_wake ({recipient_fifo}) by outbox/engine.py.
NOT EXISTS (
    SELECT 1
      FROM wa_outbox AS older
     WHERE older.session_name = o.session_name
       AND older.recipient COLLATE "C" = o.recipient  -- the index's collation
       AND older.id < o.id
       AND older.is_open
       AND (older.status = 'sending' OR older.available_at <= now() OR older.attempts > 0))

-- name: claim
-- Claim up to {limit} due rows of one session, in the per-recipient order (recipient_fifo).
-- engine.claim writes the batch size in as a literal ({limit}) and adds claim_recipient_gap
-- ({recipient_gap}) when a gap is set. Both are settings, fixed for a process; as parameters
-- they would leave PostgreSQL's generic plan guessing them, so it would plan every claim anew.
-- The claim is also bounded by bytes: in claim order, the rows whose attachments add up to at
-- most {max_bytes} (the first row always; the gateway passes wa_outbox_limits.claim_max_bytes,
-- a literal for the same reason as {limit}), so a batch of documents never holds more than
-- that in the gateway's memory.
WITH candidate AS (
    SELECT o.id, o.priority, coalesce(o.attachment_bytes, 0) AS bytes
      FROM wa_outbox AS o
     WHERE o.is_open
       AND o.session_name = %(session)s::text
       AND o.status = 'pending'
       AND o.available_at <= now()
       AND (o.expires_at IS NULL OR o.expires_at > now())
       AND {recipient_fifo}
       {recipient_gap}
     ORDER BY o.priority DESC, o.id
     LIMIT {limit}
       FOR UPDATE SKIP LOCKED
), within_bytes AS (
    SELECT c.id
      FROM (SELECT id, row_number() OVER w AS n, sum(bytes) OVER w AS upto
              FROM candidate WINDOW w AS (ORDER BY priority DESC, id)) AS c
     WHERE c.n = 1 OR c.upto <= {max_bytes}
)
UPDATE wa_outbox AS w
   SET status = 'sending',
       attempts = w.attempts + 1,
       claim_token = %(token)s::uuid,
       claimed_by = %(worker)s::text,
       claimed_at = now(),
       lease_expires_at = now() + %(lease)s::interval,
       send_started_at = NULL,
       carried_by = NULL
  FROM within_bytes
 WHERE w.id = within_bytes.id
RETURNING w.id, w.recipient, w.content, w.type, w.priority, w.attempts, w.max_attempts,
          w.lease_expires_at, w.attachment, w.attachment_name, w.attachment_mime

-- name: claim_followers
-- Coalescing (WA_COALESCE_TEXTS): the texts that ride in one WhatsApp message with a claimed
-- text row (%(head)s): the recipient's next open rows in id order, as long as each is a due
-- text never attempted (pending, available, not expired, no attachment, attempts 0: a row
-- that may have killed the previous process goes alone), up to %(max_rows)s rows and
-- %(max_chars)s characters in all with the head and the blank lines between. The first row
-- that is not such a text ends the run, so the recipient's order holds. Claimed under the
-- head's token, with carried_by = the head (their settle then logs no send of their own).
WITH run AS (
    SELECT o.id, o.status = 'pending' AND o.attempts = 0 AND o.available_at <= now()
                 AND (o.expires_at IS NULL OR o.expires_at > now())
                 AND o.attachment IS NULL AND o.attachment_name IS NULL AS fits,
           length(o.content) + 2 AS chars
      FROM wa_outbox AS o
     WHERE o.is_open AND o.session_name = %(session)s::text
       AND o.recipient COLLATE "C" = %(recipient)s::text AND o.id > %(head)s::bigint
     ORDER BY o.id
     LIMIT %(max_rows)s::int
), riders AS (
    SELECT id
      FROM (SELECT id, bool_and(fits) OVER w AS all_fit, sum(chars) OVER w AS upto
              FROM run WINDOW w AS (ORDER BY id)) AS r
     WHERE r.all_fit AND r.upto <= %(max_chars)s::int - %(head_chars)s::int
)
UPDATE wa_outbox AS w
   SET status = 'sending',
       attempts = w.attempts + 1,
       claim_token = %(token)s::uuid,
       claimed_by = %(worker)s::text,
       claimed_at = now(),
       lease_expires_at = now() + %(lease)s::interval,
       send_started_at = NULL,
       carried_by = %(head)s::bigint
  FROM riders
 WHERE w.id = riders.id AND w.status = 'pending'
RETURNING w.id, w.recipient, w.content, w.type, w.priority, w.attempts, w.max_attempts,
          w.lease_expires_at, w.attachment, w.attachment_name, w.attachment_mime

-- name: claim_recipient_gap
-- The claim's pacing rule: nothing for a recipient who got a message less than the gap ago.
AND NOT EXISTS (
    SELECT 1
      FROM wa_outbox AS recent
     WHERE recent.session_name = o.session_name
       AND recent.recipient = o.recipient
       AND recent.sent_at > now() - {gap})

-- name: mark_started
UPDATE wa_outbox
   SET send_started_at = now()
 WHERE id = %(id)s::bigint AND claim_token = %(token)s::uuid AND status = 'sending'
RETURNING id

-- name: mark_sent_many
-- Settle successful sends of one claim (one token) in one statement; only rows still leased by
-- that claim change. RETURNING tells which settles applied.
UPDATE wa_outbox AS w
   SET status = 'sent',
       sent_at = coalesce(t.sent_at, now()),
       finished_at = now(),
       wa_message_id = t.wa_message_id,
       last_error = NULL,
       lease_expires_at = NULL
  FROM unnest(%(id)s::bigint[], %(wa_message_id)s::text[], %(sent_at)s::timestamptz[])
       AS t(id, wa_message_id, sent_at)
 WHERE w.id = t.id AND w.claim_token = %(token)s::uuid AND w.status = 'sending'
RETURNING w.id

-- name: retry_later
-- A transient failure: back to pending with exponential backoff and jitter, or to failed when
-- the attempts are used up. An explicit %(delay)s (e.g. a rate-limit pause) overrides backoff.
-- The failure goes into the row's error history (wa_outbox_error) in the same statement.
WITH settled AS (
UPDATE wa_outbox AS w
   SET status = CASE WHEN w.attempts >= w.max_attempts THEN 'failed' ELSE 'pending' END,
       available_at = CASE
           WHEN w.attempts >= w.max_attempts THEN w.available_at
           ELSE now() + coalesce(
               %(delay)s::interval,
               make_interval(secs => least(
                   extract(epoch FROM %(retry_max)s::interval),
                   extract(epoch FROM %(retry_base)s::interval) * power(2, w.attempts - 1))
                   * (0.8 + random() * 0.4)))
       END,
       finished_at = CASE WHEN w.attempts >= w.max_attempts THEN now() END,
       last_error = CASE
           WHEN w.attempts >= w.max_attempts
           THEN left(format('attempts exhausted (%%s/%%s): %%s', w.attempts, w.max_attempts,
                            %(error)s::text), 2000)
           ELSE left(%(error)s::text, 2000)
       END,
       lease_expires_at = NULL
 WHERE w.id = %(id)s::bigint AND w.claim_token = %(token)s::uuid AND w.status = 'sending'
RETURNING w.id, w.status, w.available_at, w.attempts, w.last_error
), history AS (
    INSERT INTO wa_outbox_error (outbox_id, attempt, became, error)
    SELECT id, attempts, status, last_error FROM settled
)
SELECT id, status, available_at, attempts FROM settled

-- name: mark_failed
-- A permanent failure, recorded in the row's error history in the same statement.
WITH settled AS (
UPDATE wa_outbox
   SET status = 'failed', finished_at = now(), last_error = left(%(error)s::text, 2000),
       lease_expires_at = NULL
 WHERE id = %(id)s::bigint AND claim_token = %(token)s::uuid AND status = 'sending'
RETURNING id, attempts, last_error
), history AS (
    INSERT INTO wa_outbox_error (outbox_id, attempt, became, error)
    SELECT id, attempts, 'failed', last_error FROM settled
)
SELECT id FROM settled

-- name: release
-- Give a claimed row back untouched (shutdown, session paused): the attempt is not counted.
UPDATE wa_outbox
   SET status = 'pending', attempts = greatest(attempts - 1, 0),
       available_at = now() + %(delay)s::interval, lease_expires_at = NULL,
       last_error = coalesce(%(reason)s::text, last_error)
 WHERE id = %(id)s::bigint AND claim_token = %(token)s::uuid AND status = 'sending'
RETURNING id

-- name: release_expired
-- The rescuer. A row whose lease ran out belonged to a worker that died or hung. Rows never
-- handed to WhatsApp (send_started_at IS NULL under the hold policy) always go back to
-- pending. For the others the policy decides: 'resend' (at-least-once) puts them back to
-- pending, 'hold' fails them as "delivery unknown" for an operator to review. Either way a row
-- that used up its attempts fails, so a message that kills the gateway cannot loop forever.
-- Each goes into its row's error history (wa_outbox_error) in the same statement.
WITH rescued AS (
UPDATE wa_outbox AS w
   SET status = CASE
           WHEN w.attempts >= w.max_attempts THEN 'failed'
           WHEN %(policy)s::text = 'hold' AND w.send_started_at IS NOT NULL THEN 'failed'
           ELSE 'pending'
       END,
       finished_at = CASE
           WHEN w.attempts >= w.max_attempts
             OR (%(policy)s::text = 'hold' AND w.send_started_at IS NOT NULL) THEN now()
       END,
       available_at = now(),
       last_error = CASE
           WHEN %(policy)s::text = 'hold' AND w.send_started_at IS NOT NULL
           THEN 'delivery unknown: the lease expired while the message was being sent; '
                'check with the recipient, then retry or cancel'
           WHEN w.attempts >= w.max_attempts
           THEN format('attempts exhausted (%%s/%%s): the lease expired while sending '
                       '(the worker died or hung)', w.attempts, w.max_attempts)
           ELSE 'lease expired (the worker died or hung); sent again'
       END,
       lease_expires_at = NULL
 WHERE w.is_open
   AND w.status = 'sending'
   AND w.lease_expires_at < now()
   AND (%(session)s::text IS NULL OR w.session_name = %(session)s::text)
RETURNING w.id, w.status, w.attempts, w.last_error
), history AS (
    INSERT INTO wa_outbox_error (outbox_id, attempt, became, error)
    SELECT id, attempts, status, last_error FROM rescued
)
SELECT id, status FROM rescued

-- name: expire_due
-- Rows not handed to WhatsApp by their deadline (expires_at) become 'expired' instead of being
-- sent late; a row 'sending' is never touched (the claim hands out no row past its deadline).
-- The gateway runs it once a second for its session; NULL session: every session.
UPDATE wa_outbox AS o
   SET status = 'expired', finished_at = now(), lease_expires_at = NULL,
       last_error = 'expired: not sent by '
                    || to_char(o.expires_at AT TIME ZONE 'Asia/Jakarta', 'DD-MM-YYYY HH24.MI')
                    || ' WIB'
 WHERE o.is_open AND o.status = 'pending' AND o.expires_at <= now()
   AND (%(session)s::text IS NULL OR o.session_name = %(session)s::text)
RETURNING o.id

-- name: cancel
UPDATE wa_outbox
   SET status = 'cancelled', finished_at = now(), lease_expires_at = NULL
 WHERE id = %(id)s::bigint AND status IN ('pending', 'failed')
RETURNING id

-- name: requeue_failed
UPDATE wa_outbox
   SET status = 'pending', attempts = 0, available_at = now(), finished_at = NULL,
       last_error = left('requeued by operator; before: ' || coalesce(last_error, ''), 2000)
 WHERE status = 'failed' AND (%(id)s::bigint IS NULL OR id = %(id)s::bigint)
RETURNING id

-- name: notify
SELECT pg_notify('wa_outbox', '')

-- name: purge_finished
-- The rows purge may consider: finished (sent, failed, cancelled, superseded, expired) longer ago than the age.
-- One fragment, written into purge and purge_preview ({finished}) by outbox/engine.py.
o.status IN ('sent', 'failed', 'cancelled', 'superseded', 'expired')
AND o.finished_at < now() - %(older_than)s::interval

-- name: purge_linked
-- A finished row a complaint points to (complaint_queue.outbox_id) stays: deleting it would set
-- the link to NULL (ON DELETE SET NULL), and complaint_delivery would then show an answered
-- complaint as 'reply_unknown'. One fragment ({linked}) for purge and purge_preview. Written
-- as an uncorrelated IN (NULLs left out, so NOT IN stays true) for one hashed subplan: a
-- correlated EXISTS in purge_preview's FILTER scanned complaint_queue once per row.
o.id IN (SELECT c.outbox_id FROM complaint_queue AS c WHERE c.outbox_id IS NOT NULL)

-- name: purge
DELETE FROM wa_outbox
 WHERE id IN (SELECT o.id
                FROM wa_outbox AS o
               WHERE {finished}
                 AND NOT {linked}
               LIMIT %(batch)s::int)

-- name: purge_preview
-- What purge would do: the rows it would delete and those it keeps for a complaint.
SELECT count(*) FILTER (WHERE NOT {linked})::bigint AS purgeable,
       count(*) FILTER (WHERE {linked})::bigint AS kept_for_complaints,
       min(o.finished_at) FILTER (WHERE NOT {linked}) AS oldest
  FROM wa_outbox AS o
 WHERE {finished}

-- name: list_messages
-- The operator's list: newest first, every filter optional (NULL = any). The recipient filter
-- takes any accepted form (0812..., +62 812..., a JID) and is normalised like an INSERT.
SELECT o.id, o.created_at, o.session_name, o.type, o.status, o.attempts, o.max_attempts,
       o.recipient, o.available_at, o.sent_at, o.finished_at, o.last_error,
       o.attachment_name
  FROM wa_outbox AS o
 WHERE (%(status)s::text[] IS NULL OR o.status = ANY (%(status)s::text[]))
   AND (%(type)s::text IS NULL OR o.type = %(type)s::text)
   AND (%(recipient)s::text IS NULL
        OR o.recipient = coalesce((SELECT r.jid FROM wa_parse_recipient(%(recipient)s::text) AS r),
                                  %(recipient)s::text))
   AND (%(session)s::text IS NULL OR o.session_name = %(session)s::text)
   AND (%(since)s::timestamptz IS NULL OR o.created_at >= %(since)s::timestamptz)
 ORDER BY o.id DESC
 LIMIT %(limit)s::int

-- name: message
-- One row, every column (o.*: a column added later shows up too); engine.message replaces the
-- attachment's bytes by their size.
SELECT o.*, octet_length(o.attachment) AS attachment_size
  FROM wa_outbox AS o
 WHERE o.id = %(id)s::bigint

-- name: message_errors
-- The row's error history, oldest first.
SELECT e.at, e.attempt, e.became, e.error
  FROM wa_outbox_error AS e
 WHERE e.outbox_id = %(id)s::bigint
 ORDER BY e.id

-- name: message_complaints
-- The complaints whose answer is this row, with what the answer became.
SELECT c.id, c.complainant, c.status, c.created_at, c.responded_at, c.nrp, c.reporter_name,
       c.polres, c.issues, c.last_error, d.delivery_state
  FROM complaint_queue AS c
  JOIN complaint_delivery AS d ON d.complaint_id = c.id
 WHERE c.outbox_id = %(id)s::bigint
 ORDER BY c.id

-- name: session_health
-- Per gateway session: its state, heartbeat and pause, its last send, and the due work waiting
-- (pending rows whose time has come). A session with rows but no wa_session row (no gateway
-- registered yet) is listed too, with a NULL state. budget_free_at: while the send budget the
-- gateway registered is used up (the hourly or daily cap less the reserve kept for answers and
-- alerts, counted from wa_send_log as the gateway counts it), when every row may go again; NULL
-- when it is not used up, pacing is off or no caps are recorded (a gateway before revision
-- 0012). A reserve not recorded (a gateway before revision 0013) is none: that gateway kept none.
WITH names AS (
    SELECT name FROM wa_session
    UNION
    SELECT DISTINCT o.session_name FROM wa_outbox AS o WHERE o.is_open
)
SELECT n.name, s.state, s.state_detail, s.state_changed_at, s.heartbeat_at, s.paused_until,
       s.pause_reason, s.jid, coalesce(s.is_default, false) AS is_default,
       (SELECT max(x.sent_at) FROM wa_outbox AS x
         WHERE x.session_name = n.name AND x.sent_at IS NOT NULL) AS last_sent_at,
       (SELECT count(*) FROM wa_outbox AS p
         WHERE p.is_open AND p.session_name = n.name AND p.status = 'pending'
           AND p.available_at <= now())::bigint AS due,
       (SELECT min(p.available_at) FROM wa_outbox AS p
         WHERE p.is_open AND p.session_name = n.name AND p.status = 'pending'
           AND p.available_at <= now()) AS oldest_due_at,
       now() AS now,
       CASE WHEN s.pacing AND s.max_per_hour IS NOT NULL AND s.max_per_day IS NOT NULL THEN
         greatest(
           (SELECT l.sent_at + interval '1 hour' FROM wa_send_log AS l
             WHERE l.session_name = n.name AND l.sent_at > now() - interval '1 hour'
             ORDER BY l.sent_at DESC
            OFFSET greatest(s.max_per_hour - coalesce(s.reserve_per_hour, 0), 1) - 1 LIMIT 1),
           (SELECT l.sent_at + interval '24 hours' FROM wa_send_log AS l
             WHERE l.session_name = n.name AND l.sent_at > now() - interval '24 hours'
             ORDER BY l.sent_at DESC
            OFFSET greatest(s.max_per_day - coalesce(s.reserve_per_day, 0), 1) - 1 LIMIT 1))
       END AS budget_free_at
  FROM names AS n
  LEFT JOIN wa_session AS s ON s.name = n.name
 ORDER BY n.name

-- name: status_of
SELECT id, status, attempts, max_attempts, last_error FROM wa_outbox WHERE id = %(id)s::bigint

-- name: counts
SELECT session_name, status, count(*)::bigint AS messages,
       min(created_at) FILTER (WHERE status = 'pending') AS oldest_pending_at
  FROM wa_outbox
 GROUP BY session_name, status
 ORDER BY session_name, status

-- name: next_wake
-- When the loop should look again: the earliest time a pending row of the session may become
-- claimable (its available_at, pushed back by the recipient gap after that recipient's last
-- send), or a lease runs out. Rows held back by an older open row of the same recipient (the
-- claim's FIFO rule, the same recipient_fifo fragment) are left out: they follow that row, whose
-- own time or settle wakes the loop. Same predicates and indexes as the claim.
SELECT now() AS now, least(
    (SELECT min(greatest(
                o.available_at,
                (SELECT max(s.sent_at)
                   FROM wa_outbox AS s
                  WHERE s.session_name = o.session_name
                    AND s.sent_at > now() - %(recipient_gap)s::interval
                    AND s.recipient = o.recipient) + %(recipient_gap)s::interval))
       FROM wa_outbox AS o
      WHERE o.is_open
        AND o.session_name = %(session)s::text
        AND o.status = 'pending'
        AND {recipient_fifo}),
    (SELECT min(lease_expires_at)
       FROM wa_outbox
      WHERE is_open AND status = 'sending' AND session_name = %(session)s::text)) AS wake_at

-- name: register_session
INSERT INTO wa_session (name, is_default)
VALUES (%(name)s::text, NOT EXISTS (SELECT 1 FROM wa_session WHERE is_default))
ON CONFLICT (name) DO UPDATE SET heartbeat_at = now()
RETURNING is_default

-- name: adopt_unassigned
-- Rows written before any gateway registered went to the fallback session 'main'. When the
-- first (default) session has another name it takes them over, unless a 'main' session exists.
UPDATE wa_outbox
   SET session_name = %(name)s::text
 WHERE status = 'pending' AND session_name = 'main' AND %(name)s::text <> 'main'
   AND NOT EXISTS (SELECT 1 FROM wa_session WHERE name = 'main')

-- name: paired_jids
-- The WhatsApp accounts the gateway sessions are paired with (wa_session.jid, recorded by the
-- gateway when a session connects), canonical by wa_jid. A JID may carry a device part
-- (628...:12@s.whatsapp.net, 628....0:12@s.whatsapp.net): only the number part counts.
SELECT DISTINCT c.jid
  FROM wa_session AS s,
       LATERAL wa_jid(regexp_replace(s.jid, '^([0-9]+)[.:][0-9.:]*@', '\1@')) AS c(jid)
 WHERE c.jid IS NOT NULL

-- name: lock_sessions
LOCK TABLE wa_session IN SHARE ROW EXCLUSIVE MODE
