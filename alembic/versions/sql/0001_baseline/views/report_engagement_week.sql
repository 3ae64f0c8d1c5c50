-- layer: 2
-- Engagement per Monday-Sunday week: one row per (week_start, client) that had at least one IG or TikTok
-- post in the week: the post counts and, per platform, a jsonb object {normalised handle: number
-- of those posts the handle liked / commented} (cicero_*_done_by_handle). week_start is a grouping
-- column down to the post scans, so a filter on it is applied when the posts are read.
CREATE OR REPLACE VIEW report_engagement_week AS
SELECT q.week_start,
       q.client_id,
       (count(*) FILTER (WHERE q.kind = 'ig'))::integer AS ig_posts,
       (count(*) FILTER (WHERE q.kind = 'tiktok'))::integer AS tiktok_posts,
       cicero_ig_done_by_handle(array_agg(q.post_id ORDER BY q.post_id)
                                    FILTER (WHERE q.kind = 'ig')) AS ig_done_by_handle,
       cicero_tiktok_done_by_handle(array_agg(q.post_id ORDER BY q.post_id)
                                        FILTER (WHERE q.kind = 'tiktok')) AS tiktok_done_by_handle
  FROM (SELECT date_trunc('week', report_date::timestamp)::date AS week_start, client_id, 'ig' AS kind, shortcode::text AS post_id
          FROM report_ig_post
        UNION ALL
        SELECT date_trunc('week', report_date::timestamp)::date, client_id, 'tiktok', video_id::text
          FROM report_tiktok_post) q
 GROUP BY q.week_start, q.client_id;
