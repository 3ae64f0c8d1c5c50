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
    ('monthly_report', 'Recap of the previous month (1st, 07:00)'),
    ('progress_report', 'Same-day recap of today up to the slot (15:20, 18:20, 20:20)'),
    ('ditbinmas_progress_report', 'Same-day recap of today up to the slot (18:10)'),
    ('bidhumas_progress_report', 'Same-day recap of today up to the slot (15:45, 20:15, 22:15)');

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
    at_time     time,
    CONSTRAINT report_routing_one_scope CHECK (client_id IS NULL OR client_type IS NULL),
    CONSTRAINT report_routing_client_type_lower CHECK (client_type = lower(client_type)),
    CONSTRAINT report_routing_fixed_recipient
        CHECK ((audience = 'fixed') = (recipient IS NOT NULL AND btrim(recipient) <> ''))
);
CREATE UNIQUE INDEX report_routing_unique
    ON report_routing (report_kind, coalesce(upper(client_id), ''), coalesce(client_type, ''),
                       audience, coalesce(recipient, ''), coalesce(at_time, '24:00'));
COMMENT ON TABLE report_routing IS
    'Who receives each report kind: per client, client type or everyone; the most specific scope with rows wins.';
COMMENT ON COLUMN report_routing.recipient IS
    'The number or group id of an audience ''fixed'' row (NULL for every other audience).';
COMMENT ON COLUMN report_routing.attachment IS
    'Whether this audience also gets the report''s .xlsx (daily, weekly, monthly).';
COMMENT ON COLUMN report_routing.at_time IS
    'Only the job''s slot at this Jakarta time (HH:MM); NULL: every slot of the job.';

-- The old services' audiences (docs/concepts/reports.md#who-gets-what): org recaps to the
-- group, the operator and the super admins; directorate recaps to the group and the super
-- admins; the workbook only to directorate groups and super admins.
INSERT INTO report_routing (report_kind, client_type, audience, attachment)
SELECT k.report_kind, a.client_type, a.audience, a.attachment
  FROM (VALUES ('daily_report'), ('weekly_report'), ('monthly_report')) AS k(report_kind)
 CROSS JOIN (VALUES ('org', 'group', false), ('org', 'operator', false), ('org', 'super', true),
                    ('direktorat', 'group', true), ('direktorat', 'super', true))
       AS a(client_type, audience, attachment);

-- The old same-day recaps (15:20, 18:20, 20:20 org recap to group, operator, super; the
-- Ditbinmas group at 15:20 and 18:10, its super admins at 18:20; BIDHUMAS group and super
-- admins at 15:45, 20:15 and 22:15), text only.
INSERT INTO report_routing (report_kind, client_type, client_id, audience, at_time)
VALUES ('progress_report', 'org', NULL, 'group', NULL),
       ('progress_report', 'org', NULL, 'operator', NULL),
       ('progress_report', 'org', NULL, 'super', NULL),
       ('progress_report', NULL, 'DITBINMAS', 'group', '15:20'),
       ('progress_report', NULL, 'DITBINMAS', 'super', '18:20'),
       ('ditbinmas_progress_report', NULL, 'DITBINMAS', 'group', NULL),
       ('bidhumas_progress_report', NULL, 'BIDHUMAS', 'group', '15:45'),
       ('bidhumas_progress_report', NULL, 'BIDHUMAS', 'super', '15:45'),
       ('bidhumas_progress_report', NULL, 'BIDHUMAS', 'group', '20:15'),
       ('bidhumas_progress_report', NULL, 'BIDHUMAS', 'super', '20:15'),
       ('bidhumas_progress_report', NULL, 'BIDHUMAS', 'group', '22:15'),
       ('bidhumas_progress_report', NULL, 'BIDHUMAS', 'super', '22:15');

-- The same-day recaps are wa_outbox rows of their own types.
INSERT INTO wa_message_type (type, description) VALUES
    ('progress_report', 'Same-day recap of today up to the slot (producer job progress_report)'),
    ('ditbinmas_progress_report',
     'Same-day recap for the Ditbinmas group (producer job ditbinmas_progress_report)'),
    ('bidhumas_progress_report',
     'Same-day recap for BIDHUMAS (producer job bidhumas_progress_report)');

-- ---------------------------------------------------------------- the "lengkap" rule
-- Per client, when a person counts as "lengkap" (docs/concepts/reports.md#the-lengkap-rule):
-- 'all' (every post; the default, as the old scheduled recaps) or 'half' (>= 50 % of the
-- posts, the old manual directorate menu). A client without a row uses 'all'.
CREATE TABLE report_rule (
    client_id    text NOT NULL CONSTRAINT report_rule_pkey PRIMARY KEY
                 CONSTRAINT report_rule_client_id_upper CHECK (client_id = upper(client_id)),
    lengkap_rule text NOT NULL CONSTRAINT report_rule_lengkap_rule_valid
                 CHECK (lengkap_rule IN ('all', 'half'))
);
COMMENT ON TABLE report_rule IS
    'Per client (upper-case id) the lengkap rule of its recaps: all (default) or half (>= 50 %).';
