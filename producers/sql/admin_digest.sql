-- Queries of producers/jobs/admin_digest.py (the producers' own failures and a daily summary
-- for ADMIN_WHATSAPP). Times are timestamptz; hours and days are Jakarta's.

-- name: failures
-- Producer runs recorded as failed whose slot is after %(since)s and up to %(upto)s, per job,
-- error kind (the exception's class: the text before the first ':') and Jakarta hour of the
-- slot: how many, the last slot and the last error text.
SELECT job, kind, hour, count(*)::integer AS failures, max(slot) AS last_slot,
       (array_agg(detail ORDER BY slot DESC))[1] AS last_detail
  FROM (SELECT job, slot, coalesce(detail, '') AS detail,
               coalesce(nullif(btrim(split_part(coalesce(detail, ''), ':', 1)), ''), 'Error')
                   AS kind,
               date_trunc('hour', slot AT TIME ZONE 'Asia/Jakarta') AS hour
          FROM producer_run
         WHERE status = 'failed'
           AND slot > %(since)s::timestamptz AND slot <= %(upto)s::timestamptz) f
 GROUP BY job, kind, hour
 ORDER BY hour, job, kind

-- name: runs
-- Producer runs per job and status whose slot is on the Jakarta day of %(start)s, up to %(upto)s.
SELECT job, status, count(*)::integer
  FROM producer_run
 WHERE slot >= %(start)s::timestamptz AND slot <= %(upto)s::timestamptz
 GROUP BY job, status
 ORDER BY job, status

-- name: messages
-- Messages created from %(start)s to %(upto)s per type: sent, failed (of which the lease
-- expired while sending), cancelled, superseded (replaced by a newer message with the same
-- collapse key), expired (not sent by their expires_at), still open.
SELECT type,
       (count(*) FILTER (WHERE status = 'sent'))::integer AS sent,
       (count(*) FILTER (WHERE status = 'failed'))::integer AS failed,
       (count(*) FILTER (WHERE status = 'failed' AND last_error ILIKE '%%lease expired%%'))::integer
           AS lease_expired,
       (count(*) FILTER (WHERE status = 'cancelled'))::integer AS cancelled,
       (count(*) FILTER (WHERE status = 'superseded'))::integer AS superseded,
       (count(*) FILTER (WHERE status = 'expired'))::integer AS expired,
       (count(*) FILTER (WHERE is_open))::integer AS open
  FROM wa_outbox
 WHERE created_at >= %(start)s::timestamptz AND created_at <= %(upto)s::timestamptz
 GROUP BY type
 ORDER BY type

-- name: sessions
SELECT name, state, state_changed_at, paused_until
  FROM wa_session
 ORDER BY name

-- name: stuck
-- Open messages due for more than an hour, and messages in sending for more than 10 minutes.
SELECT (count(*) FILTER (WHERE status = 'pending'
                           AND available_at < %(upto)s::timestamptz - interval '1 hour'))::integer,
       min(available_at) FILTER (WHERE status = 'pending'
                                   AND available_at < %(upto)s::timestamptz - interval '1 hour'),
       (count(*) FILTER (WHERE status = 'sending'
                           AND coalesce(send_started_at, claimed_at) < %(upto)s::timestamptz - interval '10 minutes'))::integer
  FROM wa_outbox
 WHERE is_open
