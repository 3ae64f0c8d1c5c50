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
                  FROM cicero_clients() c CROSS JOIN LATERAL cicero_split_list(c.client_group) s
                UNION ALL
                SELECT c.client_id, 'operator', 2, s.item, s.item, s.ord
                  FROM cicero_clients() c CROSS JOIN LATERAL cicero_split_list(c.client_operator) s
                UNION ALL
                SELECT c.client_id, 'super', 3, s.item, s.item, s.ord
                  FROM cicero_clients() c CROSS JOIN LATERAL cicero_split_list(c.client_super) s) v
          CROSS JOIN LATERAL wa_parse_recipient(v.candidate) p) r
 ORDER BY client_id, recipient, recipient_rank;
