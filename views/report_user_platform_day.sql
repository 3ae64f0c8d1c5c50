-- layer: 3
-- report_user_day unpivoted: one row per (report_date, audience client, user, platform) with
-- platform 'instagram' (likes) or 'tiktok' (comments).
CREATE OR REPLACE VIEW report_user_platform_day AS
SELECT u.report_date, u.client_id, u.client_type, u.user_id, u.user_client_id, u.user_client_name,
       u.title, u.nama, u.divisi, u.jabatan, u.exception,
       v.platform, v.handle, v.posts, v.done, v.status
  FROM report_user_day u
 CROSS JOIN LATERAL (VALUES ('instagram', u.insta, u.ig_posts, u.ig_done, u.ig_status),
                            ('tiktok', u.tiktok, u.tiktok_posts, u.tiktok_done, u.tiktok_status))
       AS v(platform, handle, posts, done, status)
 WHERE v.posts > 0;
