-- layer: 3
-- Per-user attendance per calendar month: one row per (month_start, audience client, user) for every
-- calendar month in which the client had at least one post. ig_posts / tiktok_posts = the client's
-- posts in that calendar month; *_done = how many of them the user liked / commented (his normalised
-- handle looked up in report_engagement_month); exception users count as done on every post
-- (docs/concepts/reports.md). Statuses use the client's "lengkap" rule: 'all' (every post)
-- unless report_rule says 'half' (>= 50 %), joined once per row (a per-row function call was
-- evaluated at every reference to a status: 3.4x the daily recap's time). Active users only.
CREATE OR REPLACE VIEW report_user_month AS
SELECT x.month_start,
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
                                coalesce(r.lengkap_rule, 'all'))
           AS ig_status,
       cicero_attendance_status(x.tiktok_posts, d.tiktok_done, a.tiktok IS NOT NULL, a.exception,
                                coalesce(r.lengkap_rule, 'all'))
           AS tiktok_status
  FROM report_engagement_month x
  JOIN report_audience a ON a.client_id = x.client_id
  LEFT JOIN report_rule r ON r.client_id = upper(a.client_id)
 CROSS JOIN LATERAL (
       SELECT CASE WHEN a.exception THEN x.ig_posts
                   ELSE least(coalesce((x.ig_done_by_handle ->> a.insta)::integer, 0), x.ig_posts)
              END AS ig_done,
              CASE WHEN a.exception THEN x.tiktok_posts
                   ELSE least(coalesce((x.tiktok_done_by_handle ->> a.tiktok)::integer, 0),
                              x.tiktok_posts)
              END AS tiktok_done
       OFFSET 0) d;  -- OFFSET 0: look each handle up once, not once per reference
