-- layer: 4
-- Per (report_date, audience client, platform, user's own satker) totals: the per-Polres
-- blocks of the directorate recap (for org clients the only satker is the client itself).
CREATE OR REPLACE VIEW report_satker_day AS
SELECT report_date, client_id, client_type, platform, user_client_id, user_client_name,
       max(posts) AS posts,
       count(*)::integer AS users,
       count(*) FILTER (WHERE status = 'lengkap')::integer AS lengkap,
       count(*) FILTER (WHERE status = 'kurang')::integer AS kurang,
       count(*) FILTER (WHERE status = 'belum')::integer AS belum,
       count(*) FILTER (WHERE status = 'belum_username')::integer AS belum_username,
       count(*) FILTER (WHERE status IN ('lengkap', 'kurang'))::integer AS sudah,
       sum(done)::integer AS done_total
  FROM report_user_platform_day
 GROUP BY report_date, client_id, client_type, platform, user_client_id, user_client_name;
