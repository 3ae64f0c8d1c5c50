-- layer: 0
-- The moment a same-day (progress) recap covers: the transaction setting outbox.report_upto
-- (an ISO timestamp with its offset, set with set_config(..., true) by the progress_report
-- jobs), 'infinity' when unset. report_ig_post and report_tiktok_post keep only the posts
-- uploaded (original_created_at, else created_at) up to it; daily_report_view says so in its
-- "Periode data" line. The text carries its offset, so the session TimeZone plays no part.
CREATE OR REPLACE FUNCTION report_upto() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(nullif(current_setting('outbox.report_upto', true), '')::timestamptz,
                      'infinity'::timestamptz) $$;

-- The "Periode data" of a daily recap: the whole day, or today up to report_upto().
CREATE OR REPLACE FUNCTION report_period_line() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN report_upto() = 'infinity'::timestamptz THEN '00.00–23.59 WIB'
                  ELSE 'hari ini, data s.d. '
                       || to_char(report_upto() AT TIME ZONE 'Asia/Jakarta', 'HH24.MI') || ' WIB'
             END $$;
