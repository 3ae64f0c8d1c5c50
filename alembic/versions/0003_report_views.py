"""Report views (views/*.sql) and their SQL helper functions.

The SQL below is a frozen copy of views/*.sql at the time of this revision, in load order
(``-- layer: N`` header, then name); this migration never reads views/ at run time.
tests/test_views_drift.py checks that a migrated database matches the files.

Revision ID: 0003_report_views
Revises: 0002_outbox_core
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0003_report_views"
down_revision = "0002_outbox_core"
branch_labels = None
depends_on = None

# (file stem, SQL) in load order.
VIEW_SQL: list[tuple[str, str]] = [
    (
        "report_functions",
        r"""
-- layer: 0
-- Helper functions of the report views: Indonesian formatting, handle normalisation (domain
-- §2.2), recipient splitting and the attendance rules (§2.3). No view here.
-- Every scalar helper is a single SQL expression (inlinable, IMMUTABLE) and independent of the
-- session's TimeZone, DateStyle and lc_* settings.

-- ---------------------------------------------------------------- Indonesian formatting
-- 1234567 -> '1.234.567' (Intl id-ID grouping with '.').
CREATE OR REPLACE FUNCTION id_number(n bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT regexp_replace(n::text, '([0-9])(?=([0-9]{3})+$)', '\1.', 'g') $$;

-- part/whole as a percentage with one decimal and a decimal comma: (1, 3) -> '33,3%'.
CREATE OR REPLACE FUNCTION id_percent(part numeric, whole numeric) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN whole IS NULL OR whole = 0 THEN '0%'
                  ELSE replace(round(100 * part / whole, 1)::text, '.', ',') || '%' END $$;

CREATE OR REPLACE FUNCTION id_day_name(d date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (ARRAY['Minggu', 'Senin', 'Selasa', 'Rabu', 'Kamis', 'Jumat', 'Sabtu'])
             [extract(dow FROM d)::int + 1] $$;

CREATE OR REPLACE FUNCTION id_month_name(m integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (ARRAY['Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni', 'Juli', 'Agustus',
                    'September', 'Oktober', 'November', 'Desember'])[m] $$;

CREATE OR REPLACE FUNCTION id_month_short(m integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (ARRAY['Jan', 'Feb', 'Mar', 'Apr', 'Mei', 'Jun', 'Jul', 'Agu', 'Sep', 'Okt', 'Nov',
                    'Des'])[m] $$;

-- 'Senin, 23 November 2026'
CREATE OR REPLACE FUNCTION id_date_long(d date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT id_day_name(d) || ', ' || extract(day FROM d)::int || ' '
             || id_month_name(extract(month FROM d)::int) || ' ' || extract(year FROM d)::int $$;

-- '23/11/2026'
CREATE OR REPLACE FUNCTION id_date_dmy(d date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT lpad(extract(day FROM d)::int::text, 2, '0') || '/'
             || lpad(extract(month FROM d)::int::text, 2, '0') || '/' || extract(year FROM d)::int $$;

-- 'November 2026'
CREATE OR REPLACE FUNCTION id_month_year(d date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT id_month_name(extract(month FROM d)::int) || ' ' || extract(year FROM d)::int $$;

-- The Jakarta calendar day of an instant.
CREATE OR REPLACE FUNCTION jakarta_date(ts timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (ts AT TIME ZONE 'Asia/Jakarta')::date $$;

-- '08.30' (Jakarta wall clock)
CREATE OR REPLACE FUNCTION id_time(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT lpad(extract(hour FROM (ts AT TIME ZONE 'Asia/Jakarta'))::int::text, 2, '0') || '.'
             || lpad(extract(minute FROM (ts AT TIME ZONE 'Asia/Jakarta'))::int::text, 2, '0') $$;

-- 'Selasa, 17 Februari 2026 pukul 08.30' (domain §11, hourly header; caller appends ' WIB')
CREATE OR REPLACE FUNCTION id_datetime_long(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT id_date_long((ts AT TIME ZONE 'Asia/Jakarta')::date) || ' pukul ' || id_time(ts) $$;

-- 'Selasa, 17 Feb 2026, 08.30' (domain §11, per-post upload stamp; caller appends ' WIB')
CREATE OR REPLACE FUNCTION id_datetime_short(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT id_day_name((ts AT TIME ZONE 'Asia/Jakarta')::date) || ', '
             || lpad(extract(day FROM (ts AT TIME ZONE 'Asia/Jakarta'))::int::text, 2, '0') || ' '
             || id_month_short(extract(month FROM (ts AT TIME ZONE 'Asia/Jakarta'))::int) || ' '
             || extract(year FROM (ts AT TIME ZONE 'Asia/Jakarta'))::int || ', ' || id_time(ts) $$;

-- ---------------------------------------------------------------- handles (domain §2.2)
-- Instagram: trim, take the handle out of an instagram.com / tiktok.com URL, strip '@' at the
-- ends, lower-case. NULL for an empty result. Collation "C": byte-wise and fast to compare,
-- hash and sort (it runs over every element of every like list).
CREATE OR REPLACE FUNCTION cicero_ig_handle(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT nullif(lower(btrim(
          CASE WHEN strpos(raw, '/') > 0
               THEN coalesce(substring(raw FROM '(?:instagram\.com|tiktok\.com)/+@?([^/?#[:space:]]+)'), raw)
               ELSE raw END, E' \t\r\n@') COLLATE "C"), '') $$;

-- TikTok: like normalizeHandleValue without the '@' prefix: handle out of a URL, keep only
-- [A-Za-z0-9._-], lower-case. NULL for an empty result. Collation "C" as above.
CREATE OR REPLACE FUNCTION cicero_tiktok_handle(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT nullif(lower(
          CASE WHEN ltrim(raw, '@') ~ '^[a-z0-9._-]+$' THEN ltrim(raw, '@')
               ELSE regexp_replace(
                        CASE WHEN strpos(raw, '/') > 0
                             THEN coalesce(substring(raw FROM '(?:instagram\.com|tiktok\.com)/+@?([^/?#[:space:]]+)'), raw)
                             ELSE raw END, '[^A-Za-z0-9._-]', '', 'g') END COLLATE "C"), '') $$;

-- One element of a like / comment array as returned by jsonb_array_elements_text (a username
-- string, or the text of a legacy {"username": ...} object), normalised. Written so that the
-- planner inlines them (the common string case never calls a function).
CREATE OR REPLACE FUNCTION cicero_ig_like_handle(elem text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN left(elem, 1) = '{' THEN cicero_ig_handle((elem::jsonb) ->> 'username')
                  ELSE cicero_ig_handle(elem) END $$;

-- Comment lists are written by the fetcher already normalised ('@handle'); like V2's reader,
-- the compare side only strips '@' (and blanks, a URL) and lower-cases (domain §2.2).
CREATE OR REPLACE FUNCTION cicero_tiktok_comment_handle(elem text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN left(elem, 1) = '{' THEN cicero_ig_handle((elem::jsonb) ->> 'username')
                  ELSE cicero_ig_handle(elem) END $$;

-- ---------------------------------------------------------------- engagement per post set
-- For a set of posts (e.g. one client's posts of one day, week or month): a jsonb object
-- {normalised handle: number of those posts whose like list holds it}. A handle listed twice
-- in one post (two spellings, legacy objects) counts once: each post sets its own bit of a
-- bit string and the bits are counted, so no per-post sort is needed. Entries are grouped by
-- their raw text first, so each distinct spelling is normalised once, not once per post.
CREATE OR REPLACE FUNCTION cicero_ig_done_by_handle(shortcodes text[]) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(jsonb_object_agg(t.handle, bit_count(t.posts))
                          FILTER (WHERE t.handle IS NOT NULL), '{}')
        FROM (SELECT cicero_ig_like_handle(r.entry) AS handle, bit_or(r.posts) AS posts
                FROM (SELECT v AS entry, bit_or(s.bit) AS posts
                        FROM (SELECT s.code,
                                     set_bit(repeat('0', cardinality(shortcodes))::varbit,
                                             s.i::integer - 1, 1) AS bit
                                FROM unnest(shortcodes) WITH ORDINALITY AS s(code, i)
                              OFFSET 0) s  -- the post's bit once per post
                        JOIN insta_like l ON l.shortcode = s.code
                       CROSS JOIN LATERAL jsonb_array_elements_text(
                                 CASE jsonb_typeof(l.likes) WHEN 'array' THEN l.likes
                                 ELSE '[]' END) AS v
                       GROUP BY v) r
               GROUP BY 1) t $$;

-- The same for TikTok videos and their comment lists.
CREATE OR REPLACE FUNCTION cicero_tiktok_done_by_handle(video_ids text[]) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(jsonb_object_agg(t.handle, bit_count(t.posts))
                          FILTER (WHERE t.handle IS NOT NULL), '{}')
        FROM (SELECT cicero_tiktok_comment_handle(r.entry) AS handle, bit_or(r.posts) AS posts
                FROM (SELECT v AS entry, bit_or(s.bit) AS posts
                        FROM (SELECT s.code,
                                     set_bit(repeat('0', cardinality(video_ids))::varbit,
                                             s.i::integer - 1, 1) AS bit
                                FROM unnest(video_ids) WITH ORDINALITY AS s(code, i)
                              OFFSET 0) s
                        JOIN tiktok_comment k ON k.video_id = s.code
                       CROSS JOIN LATERAL jsonb_array_elements_text(
                                 CASE jsonb_typeof(k.comments) WHEN 'array' THEN k.comments
                                 ELSE '[]' END) AS v
                       GROUP BY v) r
               GROUP BY 1) t $$;

-- ---------------------------------------------------------------- recipients
-- Split a multi-value contact column on ',', ';' or newlines; trimmed, empty parts dropped.
CREATE OR REPLACE FUNCTION cicero_split_list(raw text)
RETURNS TABLE (item text, ord bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT btrim(t.part), t.n
        FROM regexp_split_to_table(coalesce(raw, ''), '[,;\r\n]+') WITH ORDINALITY AS t(part, n)
       WHERE btrim(t.part) <> '' $$;

-- A client_group value made sendable where obviously fixable: invite-link prefix dropped,
-- bare 'digits' / 'digits-digits' get '@g.us'. Anything else is returned trimmed, unchanged.
CREATE OR REPLACE FUNCTION cicero_group_id(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN v ~ '^[0-9]+(-[0-9]+)?$' THEN v || '@g.us' ELSE v END
        FROM (SELECT lower(regexp_replace(btrim(raw), '^(https?://)?chat\.whatsapp\.com/(invite/)?', '', 'i')) AS v) s $$;

-- ---------------------------------------------------------------- attendance (domain §2.3)
-- rule 'all'  : lengkap = every post done (org recap, laphar);
-- rule 'half' : lengkap = at least half of the posts (directorate per-Polres recap, >= 50 %).
-- kurang = some but not enough; belum = none; belum_username = no handle (counted as belum);
-- exception users are always lengkap; tidak_ada_konten when there were no posts.
CREATE OR REPLACE FUNCTION cicero_attendance_status(posts integer, done integer,
                                                    has_handle boolean, is_exception boolean,
                                                    rule text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE
          WHEN coalesce(posts, 0) = 0 THEN 'tidak_ada_konten'
          WHEN is_exception THEN 'lengkap'
          WHEN NOT has_handle THEN 'belum_username'
          WHEN rule = 'half' AND 2 * done >= posts THEN 'lengkap'
          WHEN rule = 'all' AND done >= posts THEN 'lengkap'
          WHEN done > 0 THEN 'kurang'
          ELSE 'belum' END $$;

-- ---------------------------------------------------------------- ordering (domain §2.5)
CREATE OR REPLACE FUNCTION cicero_division_rank(divisi text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN upper(divisi) LIKE 'BAG%' THEN 1
                  WHEN upper(divisi) LIKE 'SAT%' THEN 2
                  WHEN upper(divisi) LIKE 'SI%' THEN 3
                  WHEN upper(divisi) LIKE 'SPKT%' THEN 4
                  WHEN upper(divisi) LIKE 'POLSEK%' THEN 5
                  ELSE 6 END $$;

CREATE OR REPLACE FUNCTION cicero_jabatan_rank(jabatan text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE split_part(upper(btrim(jabatan)), ' ', 1)
                  WHEN 'DIR' THEN 1 WHEN 'DIREKTUR' THEN 1 WHEN 'WADIR' THEN 2
                  WHEN 'KASUBDIT' THEN 3 WHEN 'KABAG' THEN 4 WHEN 'KASUBBAG' THEN 5
                  WHEN 'KASAT' THEN 6 WHEN 'KANIT' THEN 7 ELSE 8 END $$;

CREATE OR REPLACE FUNCTION cicero_pangkat_rank(title text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE upper(btrim(title))
                  WHEN 'KBP' THEN 1 WHEN 'KOMBES' THEN 1 WHEN 'KOMISARIS BESAR POLISI' THEN 1
                  WHEN 'AKBP' THEN 2 WHEN 'KOMPOL' THEN 3 WHEN 'AKP' THEN 4 WHEN 'IPTU' THEN 5
                  WHEN 'IPDA' THEN 6 WHEN 'AIPTU' THEN 7 WHEN 'AIPDA' THEN 8 WHEN 'BRIPKA' THEN 9
                  WHEN 'BRIGADIR' THEN 10 WHEN 'BRIGPOL' THEN 10 WHEN 'BRIPTU' THEN 11
                  WHEN 'BRIPDA' THEN 12 WHEN 'PEMBINA' THEN 13 WHEN 'PENATA TK I' THEN 14
                  WHEN 'PENATA' THEN 15 WHEN 'PENATA MUDA TK I' THEN 16 WHEN 'PENATA MUDA' THEN 17
                  WHEN 'PENGATUR TK I' THEN 18 WHEN 'PENGATUR' THEN 19 WHEN 'PENGATUR MUDA' THEN 20
                  WHEN 'JURU' THEN 21 WHEN 'PPPK' THEN 22 WHEN 'PHL' THEN 23 ELSE 99 END $$;

-- '<pangkat> <nama>' without doubled blanks.
CREATE OR REPLACE FUNCTION cicero_person_label(title text, nama text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT btrim(coalesce(btrim(title), '') || ' ' || coalesce(btrim(nama), '')) $$;

-- ---------------------------------------------------------------- lists
-- '1. a\n2. b ...' of the first lim items, or (from_end) of the last lim items, last first
-- (the "Bottom 5" of a list ranked best first). NULL for an empty list.
CREATE OR REPLACE FUNCTION cicero_numbered_list(items text[], lim integer DEFAULT NULL,
                                                from_end boolean DEFAULT false) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT string_agg(i || '. ' || CASE WHEN from_end THEN items[cardinality(items) + 1 - i]
                                          ELSE items[i] END, E'\n' ORDER BY i)
        FROM generate_series(1, least(cardinality(items), coalesce(lim, cardinality(items)))) AS i $$;

-- A caption on one line, cut to max_len characters with '…'; '(tanpa caption)' when empty.
CREATE OR REPLACE FUNCTION cicero_caption(caption text, max_len integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN c IS NULL OR c = '' THEN '(tanpa caption)'
                  WHEN length(c) > max_len THEN rtrim(left(c, max_len)) || '…'
                  ELSE c END
        FROM (SELECT btrim(regexp_replace(caption, '\s+', ' ', 'g')) AS c) s $$;
""",
    ),
    (
        "report_audience",
        r"""
-- layer: 1
-- Who is counted for a client (domain §2.2): active users only. Org (and any non-directorate)
-- client: the users whose client_id is the client. Directorate client: the users holding the
-- directorate's role (role_name = lower(client_id)), whatever their own satker.
-- Handles are normalised here once (§2.2); NULL = no handle ("belum input username").
CREATE OR REPLACE VIEW report_audience AS
SELECT c.client_id,
       lower(coalesce(c.client_type, 'org')) AS client_type,
       u.user_id,
       c.client_id AS user_client_id,
       c.nama AS user_client_name,
       u.title,
       u.nama,
       coalesce(nullif(btrim(u.divisi), ''), '-') AS divisi,
       u.jabatan,
       cicero_ig_handle(u.insta) AS insta,
       cicero_tiktok_handle(u.tiktok) AS tiktok,
       coalesce(u.exception, false) AS exception
  FROM clients c
  JOIN "user" u ON lower(u.client_id) = lower(c.client_id)
 WHERE u.status
   AND lower(coalesce(c.client_type, 'org')) <> 'direktorat'
UNION ALL
SELECT c.client_id,
       'direktorat' AS client_type,
       u.user_id,
       coalesce(uc.client_id, u.client_id) AS user_client_id,
       coalesce(uc.nama, u.client_id) AS user_client_name,
       u.title,
       u.nama,
       coalesce(nullif(btrim(u.divisi), ''), '-') AS divisi,
       u.jabatan,
       cicero_ig_handle(u.insta) AS insta,
       cicero_tiktok_handle(u.tiktok) AS tiktok,
       coalesce(u.exception, false) AS exception
  FROM clients c
  JOIN roles r ON lower(r.role_name) = lower(c.client_id)
  JOIN user_roles ur ON ur.role_id = r.role_id
  JOIN "user" u ON u.user_id = ur.user_id
  LEFT JOIN clients uc ON lower(uc.client_id) = lower(u.client_id)
 WHERE u.status
   AND lower(c.client_type) = 'direktorat';
""",
    ),
    (
        "report_ig_post",
        r"""
-- layer: 1
-- Instagram task posts: one row per (client, post) with the post's Jakarta day. A post is a
-- task of a client when it is the client's own post (insta_post.client_id), a collaboration
-- post listed in insta_post_clients, or (directorate clients) tagged with the client's role in
-- insta_post_roles (domain §2.1). Client ids are matched case-insensitively and reported in
-- their canonical clients.client_id spelling. created_at must be timestamptz (as migration
-- 0001 creates it): on a legacy install with a naive UTC column, convert it first
-- (ALTER ... TYPE timestamptz USING created_at AT TIME ZONE 'UTC').
CREATE OR REPLACE VIEW report_ig_post AS
SELECT c.client_id,
       (p.created_at AT TIME ZONE 'Asia/Jakarta')::date AS report_date,
       p.shortcode,
       p.created_at
  FROM insta_post p
  JOIN clients c ON lower(c.client_id) = lower(p.client_id)
UNION
SELECT c.client_id,
       (p.created_at AT TIME ZONE 'Asia/Jakarta')::date AS report_date,
       p.shortcode,
       p.created_at
  FROM insta_post_clients pc
  JOIN insta_post p ON p.shortcode = pc.shortcode
  JOIN clients c ON lower(c.client_id) = lower(pc.client_id)
UNION
SELECT c.client_id,
       (p.created_at AT TIME ZONE 'Asia/Jakarta')::date AS report_date,
       p.shortcode,
       p.created_at
  FROM insta_post_roles r
  JOIN insta_post p ON p.shortcode = r.shortcode
  JOIN clients c ON lower(c.client_id) = lower(r.role_name)
                AND lower(c.client_type) = 'direktorat';
""",
    ),
    (
        "report_recipient",
        r"""
-- layer: 1
-- WhatsApp recipients of each client, one row per (client, recipient): client_group values
-- (role 'group'), client_operator ('operator') and client_super ('super'), split on ',', ';'
-- and newlines, deduplicated on the canonical JID (first role wins, in that order).
-- recipient = the JID wa_parse_recipient (migration 0002) makes of the value, or the trimmed
-- raw text when it cannot: the outbox check then refuses it, the producer logs and skips it.
CREATE OR REPLACE VIEW report_recipient AS
SELECT DISTINCT ON (client_id, recipient)
       client_id, recipient_role, recipient_raw, recipient, recipient_valid, recipient_rank
  FROM (SELECT v.client_id, v.recipient_role, v.recipient_raw,
               coalesce(p.jid, v.candidate) AS recipient,
               p.problem IS NULL AS recipient_valid,
               v.role_rank * 1000 + v.ord AS recipient_rank
          FROM (SELECT c.client_id, 'group' AS recipient_role, 1 AS role_rank, s.item AS recipient_raw,
                       cicero_group_id(s.item) AS candidate, s.ord
                  FROM clients c CROSS JOIN LATERAL cicero_split_list(c.client_group) s
                UNION ALL
                SELECT c.client_id, 'operator', 2, s.item, s.item, s.ord
                  FROM clients c CROSS JOIN LATERAL cicero_split_list(c.client_operator) s
                UNION ALL
                SELECT c.client_id, 'super', 3, s.item, s.item, s.ord
                  FROM clients c CROSS JOIN LATERAL cicero_split_list(c.client_super) s) v
          CROSS JOIN LATERAL wa_parse_recipient(v.candidate) p) r
 ORDER BY client_id, recipient, recipient_rank;
""",
    ),
    (
        "report_tiktok_post",
        r"""
-- layer: 1
-- TikTok task posts: one row per (client, video) with the video's Jakarta day: the client's
-- own videos and, for directorate clients, videos tagged with the client's role in
-- tiktok_post_roles (domain §2.1).
CREATE OR REPLACE VIEW report_tiktok_post AS
SELECT c.client_id,
       (p.created_at AT TIME ZONE 'Asia/Jakarta')::date AS report_date,
       p.video_id,
       p.created_at
  FROM tiktok_post p
  JOIN clients c ON lower(c.client_id) = lower(p.client_id)
UNION
SELECT c.client_id,
       (p.created_at AT TIME ZONE 'Asia/Jakarta')::date AS report_date,
       p.video_id,
       p.created_at
  FROM tiktok_post_roles r
  JOIN tiktok_post p ON p.video_id = r.video_id
  JOIN clients c ON lower(c.client_id) = lower(r.role_name)
                AND lower(c.client_type) = 'direktorat';
""",
    ),
    (
        "report_engagement_day",
        r"""
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
""",
    ),
    (
        "report_engagement_month",
        r"""
-- layer: 2
-- Engagement per calendar month: one row per (month_start, client) that had at least one IG or TikTok
-- post in the month: the post counts and, per platform, a jsonb object {normalised handle: number
-- of those posts the handle liked / commented} (cicero_*_done_by_handle). month_start is a grouping
-- column down to the post scans, so a filter on it is applied when the posts are read.
CREATE OR REPLACE VIEW report_engagement_month AS
SELECT q.month_start,
       q.client_id,
       (count(*) FILTER (WHERE q.kind = 'ig'))::integer AS ig_posts,
       (count(*) FILTER (WHERE q.kind = 'tiktok'))::integer AS tiktok_posts,
       cicero_ig_done_by_handle(array_agg(q.post_id ORDER BY q.post_id)
                                    FILTER (WHERE q.kind = 'ig')) AS ig_done_by_handle,
       cicero_tiktok_done_by_handle(array_agg(q.post_id ORDER BY q.post_id)
                                        FILTER (WHERE q.kind = 'tiktok')) AS tiktok_done_by_handle
  FROM (SELECT date_trunc('month', report_date::timestamp)::date AS month_start, client_id, 'ig' AS kind, shortcode::text AS post_id
          FROM report_ig_post
        UNION ALL
        SELECT date_trunc('month', report_date::timestamp)::date, client_id, 'tiktok', video_id::text
          FROM report_tiktok_post) q
 GROUP BY q.month_start, q.client_id;
""",
    ),
    (
        "report_engagement_week",
        r"""
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
""",
    ),
    (
        "report_user_day",
        r"""
-- layer: 3
-- Per-user attendance per Jakarta day: one row per (report_date, audience client, user) for every
-- Jakarta day in which the client had at least one post. ig_posts / tiktok_posts = the client's
-- posts in that Jakarta day; *_done = how many of them the user liked / commented (his normalised
-- handle looked up in report_engagement_day); exception users count as done on every post
-- (domain §2.4). Statuses use the rule of the client's report: 'all' (every post) for org
-- clients, 'half' (>= 50 %) for directorates (cicero_attendance_status). Active users only.
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
  FROM report_engagement_day x
  JOIN report_audience a ON a.client_id = x.client_id
 CROSS JOIN LATERAL (
       SELECT CASE WHEN a.exception THEN x.ig_posts
                   ELSE least(coalesce((x.ig_done_by_handle ->> a.insta)::integer, 0), x.ig_posts)
              END AS ig_done,
              CASE WHEN a.exception THEN x.tiktok_posts
                   ELSE least(coalesce((x.tiktok_done_by_handle ->> a.tiktok)::integer, 0),
                              x.tiktok_posts)
              END AS tiktok_done
       OFFSET 0) d;  -- OFFSET 0: look each handle up once, not once per reference
""",
    ),
    (
        "report_user_month",
        r"""
-- layer: 3
-- Per-user attendance per calendar month: one row per (month_start, audience client, user) for every
-- calendar month in which the client had at least one post. ig_posts / tiktok_posts = the client's
-- posts in that calendar month; *_done = how many of them the user liked / commented (his normalised
-- handle looked up in report_engagement_month); exception users count as done on every post
-- (domain §2.4). Statuses use the rule of the client's report: 'all' (every post) for org
-- clients, 'half' (>= 50 %) for directorates (cicero_attendance_status). Active users only.
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
                                CASE a.client_type WHEN 'direktorat' THEN 'half' ELSE 'all' END)
           AS ig_status,
       cicero_attendance_status(x.tiktok_posts, d.tiktok_done, a.tiktok IS NOT NULL, a.exception,
                                CASE a.client_type WHEN 'direktorat' THEN 'half' ELSE 'all' END)
           AS tiktok_status
  FROM report_engagement_month x
  JOIN report_audience a ON a.client_id = x.client_id
 CROSS JOIN LATERAL (
       SELECT CASE WHEN a.exception THEN x.ig_posts
                   ELSE least(coalesce((x.ig_done_by_handle ->> a.insta)::integer, 0), x.ig_posts)
              END AS ig_done,
              CASE WHEN a.exception THEN x.tiktok_posts
                   ELSE least(coalesce((x.tiktok_done_by_handle ->> a.tiktok)::integer, 0),
                              x.tiktok_posts)
              END AS tiktok_done
       OFFSET 0) d;  -- OFFSET 0: look each handle up once, not once per reference
""",
    ),
    (
        "report_user_week",
        r"""
-- layer: 3
-- Per-user attendance per Monday-Sunday week: one row per (week_start, audience client, user) for every
-- Monday-Sunday week in which the client had at least one post. ig_posts / tiktok_posts = the client's
-- posts in that Monday-Sunday week; *_done = how many of them the user liked / commented (his normalised
-- handle looked up in report_engagement_week); exception users count as done on every post
-- (domain §2.4). Statuses use the rule of the client's report: 'all' (every post) for org
-- clients, 'half' (>= 50 %) for directorates (cicero_attendance_status). Active users only.
CREATE OR REPLACE VIEW report_user_week AS
SELECT x.week_start,
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
  FROM report_engagement_week x
  JOIN report_audience a ON a.client_id = x.client_id
 CROSS JOIN LATERAL (
       SELECT CASE WHEN a.exception THEN x.ig_posts
                   ELSE least(coalesce((x.ig_done_by_handle ->> a.insta)::integer, 0), x.ig_posts)
              END AS ig_done,
              CASE WHEN a.exception THEN x.tiktok_posts
                   ELSE least(coalesce((x.tiktok_done_by_handle ->> a.tiktok)::integer, 0),
                              x.tiktok_posts)
              END AS tiktok_done
       OFFSET 0) d;  -- OFFSET 0: look each handle up once, not once per reference
""",
    ),
    (
        "report_division_day",
        r"""
-- layer: 4
-- Per (report_date, audience client, satker, divisi) attendance counts, Instagram (ig_*) and
-- TikTok (tiktok_*) side by side, and for org clients the name lists of the org recap
-- (domain §3.1): each person as '- <pangkat nama> : @handle (x/N konten)', ordered by
-- jabatan, pangkat, name (§2.5). *_users counts the users of platforms with posts that day;
-- belum = users with a handle who did nothing, belum_username = users without a handle
-- ("Belum" in the messages is both). Directorate recaps need no name lists (NULL there).
CREATE OR REPLACE VIEW report_division_day AS
SELECT u.report_date, u.client_id, u.client_type, u.user_client_id, u.user_client_name, u.divisi,
       cicero_division_rank(u.divisi) AS division_rank,
       max(u.ig_posts) AS ig_posts,
       (count(*) FILTER (WHERE u.ig_posts > 0))::integer AS ig_users,
       (count(*) FILTER (WHERE u.ig_status = 'lengkap'))::integer AS ig_lengkap,
       (count(*) FILTER (WHERE u.ig_status = 'kurang'))::integer AS ig_kurang,
       (count(*) FILTER (WHERE u.ig_status = 'belum'))::integer AS ig_belum,
       (count(*) FILTER (WHERE u.ig_status = 'belum_username'))::integer AS ig_belum_username,
       sum(u.ig_done)::integer AS ig_done_total,
       max(u.tiktok_posts) AS tiktok_posts,
       (count(*) FILTER (WHERE u.tiktok_posts > 0))::integer AS tiktok_users,
       (count(*) FILTER (WHERE u.tiktok_status = 'lengkap'))::integer AS tiktok_lengkap,
       (count(*) FILTER (WHERE u.tiktok_status = 'kurang'))::integer AS tiktok_kurang,
       (count(*) FILTER (WHERE u.tiktok_status = 'belum'))::integer AS tiktok_belum,
       (count(*) FILTER (WHERE u.tiktok_status = 'belum_username'))::integer
           AS tiktok_belum_username,
       sum(u.tiktok_done)::integer AS tiktok_done_total,
       string_agg(u.ig_line, E'\n' ORDER BY u.person_rank, u.nama, u.user_id)
           FILTER (WHERE u.ig_status = 'lengkap') AS ig_lengkap_lines,
       string_agg(u.ig_line, E'\n' ORDER BY u.person_rank, u.nama, u.user_id)
           FILTER (WHERE u.ig_status = 'kurang') AS ig_kurang_lines,
       string_agg(u.ig_line, E'\n' ORDER BY u.person_rank, u.nama, u.user_id)
           FILTER (WHERE u.ig_status IN ('belum', 'belum_username')) AS ig_belum_lines,
       string_agg(u.tiktok_line, E'\n' ORDER BY u.person_rank, u.nama, u.user_id)
           FILTER (WHERE u.tiktok_status = 'lengkap') AS tiktok_lengkap_lines,
       string_agg(u.tiktok_line, E'\n' ORDER BY u.person_rank, u.nama, u.user_id)
           FILTER (WHERE u.tiktok_status = 'kurang') AS tiktok_kurang_lines,
       string_agg(u.tiktok_line, E'\n' ORDER BY u.person_rank, u.nama, u.user_id)
           FILTER (WHERE u.tiktok_status IN ('belum', 'belum_username')) AS tiktok_belum_lines
  FROM (SELECT d.report_date, d.client_id, d.client_type, d.user_client_id, d.user_client_name,
               d.divisi, d.user_id, d.nama COLLATE "C" AS nama,
               d.ig_posts, d.ig_done, d.ig_status, d.tiktok_posts, d.tiktok_done, d.tiktok_status,
               CASE WHEN d.client_type <> 'direktorat'
                    THEN cicero_jabatan_rank(d.jabatan) * 100 + cicero_pangkat_rank(d.title)
               END AS person_rank,
               CASE WHEN d.client_type <> 'direktorat' AND d.ig_posts > 0
                    THEN '- ' || cicero_person_label(d.title, d.nama) || ' : '
                         || CASE WHEN d.insta IS NOT NULL
                                 THEN '@' || d.insta || ' (' || d.ig_done || '/' || d.ig_posts
                                      || ' konten)'
                                 WHEN d.exception
                                 THEN '- (' || d.ig_done || '/' || d.ig_posts || ' konten)'
                                 ELSE 'belum mengisi data instagram' END
               END AS ig_line,
               CASE WHEN d.client_type <> 'direktorat' AND d.tiktok_posts > 0
                    THEN '- ' || cicero_person_label(d.title, d.nama) || ' : '
                         || CASE WHEN d.tiktok IS NOT NULL
                                 THEN '@' || d.tiktok || ' (' || d.tiktok_done || '/'
                                      || d.tiktok_posts || ' konten)'
                                 WHEN d.exception
                                 THEN '- (' || d.tiktok_done || '/' || d.tiktok_posts || ' konten)'
                                 ELSE 'belum mengisi data tiktok' END
               END AS tiktok_line
          FROM report_user_day d) u
 GROUP BY u.report_date, u.client_id, u.client_type, u.user_client_id, u.user_client_name,
          u.divisi;
""",
    ),
    (
        "report_satker_month",
        r"""
-- layer: 4
-- Per (month_start, audience client, satker) totals of the monthly recap, and (org clients) the
-- satker's personnel ranked by likes + comments, best first, exception users left out
-- (they are always complete). *_target = posts x users (what full attendance would give).
CREATE OR REPLACE VIEW report_satker_month AS
SELECT month_start, client_id, client_type, user_client_id, user_client_name,
       count(*)::integer AS users,
       max(ig_posts) AS ig_posts,
       max(tiktok_posts) AS tiktok_posts,
       sum(ig_done)::integer AS ig_done,
       sum(ig_posts)::integer AS ig_target,
       sum(tiktok_done)::integer AS tiktok_done,
       sum(tiktok_posts)::integer AS tiktok_target,
       array_agg(cicero_person_label(title, nama) || ' (' || divisi || ' • ' || user_client_name
                 || ') — ' || id_number(ig_done) || ' likes, ' || id_number(tiktok_done)
                 || ' komentar'
                 ORDER BY ig_done + tiktok_done DESC, nama, user_id)
           FILTER (WHERE NOT exception) AS personnel_ranked
  FROM report_user_month
 GROUP BY month_start, client_id, client_type, user_client_id, user_client_name;
""",
    ),
    (
        "report_satker_week",
        r"""
-- layer: 4
-- Per (week_start, audience client, satker) totals of the weekly recap, and (org clients) the
-- satker's personnel ranked by likes + comments, best first, exception users left out
-- (they are always complete). *_target = posts x users (what full attendance would give).
CREATE OR REPLACE VIEW report_satker_week AS
SELECT week_start, client_id, client_type, user_client_id, user_client_name,
       count(*)::integer AS users,
       max(ig_posts) AS ig_posts,
       max(tiktok_posts) AS tiktok_posts,
       sum(ig_done)::integer AS ig_done,
       sum(ig_posts)::integer AS ig_target,
       sum(tiktok_done)::integer AS tiktok_done,
       sum(tiktok_posts)::integer AS tiktok_target,
       array_agg(cicero_person_label(title, nama) || ' (' || divisi || ' • ' || user_client_name
                 || ') — ' || id_number(ig_done) || ' likes, ' || id_number(tiktok_done)
                 || ' komentar'
                 ORDER BY ig_done + tiktok_done DESC, nama, user_id)
           FILTER (WHERE NOT exception) AS personnel_ranked
  FROM report_user_week
 GROUP BY week_start, client_id, client_type, user_client_id, user_client_name;
""",
    ),
    (
        "report_client_month",
        r"""
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
""",
    ),
    (
        "report_client_week",
        r"""
-- layer: 5
-- Per (week_start, audience client) totals of the weekly recap and its Top / Bottom list source:
-- ranked = personnel (org clients) or satker other than the directorate (directorates), best
-- first by likes + comments.
CREATE OR REPLACE VIEW report_client_week AS
SELECT week_start, client_id, client_type,
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
  FROM report_satker_week
 GROUP BY week_start, client_id, client_type;
""",
    ),
    (
        "report_satker_day",
        r"""
-- layer: 5
-- Per (report_date, audience client, satker) totals, Instagram and TikTok side by side: the
-- per-Polres blocks of the directorate recap (an org client's only satker is itself) and,
-- for org clients, the satker's division blocks of the org recap in division order (§2.5).
CREATE OR REPLACE VIEW report_satker_day AS
SELECT report_date, client_id, client_type, user_client_id, user_client_name,
       max(ig_posts) AS ig_posts,
       sum(ig_users)::integer AS ig_users,
       sum(ig_lengkap)::integer AS ig_lengkap,
       sum(ig_kurang)::integer AS ig_kurang,
       sum(ig_belum)::integer AS ig_belum,
       sum(ig_belum_username)::integer AS ig_belum_username,
       sum(ig_done_total)::integer AS ig_done_total,
       max(tiktok_posts) AS tiktok_posts,
       sum(tiktok_users)::integer AS tiktok_users,
       sum(tiktok_lengkap)::integer AS tiktok_lengkap,
       sum(tiktok_kurang)::integer AS tiktok_kurang,
       sum(tiktok_belum)::integer AS tiktok_belum,
       sum(tiktok_belum_username)::integer AS tiktok_belum_username,
       sum(tiktok_done_total)::integer AS tiktok_done_total,
       string_agg('*' || divisi || '* (' || id_number(ig_users) || E' user):\n'
                  || '✅ Lengkap (' || id_number(ig_lengkap) || E' user):\n'
                  || coalesce(ig_lengkap_lines, '-') || E'\n'
                  || '⚠️ Kurang (' || id_number(ig_kurang) || E' user):\n'
                  || coalesce(ig_kurang_lines, '-') || E'\n'
                  || '❌ Belum (' || id_number(ig_belum + ig_belum_username) || E' user):\n'
                  || coalesce(ig_belum_lines, '-'),
                  E'\n\n' ORDER BY division_rank, divisi)
           FILTER (WHERE client_type <> 'direktorat' AND ig_users > 0) AS ig_division_blocks,
       string_agg('*' || divisi || '* (' || id_number(tiktok_users) || E' user):\n'
                  || '✅ Lengkap (' || id_number(tiktok_lengkap) || E' user):\n'
                  || coalesce(tiktok_lengkap_lines, '-') || E'\n'
                  || '⚠️ Kurang (' || id_number(tiktok_kurang) || E' user):\n'
                  || coalesce(tiktok_kurang_lines, '-') || E'\n'
                  || '❌ Belum (' || id_number(tiktok_belum + tiktok_belum_username)
                  || E' user):\n' || coalesce(tiktok_belum_lines, '-'),
                  E'\n\n' ORDER BY division_rank, divisi)
           FILTER (WHERE client_type <> 'direktorat' AND tiktok_users > 0)
           AS tiktok_division_blocks
  FROM report_division_day
 GROUP BY report_date, client_id, client_type, user_client_id, user_client_name;
""",
    ),
    (
        "task_delivery_recap_view",
        r"""
-- layer: 5
-- Task delivery recap, "Daftar Tugas" (domain §3.4): one row per (active client with at least
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
          FROM clients c
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
                       JOIN insta_post ip ON ip.shortcode = p.shortcode
                       LEFT JOIN insta_like l ON l.shortcode = p.shortcode
                       LEFT JOIN insta_comment ic ON ic.shortcode = p.shortcode
                      WHERE p.report_date = (as_of AT TIME ZONE 'Asia/Jakarta')::date
                        AND p.created_at <= as_of
                      GROUP BY p.client_id) ig ON ig.client_id = c.client_id
          LEFT JOIN (SELECT p.client_id, count(*)::integer AS n,
                            string_agg(p.video_id, ',' ORDER BY p.created_at, p.video_id) AS ids,
                            array_agg('https://www.tiktok.com/@'
                                      || coalesce(nullif(btrim(pc.client_tiktok, ' @'), ''), pc.client_id)
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
                       JOIN tiktok_post tp ON tp.video_id = p.video_id
                       JOIN clients pc ON pc.client_id = p.client_id
                       LEFT JOIN tiktok_comment k ON k.video_id = p.video_id
                      WHERE p.report_date = (as_of AT TIME ZONE 'Asia/Jakarta')::date
                        AND p.created_at <= as_of
                      GROUP BY p.client_id) tt ON tt.client_id = c.client_id
         WHERE c.client_status
           AND coalesce(ig.n, 0) + coalesce(tt.n, 0) > 0) m
  JOIN report_recipient r ON r.client_id = m.client_id AND r.recipient_role = 'group'
$$;

CREATE OR REPLACE VIEW task_delivery_recap_view AS
SELECT * FROM task_delivery_recap_at(now());
""",
    ),
    (
        "monthly_report_view",
        r"""
-- layer: 6
-- Monthly report (the 1st, 07:00, for the previous month; domain §3.5): one row per (month_start, message
-- 'monthly:<CLIENT>', recipient) for every active org or directorate client: IG and TikTok
-- totals, Top 5 / Bottom 5 personnel (org; exception users left out) or satker (directorate)
-- by likes + comments. The producer attaches the .xlsx built from report_user_day
-- (attachment_name suggests its file name). Directorates: admin_copy = true.
-- Filter with WHERE month_start = <date>: the date reaches every layer below.
CREATE OR REPLACE VIEW monthly_report_view AS
SELECT w.month_start,
       w.month_start AS period_start,
       (w.month_start + interval '1 month')::date - 1 AS period_end,
       'monthly:' || c.client_id AS message_key,
       c.client_id, c.nama AS client_name, ct.client_type,
       'all' AS platform, 1 AS message_order,
       r.recipient, r.recipient_raw, r.recipient_role, r.recipient_valid,
       ct.client_type = 'direktorat' AS admin_copy,
       'Rekap_Bulanan_' || c.client_id || '_' || w.month_start || '_' || (w.month_start + interval '1 month')::date - 1 || '.xlsx'
           AS attachment_name,
       E'📊 *Laporan Bulanan Engagement*\n'
       || '*' || c.nama || E'*\n'
       || 'Periode: ' || 'Bulan ' || id_month_year(w.month_start) || ' (' || id_date_dmy(w.month_start) || ' s.d. '
          || id_date_dmy((w.month_start + interval '1 month')::date - 1) || ')' || E'\n\n'
       || CASE WHEN coalesce(t.ig_posts, 0) + coalesce(t.tiktok_posts, 0) = 0
               THEN E'Tidak ada konten tugas pada periode ini.\n'
               ELSE '*Jumlah personil:* ' || id_number(t.users) || ' '
                    || CASE WHEN ct.client_type = 'direktorat' THEN 'pers' ELSE 'user' END
                    || E'\n'
                    || '📸 *Instagram:* ' || id_number(t.ig_posts) || E' konten\n'
                    || 'Likes personil: ' || id_number(t.ig_done) || ' dari '
                    || id_number(t.ig_target) || ' (' || id_percent(t.ig_done, t.ig_target)
                    || E')\n'
                    || '🎵 *TikTok:* ' || id_number(t.tiktok_posts) || E' konten\n'
                    || 'Komentar personil: ' || id_number(t.tiktok_done) || ' dari '
                    || id_number(t.tiktok_target)
                    || ' (' || id_percent(t.tiktok_done, t.tiktok_target) || E')\n\n'
                    || '🔥 *5 ' || ct.rank_label || E' Tertinggi*\n'
                    || coalesce(cicero_numbered_list(t.ranked, 5), 'Tidak ada data.') || E'\n\n'
                    || '❄️ *5 ' || ct.rank_label || E' Terendah*\n'
                    || coalesce(cicero_numbered_list(t.ranked, 5, true), 'Tidak ada data.')
                    || E'\n'
          END
       || E'\n📎 Rekap Excel terlampir.\nTerimakasih.' AS summary
  FROM (SELECT (date '2000-01-01' + make_interval(months => g))::date AS month_start FROM generate_series(0, 1211) AS g) w
 CROSS JOIN clients c
 CROSS JOIN LATERAL (SELECT lower(c.client_type) AS client_type,
                            CASE WHEN lower(c.client_type) = 'direktorat' THEN 'Satker'
                                 ELSE 'Pelaksana' END AS rank_label) ct
  LEFT JOIN report_client_month t ON t.month_start = w.month_start AND t.client_id = c.client_id
  JOIN report_recipient r ON r.client_id = c.client_id
 WHERE c.client_status
   AND ct.client_type IN ('org', 'direktorat');
""",
    ),
    (
        "report_client_day",
        r"""
-- layer: 6
-- Per (report_date, audience client, platform) totals under the client's rule, plus the
-- pieces of the daily messages: division_blocks (org recap), satker_blocks (directorate recap:
-- the directorate itself first, then by sudah, personnel, name - §2.5) and satker_ranked
-- (satker other than the directorate by likes / comments, best first: Top / Bottom 5).
-- platform 'instagram' (likes) or 'tiktok' (comments), only when there were posts.
-- users = users counted, sudah = lengkap + kurang, belum excludes belum_username.
CREATE OR REPLACE VIEW report_client_day AS
SELECT a.report_date, a.client_id, a.client_type, v.platform, v.posts, v.users, v.lengkap,
       v.kurang, v.belum, v.belum_username, v.lengkap + v.kurang AS sudah, v.done_total,
       v.division_blocks, v.satker_blocks, v.satker_ranked
  FROM (SELECT report_date, client_id, client_type,
               max(ig_posts) AS ig_posts,
               sum(ig_users)::integer AS ig_users,
               sum(ig_lengkap)::integer AS ig_lengkap,
               sum(ig_kurang)::integer AS ig_kurang,
               sum(ig_belum)::integer AS ig_belum,
               sum(ig_belum_username)::integer AS ig_belum_username,
               sum(ig_done_total)::integer AS ig_done_total,
               max(tiktok_posts) AS tiktok_posts,
               sum(tiktok_users)::integer AS tiktok_users,
               sum(tiktok_lengkap)::integer AS tiktok_lengkap,
               sum(tiktok_kurang)::integer AS tiktok_kurang,
               sum(tiktok_belum)::integer AS tiktok_belum,
               sum(tiktok_belum_username)::integer AS tiktok_belum_username,
               sum(tiktok_done_total)::integer AS tiktok_done_total,
               string_agg(ig_division_blocks, E'\n\n'
                          ORDER BY user_client_id = client_id DESC, user_client_name)
                   AS ig_division_blocks,
               string_agg(tiktok_division_blocks, E'\n\n'
                          ORDER BY user_client_id = client_id DESC, user_client_name)
                   AS tiktok_division_blocks,
               array_agg('*' || user_client_name || E'*\n'
                         || 'Jumlah Personil: ' || id_number(ig_users) || E' pers\n'
                         || '✅ Sudah: ' || id_number(ig_lengkap + ig_kurang) || ' pers (lengkap '
                         || id_number(ig_lengkap) || ', kurang ' || id_number(ig_kurang) || E')\n'
                         || '❌ Belum: ' || id_number(ig_belum + ig_belum_username) || E' pers\n'
                         || '⚠️❌ Belum Update Username: ' || id_number(ig_belum_username)
                         || ' pers'
                         ORDER BY user_client_id = client_id DESC, ig_lengkap + ig_kurang DESC,
                                  ig_users DESC, user_client_name)
                   FILTER (WHERE client_type = 'direktorat' AND ig_users > 0) AS ig_satker_blocks,
               array_agg('*' || user_client_name || E'*\n'
                         || 'Jumlah Personil: ' || id_number(tiktok_users) || E' pers\n'
                         || '✅ Sudah: ' || id_number(tiktok_lengkap + tiktok_kurang)
                         || ' pers (lengkap ' || id_number(tiktok_lengkap) || ', kurang '
                         || id_number(tiktok_kurang) || E')\n'
                         || '❌ Belum: ' || id_number(tiktok_belum + tiktok_belum_username)
                         || E' pers\n'
                         || '⚠️❌ Belum Update Username: ' || id_number(tiktok_belum_username)
                         || ' pers'
                         ORDER BY user_client_id = client_id DESC,
                                  tiktok_lengkap + tiktok_kurang DESC, tiktok_users DESC,
                                  user_client_name)
                   FILTER (WHERE client_type = 'direktorat' AND tiktok_users > 0)
                   AS tiktok_satker_blocks,
               array_agg(user_client_name || ' – ' || id_number(ig_done_total) || ' likes'
                         ORDER BY ig_done_total DESC, user_client_name)
                   FILTER (WHERE client_type = 'direktorat' AND user_client_id <> client_id
                           AND ig_users > 0) AS ig_satker_ranked,
               array_agg(user_client_name || ' – ' || id_number(tiktok_done_total) || ' komentar'
                         ORDER BY tiktok_done_total DESC, user_client_name)
                   FILTER (WHERE client_type = 'direktorat' AND user_client_id <> client_id
                           AND tiktok_users > 0) AS tiktok_satker_ranked
          FROM report_satker_day
         GROUP BY report_date, client_id, client_type) a
 CROSS JOIN LATERAL (VALUES
        ('instagram', a.ig_posts, a.ig_users, a.ig_lengkap, a.ig_kurang, a.ig_belum,
         a.ig_belum_username, a.ig_done_total, a.ig_division_blocks, a.ig_satker_blocks,
         a.ig_satker_ranked),
        ('tiktok', a.tiktok_posts, a.tiktok_users, a.tiktok_lengkap, a.tiktok_kurang,
         a.tiktok_belum, a.tiktok_belum_username, a.tiktok_done_total, a.tiktok_division_blocks,
         a.tiktok_satker_blocks, a.tiktok_satker_ranked))
       AS v(platform, posts, users, lengkap, kurang, belum, belum_username, done_total,
            division_blocks, satker_blocks, satker_ranked)
 WHERE v.posts > 0;
""",
    ),
    (
        "weekly_report_view",
        r"""
-- layer: 6
-- Weekly report (Monday 07:00 for the previous Monday-Sunday; domain §3.5): one row per (week_start, message
-- 'weekly:<CLIENT>', recipient) for every active org or directorate client: IG and TikTok
-- totals, Top 5 / Bottom 5 personnel (org; exception users left out) or satker (directorate)
-- by likes + comments. The producer attaches the .xlsx built from report_user_day
-- (attachment_name suggests its file name). Directorates: admin_copy = true.
-- Filter with WHERE week_start = <date>: the date reaches every layer below.
CREATE OR REPLACE VIEW weekly_report_view AS
SELECT w.week_start,
       w.week_start AS period_start,
       w.week_start + 6 AS period_end,
       'weekly:' || c.client_id AS message_key,
       c.client_id, c.nama AS client_name, ct.client_type,
       'all' AS platform, 1 AS message_order,
       r.recipient, r.recipient_raw, r.recipient_role, r.recipient_valid,
       ct.client_type = 'direktorat' AS admin_copy,
       'Rekap_Mingguan_' || c.client_id || '_' || w.week_start || '_' || w.week_start + 6 || '.xlsx'
           AS attachment_name,
       E'📊 *Laporan Mingguan Engagement*\n'
       || '*' || c.nama || E'*\n'
       || 'Periode: ' || id_day_name(w.week_start) || ', ' || id_date_dmy(w.week_start) || ' s.d. '
          || id_day_name(w.week_start + 6) || ', ' || id_date_dmy(w.week_start + 6) || E'\n\n'
       || CASE WHEN coalesce(t.ig_posts, 0) + coalesce(t.tiktok_posts, 0) = 0
               THEN E'Tidak ada konten tugas pada periode ini.\n'
               ELSE '*Jumlah personil:* ' || id_number(t.users) || ' '
                    || CASE WHEN ct.client_type = 'direktorat' THEN 'pers' ELSE 'user' END
                    || E'\n'
                    || '📸 *Instagram:* ' || id_number(t.ig_posts) || E' konten\n'
                    || 'Likes personil: ' || id_number(t.ig_done) || ' dari '
                    || id_number(t.ig_target) || ' (' || id_percent(t.ig_done, t.ig_target)
                    || E')\n'
                    || '🎵 *TikTok:* ' || id_number(t.tiktok_posts) || E' konten\n'
                    || 'Komentar personil: ' || id_number(t.tiktok_done) || ' dari '
                    || id_number(t.tiktok_target)
                    || ' (' || id_percent(t.tiktok_done, t.tiktok_target) || E')\n\n'
                    || '🔥 *5 ' || ct.rank_label || E' Tertinggi*\n'
                    || coalesce(cicero_numbered_list(t.ranked, 5), 'Tidak ada data.') || E'\n\n'
                    || '❄️ *5 ' || ct.rank_label || E' Terendah*\n'
                    || coalesce(cicero_numbered_list(t.ranked, 5, true), 'Tidak ada data.')
                    || E'\n'
          END
       || E'\n📎 Rekap Excel terlampir.\nTerimakasih.' AS summary
  FROM (SELECT date '2000-01-03' + 7 * g AS week_start FROM generate_series(0, 5270) AS g) w
 CROSS JOIN clients c
 CROSS JOIN LATERAL (SELECT lower(c.client_type) AS client_type,
                            CASE WHEN lower(c.client_type) = 'direktorat' THEN 'Satker'
                                 ELSE 'Pelaksana' END AS rank_label) ct
  LEFT JOIN report_client_week t ON t.week_start = w.week_start AND t.client_id = c.client_id
  JOIN report_recipient r ON r.client_id = c.client_id
 WHERE c.client_status
   AND ct.client_type IN ('org', 'direktorat');
""",
    ),
    (
        "daily_report_view",
        r"""
-- layer: 7
-- Daily report (domain §3.1-3.3): one row per (report_date, message, recipient).
--  * org clients (client_type 'org', active): 'daily:<CLIENT>:ig' (Rekap Akumulasi Likes
--    Instagram) and 'daily:<CLIENT>:tiktok' (Rekap Akumulasi Komentar TikTok); rule 'all'
--    (lengkap = every post); per-division name lists; "Tidak ada konten ..." when the client
--    had no post that day;
--  * directorate clients (client_type 'direktorat', active): 'daily:<CLIENT>:dir_ig' and
--    'daily:<CLIENT>:dir_tiktok'; rule 'half' (>= 50 %); totals, Top 5 / Bottom 5 satker by
--    likes (comments), one block per satker; admin_copy = true.
-- A platform whose client_insta_status / client_tiktok_status is false is left out.
-- Recipients: report_recipient of the client (group, operator, super).
-- Filter with WHERE report_date = <date>: the date reaches every layer below (report_client_day
-- is read once for all clients).
CREATE OR REPLACE VIEW daily_report_view AS
SELECT m.report_date, m.message_key, m.client_id, m.client_name, m.client_type, m.platform,
       m.message_order, r.recipient, r.recipient_raw, r.recipient_role, r.recipient_valid,
       m.admin_copy, m.summary
  FROM (SELECT d.report_date,
               'daily:' || c.client_id || ':' || CASE WHEN ct.is_dir THEN 'dir_' ELSE '' END
               || pl.key AS message_key,
               c.client_id, c.nama AS client_name, ct.client_type, pl.platform,
               pl.message_order, ct.is_dir AS admin_copy,
               CASE
               WHEN coalesce(k.posts, 0) = 0 THEN
                   'Tidak ada konten pada akun Official ' || pl.label || ' *' || c.nama || '* pada '
                   || id_date_long(d.report_date) || '.'
               WHEN NOT ct.is_dir THEN
                   E'Mohon ijin Komandan,\n\n'
                   || pl.title || E'\n'
                   || CASE pl.platform WHEN 'instagram' THEN '*Polres*: *' || c.nama || '*'
                                       ELSE '*' || c.nama || '*' END || E'\n'
                   || id_date_long(d.report_date) || E'\n'
                   || E'Periode data: 00.00–23.59 WIB\n\n'
                   || '*Jumlah Konten:* ' || id_number(k.posts) || E'\n'
                   || E'*Daftar Link Konten:*\n' || k.links || E'\n\n'
                   || '*Jumlah user:* ' || id_number(coalesce(s.users, 0)) || E' user\n'
                   || '✅ *Melaksanakan lengkap:* ' || id_number(coalesce(s.lengkap, 0))
                   || E' user\n'
                   || '⚠️ *Melaksanakan kurang lengkap:* ' || id_number(coalesce(s.kurang, 0))
                   || E' user\n'
                   || '❌ *Belum melaksanakan:* '
                   || id_number(coalesce(s.belum, 0) + coalesce(s.belum_username, 0)) || ' user ('
                   || id_number(coalesce(s.belum_username, 0)) || ' belum input username '
                   || pl.label || E')\n'
                   || coalesce(E'\n' || s.division_blocks || E'\n', '')
                   || E'\nTerimakasih.'
               ELSE
                   E'Mohon ijin Komandan,\n\n'
                   || pl.title || E'\n'
                   || '*' || c.nama || E'*\n'
                   || id_date_long(d.report_date) || E'\n'
                   || E'Periode data: 00.00–23.59 WIB\n\n'
                   || '*Jumlah Konten:* ' || id_number(k.posts) || E'\n'
                   || E'*Daftar Link Konten:*\n' || k.links || E'\n\n'
                   || '*Jumlah Total Personil:* ' || id_number(coalesce(s.users, 0)) || E' pers\n'
                   || '✅ *Sudah melaksanakan:* ' || id_number(coalesce(s.sudah, 0)) || E' pers\n'
                   || '- Melaksanakan lengkap (≥ 50% konten): '
                   || id_number(coalesce(s.lengkap, 0)) || E' pers\n'
                   || '- Melaksanakan kurang (< 50% konten): '
                   || id_number(coalesce(s.kurang, 0)) || E' pers\n'
                   || '❌ *Belum melaksanakan:* '
                   || id_number(coalesce(s.belum, 0) + coalesce(s.belum_username, 0)) || E' pers\n'
                   || '⚠️❌ *Belum Update Username ' || pl.label || ':* '
                   || id_number(coalesce(s.belum_username, 0)) || E' pers\n\n'
                   || '🔥 *Top 5 ' || pl.unit || E':*\n'
                   || coalesce(cicero_numbered_list(s.satker_ranked, 5), 'Tidak ada data.')
                   || E'\n\n'
                   || '❄️ *Bottom 5 ' || pl.unit || E':*\n'
                   || coalesce(cicero_numbered_list(s.satker_ranked, 5, true), 'Tidak ada data.')
                   || E'\n\n'
                   || E'*Rekap per Satker:*\n'
                   || coalesce(cicero_numbered_list(s.satker_blocks), '-') || E'\n\n'
                   || 'Terimakasih.'
               END AS summary
          FROM (SELECT date '2000-01-01' + g AS report_date FROM generate_series(0, 36889) AS g) d
         CROSS JOIN clients c
         CROSS JOIN LATERAL (SELECT lower(c.client_type) AS client_type,
                                    lower(c.client_type) = 'direktorat' AS is_dir) ct
         CROSS JOIN LATERAL (VALUES
                ('instagram', 'ig', 1, c.client_insta_status, 'Instagram',
                 '📋 *Rekap Akumulasi Likes Instagram*', 'Likes'),
                ('tiktok', 'tiktok', 2, c.client_tiktok_status, 'TikTok',
                 '📋 *Rekap Akumulasi Komentar TikTok*', 'Komentar'))
               AS pl(platform, key, message_order, enabled, label, title, unit)
          LEFT JOIN (SELECT p.report_date, p.client_id, 'instagram' AS platform,
                            count(*)::integer AS posts,
                            string_agg('https://www.instagram.com/p/' || p.shortcode, E'\n'
                                       ORDER BY p.created_at, p.shortcode) AS links
                       FROM report_ig_post p
                      GROUP BY p.report_date, p.client_id
                     UNION ALL
                     SELECT p.report_date, p.client_id, 'tiktok',
                            count(*)::integer,
                            string_agg('https://www.tiktok.com/@'
                                       || coalesce(nullif(btrim(pc.client_tiktok, ' @'), ''),
                                                   lower(pc.client_id))
                                       || '/video/' || p.video_id, E'\n'
                                       ORDER BY p.created_at, p.video_id)
                       FROM report_tiktok_post p
                       JOIN clients pc ON pc.client_id = p.client_id
                      GROUP BY p.report_date, p.client_id) k
                 ON k.report_date = d.report_date AND k.client_id = c.client_id
                AND k.platform = pl.platform
          LEFT JOIN report_client_day s
                 ON s.report_date = d.report_date AND s.client_id = c.client_id
                AND s.platform = pl.platform
         WHERE c.client_status
           AND ct.client_type IN ('org', 'direktorat')
           AND pl.enabled IS NOT FALSE) m
  JOIN report_recipient r ON r.client_id = m.client_id;
""",
    ),
]

DOWNGRADE = r"""
DROP VIEW IF EXISTS daily_report_view;
DROP VIEW IF EXISTS weekly_report_view;
DROP VIEW IF EXISTS report_client_day;
DROP VIEW IF EXISTS monthly_report_view;
DROP VIEW IF EXISTS task_delivery_recap_view;
DROP VIEW IF EXISTS report_satker_day;
DROP VIEW IF EXISTS report_client_week;
DROP VIEW IF EXISTS report_client_month;
DROP VIEW IF EXISTS report_satker_week;
DROP VIEW IF EXISTS report_satker_month;
DROP VIEW IF EXISTS report_division_day;
DROP VIEW IF EXISTS report_user_week;
DROP VIEW IF EXISTS report_user_month;
DROP VIEW IF EXISTS report_user_day;
DROP VIEW IF EXISTS report_engagement_week;
DROP VIEW IF EXISTS report_engagement_month;
DROP VIEW IF EXISTS report_engagement_day;
DROP VIEW IF EXISTS report_tiktok_post;
DROP VIEW IF EXISTS report_recipient;
DROP VIEW IF EXISTS report_ig_post;
DROP VIEW IF EXISTS report_audience;
DROP FUNCTION IF EXISTS cicero_attendance_status(integer,integer,boolean,boolean,text);
DROP FUNCTION IF EXISTS cicero_caption(text,integer);
DROP FUNCTION IF EXISTS cicero_division_rank(text);
DROP FUNCTION IF EXISTS cicero_group_id(text);
DROP FUNCTION IF EXISTS cicero_ig_done_by_handle(text[]);
DROP FUNCTION IF EXISTS cicero_ig_handle(text);
DROP FUNCTION IF EXISTS cicero_ig_like_handle(text);
DROP FUNCTION IF EXISTS cicero_jabatan_rank(text);
DROP FUNCTION IF EXISTS cicero_numbered_list(text[],integer,boolean);
DROP FUNCTION IF EXISTS cicero_pangkat_rank(text);
DROP FUNCTION IF EXISTS cicero_person_label(text,text);
DROP FUNCTION IF EXISTS cicero_split_list(text);
DROP FUNCTION IF EXISTS cicero_tiktok_comment_handle(text);
DROP FUNCTION IF EXISTS cicero_tiktok_done_by_handle(text[]);
DROP FUNCTION IF EXISTS cicero_tiktok_handle(text);
DROP FUNCTION IF EXISTS id_date_dmy(date);
DROP FUNCTION IF EXISTS id_date_long(date);
DROP FUNCTION IF EXISTS id_datetime_long(timestamp with time zone);
DROP FUNCTION IF EXISTS id_datetime_short(timestamp with time zone);
DROP FUNCTION IF EXISTS id_day_name(date);
DROP FUNCTION IF EXISTS id_month_name(integer);
DROP FUNCTION IF EXISTS id_month_short(integer);
DROP FUNCTION IF EXISTS id_month_year(date);
DROP FUNCTION IF EXISTS id_number(bigint);
DROP FUNCTION IF EXISTS id_percent(numeric,numeric);
DROP FUNCTION IF EXISTS id_time(timestamp with time zone);
DROP FUNCTION IF EXISTS jakarta_date(timestamp with time zone);
DROP FUNCTION IF EXISTS task_delivery_recap_at(timestamp with time zone);
"""


def _run(sql: str) -> None:
    # Sent as is: no bind-parameter parsing of ':name' or '%' inside the SQL text.
    op.get_bind().exec_driver_sql(sql, execution_options={"no_parameters": True})


def upgrade() -> None:
    for _name, sql in VIEW_SQL:
        _run(sql)


def downgrade() -> None:
    _run(DOWNGRADE)
