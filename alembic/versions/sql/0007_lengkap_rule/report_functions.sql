-- layer: 0
-- Helper functions of the report views: Indonesian formatting, handle normalisation, recipient
-- splitting and the attendance rules (docs/concepts/reports.md). No view here.
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

-- 'Selasa, 17 Februari 2026 pukul 08.30' (docs/concepts/reports.md, hourly header; caller appends ' WIB')
CREATE OR REPLACE FUNCTION id_datetime_long(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT id_date_long((ts AT TIME ZONE 'Asia/Jakarta')::date) || ' pukul ' || id_time(ts) $$;

-- 'Selasa, 17 Feb 2026, 08.30' (docs/concepts/reports.md, per-post upload stamp; caller appends ' WIB')
CREATE OR REPLACE FUNCTION id_datetime_short(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT id_day_name((ts AT TIME ZONE 'Asia/Jakarta')::date) || ', '
             || lpad(extract(day FROM (ts AT TIME ZONE 'Asia/Jakarta'))::int::text, 2, '0') || ' '
             || id_month_short(extract(month FROM (ts AT TIME ZONE 'Asia/Jakarta'))::int) || ' '
             || extract(year FROM (ts AT TIME ZONE 'Asia/Jakarta'))::int || ', ' || id_time(ts) $$;

-- ---------------------------------------------------------------- handles (docs/concepts/reports.md)
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
-- the compare side only strips '@' (and blanks, a URL) and lower-cases (docs/concepts/reports.md).
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
                        JOIN cicero_insta_likes() l ON l.shortcode = s.code
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
                        JOIN cicero_tiktok_comments() k ON k.video_id = s.code
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

-- ---------------------------------------------------------------- attendance (docs/concepts/reports.md)
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

-- ---------------------------------------------------------------- ordering (docs/concepts/reports.md)
CREATE OR REPLACE FUNCTION cicero_division_rank(divisi text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN upper(divisi) LIKE 'BAG%' THEN 1
                  WHEN upper(divisi) LIKE 'SAT%' THEN 2
                  WHEN upper(divisi) LIKE 'SI%' THEN 3
                  WHEN upper(divisi) LIKE 'SPKT%' THEN 4
                  WHEN upper(divisi) LIKE 'POLSEK%' THEN 5
                  ELSE 6 END $$;

-- The first keyword of DIR, WADIR, KASUBDIT, KABAG, KASUBBAG, KASAT, KANIT found as a word
-- anywhere in the jabatan ('PS. KASAT BINMAS' ranks as KASAT), as the old lists did.
CREATE OR REPLACE FUNCTION cicero_jabatan_rank(jabatan text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN j ~ '\m(DIR|DIREKTUR)\M' THEN 1 WHEN j ~ '\mWADIR\M' THEN 2
                  WHEN j ~ '\mKASUBDIT\M' THEN 3 WHEN j ~ '\mKABAG\M' THEN 4
                  WHEN j ~ '\mKASUBBAG\M' THEN 5 WHEN j ~ '\mKASAT\M' THEN 6
                  WHEN j ~ '\mKANIT\M' THEN 7 ELSE 8 END
        FROM (SELECT upper(coalesce(jabatan, '')) AS j) s $$;

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
