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
