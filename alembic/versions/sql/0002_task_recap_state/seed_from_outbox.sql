-- Once, at the upgrade: the lists the task recap enqueued before task_recap_state existed,
-- read back from their dedupe keys as the job did until this revision
-- (task_delivery_recap:<day>:<client_id>:<recipient>:<task_list_hash>:<content_hash>): per
-- day, client and group, the newest row's (highest id). Without it the first slot after the
-- upgrade would find no list "sent today" and send every group's list again. A key that does
-- not have this shape, or whose day is not a date, is passed over, as the job passed it over.
INSERT INTO task_recap_state (task_date, client_id, recipient, task_list_hash, content_hash,
                              enqueued_at)
SELECT DISTINCT ON (k.day, k.f[3], k.f[4])
       k.day, k.f[3], k.f[4], k.f[5], k.f[6], k.created_at
  FROM (SELECT o.id, o.created_at, f.f,
               -- the day, built without a cast that could fail on a malformed key
               CASE WHEN f.f[2] ~ '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
                    THEN (left(f.f[2], 8) || '01')::date + (right(f.f[2], 2)::integer - 1)
               END AS day
          FROM wa_outbox o
         CROSS JOIN LATERAL string_to_array(o.dedupe_key, ':') AS f (f)
         WHERE o.type = 'task_delivery_recap'
           AND o.dedupe_key LIKE 'task\_delivery\_recap:%') k
 WHERE cardinality(k.f) >= 6
   AND to_char(k.day, 'YYYY-MM-DD') = k.f[2]  -- e.g. 2026-02-31 is no day
 ORDER BY k.day, k.f[3], k.f[4], k.id DESC;
