-- layer: 3
-- Per-user totals per Monday-Sunday week (Jakarta days) for the weekly recap and its .xlsx.
CREATE OR REPLACE VIEW report_user_week AS
SELECT date_trunc('week', report_date::timestamp)::date AS week_start,
       client_id, client_type, user_id, user_client_id, user_client_name,
       title, nama, divisi, jabatan, insta, tiktok, exception,
       sum(ig_posts)::integer AS ig_posts,
       sum(ig_done)::integer AS ig_done,
       sum(tiktok_posts)::integer AS tiktok_posts,
       sum(tiktok_done)::integer AS tiktok_done
  FROM report_user_day
 GROUP BY 1, client_id, client_type, user_id, user_client_id, user_client_name,
          title, nama, divisi, jabatan, insta, tiktok, exception;
