-- Queries of producers/jobs/complaint_response.py.

-- name: pending
-- Oldest pending complaints first; rows another producer holds are skipped, not waited for.
SELECT *
  FROM complaint_queue
 WHERE status = 'pending'
 ORDER BY created_at, id
 LIMIT %(limit)s::integer
   FOR UPDATE SKIP LOCKED

-- name: mark_responded
UPDATE complaint_queue
   SET status = 'responded', responded_at = %(now)s::timestamptz, outbox_id = %(outbox_id)s::bigint,
       last_error = NULL
 WHERE id = %(id)s::bigint

-- name: mark_invalid
UPDATE complaint_queue
   SET status = 'invalid', last_error = %(error)s::text
 WHERE id = %(id)s::bigint

-- name: note_error
UPDATE complaint_queue SET last_error = %(error)s::text WHERE id = %(id)s::bigint

-- name: outbox_id_by_key
SELECT id FROM wa_outbox WHERE dedupe_key = %(key)s::text

-- name: canonical_jid
-- The complainant's chat as the outbox would take it (NULL when it would refuse it).
SELECT jid FROM wa_parse_recipient(%(raw)s::text) WHERE problem IS NULL
