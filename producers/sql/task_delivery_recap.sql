-- Queries of producers/jobs/task_delivery_recap.py.

-- name: rows
-- The "Daftar Tugas" rows at the slot (one per active client with posts that Jakarta day and
-- group recipient), in the order they are sent.
SELECT client_id, recipient, summary, task_date, task_list_hash, content_hash, message_order
  FROM task_delivery_recap_at(%(as_of)s)
 ORDER BY client_id, message_order, recipient

-- name: sent_today
-- The dedupe keys of the lists already enqueued that day, newest first.
SELECT dedupe_key
  FROM wa_outbox
 WHERE type = 'task_delivery_recap' AND dedupe_key LIKE %(prefix)s
 ORDER BY id DESC
