-- layer: 4
-- What the monthly Top/Bottom 5 rank, per (month_start, client): org clients rank their
-- personnel (exception users left out: they are always complete), directorates rank the
-- satker of their audience. score = likes + comments; line is the text of one list entry.
CREATE OR REPLACE VIEW report_rank_month AS
SELECT month_start, client_id, client_type,
       cicero_person_label(title, nama) AS label,
       ig_done AS likes, tiktok_done AS comments, ig_done + tiktok_done AS score,
       cicero_person_label(title, nama) || ' (' || divisi || ' • ' || user_client_name || ') — '
       || id_number(ig_done) || ' likes, ' || id_number(tiktok_done) || ' komentar' AS line
  FROM report_user_month
 WHERE client_type <> 'direktorat' AND NOT exception
UNION ALL
SELECT month_start, client_id, client_type,
       user_client_name,
       sum(ig_done)::integer, sum(tiktok_done)::integer, sum(ig_done + tiktok_done)::integer,
       user_client_name || ' — ' || id_number(sum(ig_done)) || ' likes, '
       || id_number(sum(tiktok_done)) || ' komentar ('
       || id_percent(sum(ig_done + tiktok_done), sum(ig_posts + tiktok_posts)) || ')'
  FROM report_user_month
 WHERE client_type = 'direktorat' AND user_client_id <> client_id
 GROUP BY month_start, client_id, client_type, user_client_id, user_client_name;
