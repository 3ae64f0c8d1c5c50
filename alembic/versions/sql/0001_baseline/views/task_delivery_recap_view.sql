-- layer: 5
-- Task delivery recap, "Daftar Tugas" (docs/concepts/reports.md): one row per (active client with at least
-- one post on the Jakarta day of as_of, group recipient of that client). Lists the day's IG
-- and TikTok posts created up to as_of, with their like/comment counts.
--   task_date      the Jakarta day of as_of
--   delivered_at   = as_of, the "Pengambilan data" time printed in the header
--   task_list_hash md5 of the ordered post ids: changes only when the task list changes
--   content_hash   md5 of the text without its minute-precision "Pengambilan data" line
-- task_delivery_recap_at(as_of) is the definition (use it with an injectable clock);
-- task_delivery_recap_view is task_delivery_recap_at(now()).
CREATE OR REPLACE FUNCTION task_delivery_recap_at(as_of timestamptz)
RETURNS TABLE (task_date date, delivered_at timestamptz, message_key text, client_id text,
               client_name text, client_type text, platform text, message_order integer,
               recipient text, recipient_raw text, recipient_role text, recipient_valid boolean,
               admin_copy boolean, ig_count integer, tiktok_count integer, task_list_hash text,
               content_hash text, summary text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
SELECT m.task_date, as_of, 'task:' || m.client_id, m.client_id, m.client_name, m.client_type,
       'all', 1, r.recipient, r.recipient_raw, r.recipient_role, r.recipient_valid, false,
       m.ig_count, m.tiktok_count, m.task_list_hash,
       md5(m.header || m.body),
       m.header || E'\n🕒 Pengambilan data: ' || id_datetime_long(as_of) || ' WIB' || m.body
  FROM (SELECT (as_of AT TIME ZONE 'Asia/Jakarta')::date AS task_date,
               c.client_id, c.nama AS client_name, lower(coalesce(c.client_type, 'org')) AS client_type,
               coalesce(ig.n, 0) AS ig_count, coalesce(tt.n, 0) AS tiktok_count,
               md5(coalesce(ig.ids, '') || '|' || coalesce(tt.ids, '')) AS task_list_hash,
               '📋 *Daftar Tugas - ' || c.nama || '*' AS header,
               E'\n\nStatus tugas saat ini:\n'
               || '📸 Instagram: *' || id_number(coalesce(ig.n, 0)) || E'* konten\n'
               || '🎵 TikTok: *' || id_number(coalesce(tt.n, 0)) || E'* konten\n\n'
               || E'📝 *Detail Tugas:*\n'
               || '📸 *Tugas Instagram (' || id_number(coalesce(ig.n, 0)) || E' konten):*\n'
               || coalesce(cicero_numbered_list(ig.items), '-') || E'\n\n'
               || '🎵 *Tugas TikTok (' || id_number(coalesce(tt.n, 0)) || E' konten):*\n'
               || coalesce(cicero_numbered_list(tt.items), '-') || E'\n\n'
               || '_Pastikan semua tugas telah dikerjakan dengan baik._' AS body
          FROM cicero_clients() c
          LEFT JOIN (SELECT p.client_id, count(*)::integer AS n,
                            string_agg(p.shortcode, ',' ORDER BY p.created_at, p.shortcode) AS ids,
                            array_agg('https://www.instagram.com/p/' || p.shortcode || E'/\n'
                                      || '   _' || cicero_caption(ip.caption, 60) || E'_\n'
                                      || '   Upload: '
                                      || id_datetime_short(coalesce(ip.original_created_at, ip.created_at))
                                      || E' WIB\n'
                                      || '   Likes: '
                                      || CASE WHEN jsonb_typeof(l.likes) = 'array'
                                              THEN id_number(jsonb_array_length(l.likes)) ELSE '-' END
                                      || ' | Komentar: '
                                      || coalesce(id_number(ip.comment_count),
                                                  CASE WHEN jsonb_typeof(ic.comments) = 'array'
                                                       THEN id_number(jsonb_array_length(ic.comments)) END,
                                                  '-')
                                      ORDER BY p.created_at, p.shortcode) AS items
                       FROM report_ig_post p
                       JOIN cicero_insta_posts() ip ON ip.shortcode = p.shortcode
                       LEFT JOIN cicero_insta_likes() l ON l.shortcode = p.shortcode
                       LEFT JOIN cicero_insta_comments() ic ON ic.shortcode = p.shortcode
                      WHERE p.report_date = (as_of AT TIME ZONE 'Asia/Jakarta')::date
                        AND p.created_at <= as_of
                      GROUP BY p.client_id) ig ON ig.client_id = c.client_id
          LEFT JOIN (SELECT p.client_id, count(*)::integer AS n,
                            string_agg(p.video_id, ',' ORDER BY p.created_at, p.video_id) AS ids,
                            array_agg('https://www.tiktok.com/@'
                                      || coalesce(nullif(btrim(pc.client_tiktok, ' @'), ''), lower(pc.client_id))
                                      || '/video/' || p.video_id || E'\n'
                                      || '   _' || cicero_caption(tp.caption, 60) || E'_\n'
                                      || '   Upload: '
                                      || id_datetime_short(coalesce(tp.original_created_at, tp.created_at))
                                      || E' WIB\n'
                                      || '   Likes: ' || coalesce(id_number(tp.like_count), '-')
                                      || ' | Komentar: '
                                      || coalesce(CASE WHEN jsonb_typeof(k.comments) = 'array'
                                                       THEN id_number(jsonb_array_length(k.comments)) END,
                                                  id_number(tp.comment_count), '-')
                                      ORDER BY p.created_at, p.video_id) AS items
                       FROM report_tiktok_post p
                       JOIN cicero_tiktok_posts() tp ON tp.video_id = p.video_id
                       JOIN cicero_clients() pc ON pc.client_id = p.client_id
                       LEFT JOIN cicero_tiktok_comments() k ON k.video_id = p.video_id
                      WHERE p.report_date = (as_of AT TIME ZONE 'Asia/Jakarta')::date
                        AND p.created_at <= as_of
                      GROUP BY p.client_id) tt ON tt.client_id = c.client_id
         WHERE c.client_status
           AND coalesce(ig.n, 0) + coalesce(tt.n, 0) > 0) m
  JOIN report_recipient r ON r.client_id = m.client_id AND r.recipient_role = 'group'
$$;

CREATE OR REPLACE VIEW task_delivery_recap_view AS
SELECT * FROM task_delivery_recap_at(now());
