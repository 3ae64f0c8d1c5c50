-- layer: 2
-- Per-user attendance per Jakarta day: one row per (report_date, audience client, user) for
-- every day on which the client had at least one IG or TikTok post. *_done = number of that
-- day's posts whose like (IG) / comment (TikTok) list holds the user's normalised handle;
-- exception users count as done on every post (domain §2.4). Status columns use the rule of
-- the client's own report: 'all' for org clients, 'half' (>= 50 %) for directorates.
--
-- All four branches group by a report_date taken from the post tables, so any filter on
-- report_date (=, BETWEEN, date_trunc(...) = ...) is pushed down to the post scans.
CREATE OR REPLACE VIEW report_user_day AS
SELECT x.report_date,
       a.client_id,
       a.client_type,
       a.user_id,
       a.user_client_id,
       a.user_client_name,
       a.title,
       a.nama,
       a.divisi,
       a.jabatan,
       a.insta,
       a.tiktok,
       a.exception,
       x.ig_posts,
       d.ig_done,
       x.ig_posts - d.ig_done AS ig_belum,
       x.tiktok_posts,
       d.tiktok_done,
       x.tiktok_posts - d.tiktok_done AS tiktok_belum,
       cicero_attendance_status(x.ig_posts, d.ig_done, a.insta IS NOT NULL, a.exception,
                                CASE a.client_type WHEN 'direktorat' THEN 'half' ELSE 'all' END)
           AS ig_status,
       cicero_attendance_status(x.tiktok_posts, d.tiktok_done, a.tiktok IS NOT NULL, a.exception,
                                CASE a.client_type WHEN 'direktorat' THEN 'half' ELSE 'all' END)
           AS tiktok_status
  FROM (SELECT u.report_date, u.client_id, u.user_id,
               sum(u.ig_posts)::integer AS ig_posts,
               sum(u.ig_done)::integer AS ig_done,
               sum(u.tiktok_posts)::integer AS tiktok_posts,
               sum(u.tiktok_done)::integer AS tiktok_done
          FROM (-- every audience user gets the day's post counts of his client
                SELECT pc.report_date, pc.client_id, a.user_id,
                       pc.ig_posts, 0 AS ig_done, pc.tiktok_posts, 0 AS tiktok_done
                  FROM (SELECT q.report_date, q.client_id,
                               count(*) FILTER (WHERE q.platform = 'ig') AS ig_posts,
                               count(*) FILTER (WHERE q.platform = 'tiktok') AS tiktok_posts
                          FROM (SELECT report_date, client_id, 'ig' AS platform FROM report_ig_post
                                UNION ALL
                                SELECT report_date, client_id, 'tiktok' FROM report_tiktok_post) q
                         GROUP BY q.report_date, q.client_id) pc
                  JOIN report_audience a ON a.client_id = pc.client_id
                UNION ALL
                -- one row per (IG post, audience user whose handle is in its like list)
                SELECT p.report_date, p.client_id, a.user_id, 0, 1, 0, 0
                  FROM report_ig_post p
                  JOIN insta_like l ON l.shortcode = p.shortcode
                 CROSS JOIN LATERAL (SELECT DISTINCT cicero_ig_handle(cicero_engagement_username(e)) AS handle
                                       FROM jsonb_array_elements_text(
                                                CASE jsonb_typeof(l.likes) WHEN 'array' THEN l.likes
                                                ELSE '[]'::jsonb END) AS e) h
                  JOIN report_audience a ON a.client_id = p.client_id AND a.insta = h.handle
                UNION ALL
                -- one row per (TikTok video, audience user whose handle is in its comment list)
                SELECT p.report_date, p.client_id, a.user_id, 0, 0, 0, 1
                  FROM report_tiktok_post p
                  JOIN tiktok_comment k ON k.video_id = p.video_id
                 CROSS JOIN LATERAL (SELECT DISTINCT cicero_tiktok_handle(cicero_engagement_username(e)) AS handle
                                       FROM jsonb_array_elements_text(
                                                CASE jsonb_typeof(k.comments) WHEN 'array' THEN k.comments
                                                ELSE '[]'::jsonb END) AS e) h
                  JOIN report_audience a ON a.client_id = p.client_id AND a.tiktok = h.handle) u
         GROUP BY u.report_date, u.client_id, u.user_id) x
  JOIN report_audience a ON a.client_id = x.client_id AND a.user_id = x.user_id
 CROSS JOIN LATERAL (SELECT CASE WHEN a.exception THEN x.ig_posts
                                 ELSE least(x.ig_done, x.ig_posts) END AS ig_done,
                            CASE WHEN a.exception THEN x.tiktok_posts
                                 ELSE least(x.tiktok_done, x.tiktok_posts) END AS tiktok_done) d;
