-- Queries of producers/jobs/task_delivery_recap.py. Its state is task_recap_state (per Jakarta
-- day, client and group: the list last enqueued), written with the messages it enqueues.

-- name: rows
-- The "Daftar Tugas" rows at the slot (one per active client with posts that Jakarta day and
-- group recipient), in the order they are sent.
SELECT client_id, recipient, summary, task_date, task_list_hash, content_hash, message_order
  FROM task_delivery_recap_at(%(as_of)s)
 ORDER BY client_id, message_order, recipient

-- name: last_lists
-- The task list last enqueued on that day to each (client, group).
SELECT client_id, recipient, task_list_hash
  FROM task_recap_state
 WHERE task_date = %(day)s::date

-- name: remember
-- The lists this run enqueued become the last ones (one row per day, client and group),
-- written in key order so that two runs lock the rows they share in the same order.
INSERT INTO task_recap_state (task_date, client_id, recipient, task_list_hash, content_hash)
SELECT n.task_date, n.client_id, n.recipient, n.task_list_hash, n.content_hash
  FROM unnest(%(task_dates)s::date[], %(client_ids)s::text[], %(recipients)s::text[],
              %(list_hashes)s::text[], %(content_hashes)s::text[])
       AS n (task_date, client_id, recipient, task_list_hash, content_hash)
 ORDER BY n.task_date, n.client_id, n.recipient
ON CONFLICT (task_date, client_id, recipient) DO UPDATE
   SET task_list_hash = EXCLUDED.task_list_hash, content_hash = EXCLUDED.content_hash,
       enqueued_at = EXCLUDED.enqueued_at

-- name: forget
-- Days long past (a run reads only its slot's day; a manual run may go back a few days).
DELETE FROM task_recap_state WHERE task_date < %(before)s::date
