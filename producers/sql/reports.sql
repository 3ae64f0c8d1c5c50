-- Queries of producers/jobs/reports.py: one period of a report view, and the rows of the
-- .xlsx recaps. The period is passed in as dates (computed from the slot, never from now()).

-- name: daily_report
-- The daily texts of one Jakarta day, in the order they are sent.
SELECT message_key, client_id, client_name, recipient, summary, admin_copy
  FROM daily_report_view
 WHERE report_date = %(start)s
 ORDER BY client_id, message_order, recipient

-- name: weekly_report
-- The weekly texts of the Monday-Sunday week starting on %(start)s.
SELECT message_key, client_id, client_name, recipient, summary, admin_copy
  FROM weekly_report_view
 WHERE week_start = %(start)s
 ORDER BY client_id, message_order, recipient

-- name: monthly_report
-- The monthly texts of the month starting on %(start)s.
SELECT message_key, client_id, client_name, recipient, summary, admin_copy
  FROM monthly_report_view
 WHERE month_start = %(start)s
 ORDER BY client_id, message_order, recipient

-- name: user_days
-- Every client's person-days of the period in one streamed query, grouped by client (a month
-- for a province: ~4 s this way against ~15 s client by client).
SELECT report_date, client_id, user_id, user_client_id, user_client_name, title, nama,
       divisi, ig_posts, ig_done, tiktok_posts, tiktok_done
  FROM report_user_day
 WHERE report_date BETWEEN %(start)s AND %(end)s
 ORDER BY client_id

-- name: audience
-- The people of a client with no post in the whole period (its sheet shows them with zeros).
SELECT * FROM report_audience WHERE client_id = %(client)s

-- name: routed_at
-- Whether report kind %(kind)s has any route for the slot time %(at)s (Jakarta HH:MM).
SELECT EXISTS (SELECT 1 FROM report_routing
                WHERE report_kind = %(kind)s AND (at_time IS NULL OR at_time = %(at)s::time))

-- name: routes
-- Who receives report kind %(kind)s for each of the clients %(clients)s (report_routing; only
-- the rows of a client's most specific scope, then only those for the slot time %(at)s or for
-- every slot), one row per routed audience and recipient in
-- sending order; an audience with no value at all gives one row with recipient NULL. Values
-- are split like report_recipient's (',', ';', newlines); %(admins)s are the canonical
-- ADMIN_WHATSAPP JIDs. A recipient reached through two audiences appears twice: the producer
-- keeps the first and ORs the attachment flags.
WITH c AS (
    SELECT c.client_id, lower(c.client_type) AS client_type, c.client_group, c.client_operator,
           c.client_super
      FROM cicero_clients() c
     WHERE c.client_id = ANY(%(clients)s::text[])),
r AS (
    SELECT c.*, r.route_id, r.audience, r.recipient AS fixed, r.attachment, r.at_time,
           rank() OVER (PARTITION BY c.client_id
                        ORDER BY CASE WHEN r.client_id IS NOT NULL THEN 0
                                      WHEN r.client_type IS NOT NULL THEN 1 ELSE 2 END)
               AS scope_rank
      FROM c
      JOIN report_routing r
        ON r.report_kind = %(kind)s
       AND (r.client_id IS NULL OR upper(btrim(r.client_id)) = upper(c.client_id))
       AND (r.client_type IS NULL OR r.client_type = c.client_type))
SELECT r.client_id, r.audience, x.recipient_raw, x.recipient, x.recipient_valid, r.attachment
  FROM r
  LEFT JOIN LATERAL (
        SELECT s.item AS recipient_raw, coalesce(p.jid, btrim(v.candidate)) AS recipient,
               p.problem IS NULL AS recipient_valid, s.ord
          FROM cicero_split_list(CASE r.audience WHEN 'group' THEN r.client_group
                                                 WHEN 'operator' THEN r.client_operator
                                                 WHEN 'super' THEN r.client_super END) s
         CROSS JOIN LATERAL (SELECT CASE WHEN r.audience = 'group'
                                         THEN cicero_group_id(s.item) ELSE s.item END
                                    AS candidate) v
         CROSS JOIN LATERAL wa_parse_recipient(v.candidate) p
         WHERE r.audience IN ('group', 'operator', 'super')
        UNION ALL
        SELECT a.jid, a.jid, true, a.ord
          FROM unnest(%(admins)s::text[]) WITH ORDINALITY AS a (jid, ord)
         WHERE r.audience = 'admins'
        UNION ALL
        SELECT r.fixed, coalesce(p.jid, btrim(r.fixed)), p.problem IS NULL, 1
          FROM wa_parse_recipient(r.fixed) p
         WHERE r.audience = 'fixed') x ON true
 WHERE r.scope_rank = 1
   AND (r.at_time IS NULL OR r.at_time = %(at)s::time)
 ORDER BY r.client_id,
          array_position(ARRAY['group', 'operator', 'super', 'admins', 'fixed'], r.audience),
          r.route_id, x.ord
