-- Queries of producers/runner.py (the producer_run ledger). Loaded by name via outbox.sql.

-- name: claim
-- Take the slot; returns a row only to the one transaction whose insert won.
INSERT INTO producer_run (job, slot, status, started_at)
VALUES (%(job)s::text, %(slot)s::timestamptz, 'done', clock_timestamp())
ON CONFLICT (job, slot) DO NOTHING
RETURNING 1

-- name: claim_rerun
-- Manual backfill: also take over a slot that failed or was skipped (never a done one).
INSERT INTO producer_run (job, slot, status, started_at)
VALUES (%(job)s::text, %(slot)s::timestamptz, 'done', clock_timestamp())
ON CONFLICT (job, slot) DO UPDATE
   SET status = 'done', started_at = clock_timestamp(), finished_at = NULL,
       enqueued = 0, duplicates = 0, detail = NULL
 WHERE producer_run.status IN ('failed', 'skipped')
RETURNING 1

-- name: finish
UPDATE producer_run
   SET finished_at = clock_timestamp(), enqueued = %(enqueued)s::integer,
       duplicates = %(duplicates)s::integer, detail = %(detail)s::text
 WHERE job = %(job)s::text AND slot = %(slot)s::timestamptz

-- name: record_failed
INSERT INTO producer_run (job, slot, status, started_at, finished_at, detail)
VALUES (%(job)s::text, %(slot)s::timestamptz, 'failed', clock_timestamp(), clock_timestamp(),
        %(detail)s::text)
ON CONFLICT (job, slot) DO UPDATE
   SET status = 'failed', finished_at = clock_timestamp(), detail = EXCLUDED.detail
 WHERE producer_run.status <> 'done'

-- name: record_skipped
INSERT INTO producer_run (job, slot, status, started_at, finished_at, detail)
VALUES (%(job)s::text, %(slot)s::timestamptz, 'skipped', clock_timestamp(), clock_timestamp(),
        %(detail)s::text)
ON CONFLICT (job, slot) DO NOTHING

-- name: last_slots
SELECT job, max(slot) FROM producer_run WHERE job = ANY(%(jobs)s::text[]) GROUP BY job
