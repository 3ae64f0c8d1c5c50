-- layer: 2
-- Engagement per Jakarta day: one row per (report_date, client) that had at least one IG or TikTok
-- post that day: the post counts and, per platform, a jsonb object {normalised handle: number
-- of those posts the handle liked / commented} (cicero_*_done_by_handle). report_date is a grouping
-- column down to the post scans, so a filter on it is applied when the posts are read.
CREATE OR REPLACE VIEW report_engagement_day AS
SELECT q.report_date,
       q.client_id,
       (count(*) FILTER (WHERE q.kind = 'ig'))::integer AS ig_posts,
       (count(*) FILTER (WHERE q.kind = 'tiktok'))::integer AS tiktok_posts,
       cicero_ig_done_by_handle(array_agg(q.post_id ORDER BY q.post_id)
                                    FILTER (WHERE q.kind = 'ig')) AS ig_done_by_handle,
       cicero_tiktok_done_by_handle(array_agg(q.post_id ORDER BY q.post_id)
                                        FILTER (WHERE q.kind = 'tiktok')) AS tiktok_done_by_handle
  FROM (SELECT report_date AS report_date, client_id, 'ig' AS kind, shortcode::text AS post_id
          FROM report_ig_post
        UNION ALL
        SELECT report_date, client_id, 'tiktok', video_id::text
          FROM report_tiktok_post) q
 GROUP BY q.report_date, q.client_id;
