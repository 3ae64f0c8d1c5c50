-- The "lengkap" rule per client (report_rule).
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
