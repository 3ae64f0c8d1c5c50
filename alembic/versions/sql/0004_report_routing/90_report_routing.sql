-- Who gets which report, as data (docs/concepts/reports.md#who-gets-what): one row per (report
-- kind, scope, audience). The report jobs read it at every run, so an UPDATE/INSERT/DELETE here
-- changes the recipients of the next run. Seeded with the old services' audiences.

-- ---------------------------------------------------------------- the names a route may use
CREATE TABLE report_routing_kind (
    report_kind text NOT NULL CONSTRAINT report_routing_kind_pkey PRIMARY KEY,
    description text NOT NULL
);
COMMENT ON TABLE report_routing_kind IS
    'The report kinds a report_routing row may name (the report jobs'' names).';

CREATE TABLE report_routing_audience (
    audience    text NOT NULL CONSTRAINT report_routing_audience_pkey PRIMARY KEY,
    description text NOT NULL
);
COMMENT ON TABLE report_routing_audience IS
    'The audiences a report_routing row may name.';

INSERT INTO report_routing_kind (report_kind, description) VALUES
    ('daily_report', 'Final recap of the previous Jakarta day (07:00)'),
    ('weekly_report', 'Recap of the previous Monday-Sunday week (Monday 07:00)'),
    ('monthly_report', 'Recap of the previous month (1st, 07:00)');

INSERT INTO report_routing_audience (audience, description) VALUES
    ('group', 'Every WhatsApp group id in clients.client_group'),
    ('operator', 'Every number in clients.client_operator'),
    ('super', 'Every number in clients.client_super'),
    ('admins', 'Every number of the producers'' ADMIN_WHATSAPP'),
    ('fixed', 'The number or group id in report_routing.recipient');

-- ---------------------------------------------------------------- the routes
-- Scope: client_id (one client, compared case-insensitively), else client_type ('org',
-- 'direktorat', ...), else neither (every client). For one report kind and client only the
-- rows of the most specific scope that has rows apply: one client's rows replace its type's.
CREATE TABLE report_routing (
    route_id    bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT report_routing_pkey PRIMARY KEY,
    report_kind text NOT NULL CONSTRAINT report_routing_unknown_report_kind
                REFERENCES report_routing_kind (report_kind) ON UPDATE CASCADE,
    client_id   text,
    client_type text,
    audience    text NOT NULL CONSTRAINT report_routing_unknown_audience
                REFERENCES report_routing_audience (audience) ON UPDATE CASCADE,
    recipient   text,
    attachment  boolean NOT NULL DEFAULT false,
    CONSTRAINT report_routing_one_scope CHECK (client_id IS NULL OR client_type IS NULL),
    CONSTRAINT report_routing_client_type_lower CHECK (client_type = lower(client_type)),
    CONSTRAINT report_routing_fixed_recipient
        CHECK ((audience = 'fixed') = (recipient IS NOT NULL AND btrim(recipient) <> ''))
);
CREATE UNIQUE INDEX report_routing_unique
    ON report_routing (report_kind, coalesce(upper(client_id), ''), coalesce(client_type, ''),
                       audience, coalesce(recipient, ''));
COMMENT ON TABLE report_routing IS
    'Who receives each report kind: per client, client type or everyone; the most specific scope with rows wins.';
COMMENT ON COLUMN report_routing.recipient IS
    'The number or group id of an audience ''fixed'' row (NULL for every other audience).';
COMMENT ON COLUMN report_routing.attachment IS
    'Whether this audience also gets the report''s .xlsx (daily, weekly, monthly).';

-- The old services' audiences (docs/concepts/reports.md#who-gets-what): org recaps to the
-- group, the operator and the super admins; directorate recaps to the group and the super
-- admins; the workbook only to directorate groups and super admins.
INSERT INTO report_routing (report_kind, client_type, audience, attachment)
SELECT k.report_kind, a.client_type, a.audience, a.attachment
  FROM (VALUES ('daily_report'), ('weekly_report'), ('monthly_report')) AS k(report_kind)
 CROSS JOIN (VALUES ('org', 'group', false), ('org', 'operator', false), ('org', 'super', true),
                    ('direktorat', 'group', true), ('direktorat', 'super', true))
       AS a(client_type, audience, attachment);
