-- layer: 4
-- Per (month_start, audience client, satker) totals of the monthly recap, and (org clients) the
-- satker's personnel ranked by likes + comments, best first, exception users left out
-- (they are always complete). *_target = posts x users (what full attendance would give).
CREATE OR REPLACE VIEW report_satker_month AS
SELECT month_start, client_id, client_type, user_client_id, user_client_name,
       count(*)::integer AS users,
       max(ig_posts) AS ig_posts,
       max(tiktok_posts) AS tiktok_posts,
       sum(ig_done)::integer AS ig_done,
       sum(ig_posts)::integer AS ig_target,
       sum(tiktok_done)::integer AS tiktok_done,
       sum(tiktok_posts)::integer AS tiktok_target,
       array_agg(cicero_person_label(title, nama) || ' (' || divisi || ' • ' || user_client_name
                 || ') — ' || id_number(ig_done) || ' likes, ' || id_number(tiktok_done)
                 || ' komentar'
                 ORDER BY ig_done + tiktok_done DESC, nama, user_id)
           FILTER (WHERE NOT exception) AS personnel_ranked
  FROM report_user_month
 GROUP BY month_start, client_id, client_type, user_client_id, user_client_name;
