-- layer: 0
-- The "lengkap" rule of a client's recaps (table report_rule, outbox/schema/90_report_routing.sql):
-- 'all' (every post; the default, as the old scheduled recaps, org and directorate alike) or
-- 'half' (>= 50 % of the posts) where a row says so.
CREATE OR REPLACE FUNCTION report_lengkap_rule(client_id text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce((SELECT r.lengkap_rule FROM report_rule r
                        WHERE r.client_id = upper(report_lengkap_rule.client_id)), 'all') $$;
