-- layer: 4
-- Per (report_date, audience client, platform) attendance totals under the client's rule.
-- belum counts users with a handle who did nothing; belum_username the users without handle
-- ("Belum" in the messages = belum + belum_username). sudah = lengkap + kurang.
CREATE OR REPLACE VIEW report_client_day AS
SELECT report_date, client_id, client_type, platform,
       max(posts) AS posts,
       count(*)::integer AS users,
       count(*) FILTER (WHERE status = 'lengkap')::integer AS lengkap,
       count(*) FILTER (WHERE status = 'kurang')::integer AS kurang,
       count(*) FILTER (WHERE status = 'belum')::integer AS belum,
       count(*) FILTER (WHERE status = 'belum_username')::integer AS belum_username,
       count(*) FILTER (WHERE status IN ('lengkap', 'kurang'))::integer AS sudah,
       sum(done)::integer AS done_total
  FROM report_user_platform_day
 GROUP BY report_date, client_id, client_type, platform;
