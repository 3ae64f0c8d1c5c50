-- The status page's reads (outbox/web/data.py). Writes go through outbox.engine (retry,
-- cancel), the same functions the command line uses. Every time is the database's now().

-- name: sessions
-- Each session with its sends: the last one, the rolling hour and 24 hours the gateway's caps
-- count (gateway/pacing.py, from wa_send_log, which no purge of wa_outbox shortens), and the
-- Jakarta day so far.
SELECT s.name, s.is_default, s.jid, s.state, s.state_detail, s.state_changed_at,
       CASE WHEN s.paused_until > now() THEN s.paused_until END AS paused_until,
       s.pause_reason, s.heartbeat_at, s.pairing_qr, s.pairing_qr_at,
       sent.last_sent_at, sent.last_hour, sent.last_day, sent.today,
       now() AS now
  FROM wa_session s
 CROSS JOIN LATERAL (
       SELECT max(l.sent_at) AS last_sent_at,
              count(*) FILTER (WHERE l.sent_at > now() - interval '1 hour') AS last_hour,
              count(*) AS last_day,
              count(*) FILTER (WHERE l.sent_at >= (date_trunc('day', now() AT TIME ZONE
                                   'Asia/Jakarta') AT TIME ZONE 'Asia/Jakarta')) AS today
         FROM wa_send_log l
        WHERE l.session_name = s.name AND l.sent_at > now() - interval '24 hours') AS sent
 WHERE %(name)s::text IS NULL OR s.name = %(name)s::text
 ORDER BY s.is_default DESC, s.name

-- name: last_sent
-- A session's last send ever (the sessions query looks at the last 24 hours only).
SELECT max(sent_at) FROM wa_outbox
 WHERE session_name = %(name)s::text AND sent_at IS NOT NULL AND status = 'sent'

-- name: queue
-- Messages per session, status and type (failed ones also per class, from the reason the gateway
-- or the rescuer wrote), with the oldest pending one's times: one scan for the page and /metrics.
SELECT session_name, status, type,
       CASE WHEN status <> 'failed' THEN NULL
            WHEN last_error LIKE 'attempts exhausted%%' THEN 'attempts_exhausted'
            WHEN last_error LIKE 'delivery unknown%%' THEN 'delivery_unknown'
            ELSE 'permanent' END AS failure_class,
       count(*) AS messages,
       min(created_at) FILTER (WHERE status = 'pending') AS oldest_pending_at,
       min(available_at) FILTER (WHERE status = 'pending') AS next_available_at
  FROM wa_outbox
 GROUP BY session_name, status, type, failure_class
 ORDER BY session_name, status, type, failure_class

-- name: rows_pending
-- The oldest pending rows, as they will be sent (through the claim's partial index on is_open).
SELECT id, session_name, recipient, type, status, attempts, max_attempts, created_at,
       available_at, finished_at, last_error
  FROM wa_outbox
 WHERE is_open AND status = 'pending'
 ORDER BY id
 LIMIT %(limit)s::int

-- name: rows_failed
-- The newest failed rows.
SELECT id, session_name, recipient, type, status, attempts, max_attempts, created_at,
       available_at, finished_at, last_error
  FROM wa_outbox
 WHERE status = 'failed'
 ORDER BY finished_at DESC NULLS LAST, id DESC
 LIMIT %(limit)s::int

-- name: row
SELECT id, session_name, recipient, type, status, attempts, max_attempts, created_at,
       available_at, finished_at, last_error
  FROM wa_outbox
 WHERE id = %(id)s::bigint

-- name: producers
-- Each job's last run, and its runs per outcome over the last 24 hours.
SELECT last.job, last.slot, last.status, last.started_at, last.finished_at, last.enqueued,
       last.duplicates, last.detail,
       (SELECT count(*) FROM producer_run r
         WHERE r.job = last.job AND r.slot > now() - interval '24 hours') AS runs_day,
       (SELECT count(*) FROM producer_run r
         WHERE r.job = last.job AND r.slot > now() - interval '24 hours'
           AND r.status = 'failed') AS failed_day
  FROM (SELECT DISTINCT ON (job) job, slot, status, started_at, finished_at, enqueued,
               duplicates, detail
          FROM producer_run
         ORDER BY job, slot DESC) AS last
 ORDER BY last.job

-- name: metric_latency
-- Sends of the last 24 hours per registered session (through wa_outbox_sent_idx): from insert
-- to sent (queue latency) and from the start of the send to WhatsApp's answer (send duration).
SELECT s.name,
       extract(epoch FROM o.sent_at - o.created_at)::float8 AS latency,
       extract(epoch FROM o.sent_at - o.send_started_at)::float8 AS duration
  FROM wa_session s
  JOIN wa_outbox o ON o.session_name = s.name
 WHERE o.sent_at IS NOT NULL AND o.sent_at > now() - interval '24 hours' AND o.status = 'sent'

-- name: metric_runs
SELECT job, status, count(*), extract(epoch FROM max(slot))::float8
  FROM producer_run
 GROUP BY job, status
