-- layer: 5
-- Per (month_start, audience client) totals of the monthly recap and its Top / Bottom list source:
-- ranked = personnel (org clients) or satker other than the directorate (directorates), best
-- first by likes + comments.
CREATE OR REPLACE VIEW report_client_month AS
SELECT month_start, client_id, client_type,
       sum(users)::integer AS users,
       max(ig_posts) AS ig_posts,
       max(tiktok_posts) AS tiktok_posts,
       sum(ig_done)::integer AS ig_done,
       sum(ig_target)::integer AS ig_target,
       sum(tiktok_done)::integer AS tiktok_done,
       sum(tiktok_target)::integer AS tiktok_target,
       CASE WHEN client_type = 'direktorat'
            THEN array_agg(user_client_name || ' — ' || id_number(ig_done) || ' likes, '
                           || id_number(tiktok_done) || ' komentar ('
                           || id_percent(ig_done + tiktok_done, ig_target + tiktok_target) || ')'
                           ORDER BY ig_done + tiktok_done DESC, user_client_name)
                     FILTER (WHERE user_client_id <> client_id)
            ELSE max(personnel_ranked) FILTER (WHERE user_client_id = client_id)
       END AS ranked
  FROM report_satker_month
 GROUP BY month_start, client_id, client_type;
