-- Queries of producers/recipients.py. The database is the one judge of a recipient
-- (wa_parse_recipient, the check the wa_outbox trigger applies).

-- name: canonical
-- Each entry of a list (e.g. ADMIN_WHATSAPP) with its canonical JID or the problem with it,
-- in the order given.
SELECT r.raw, p.jid, p.problem
  FROM unnest(%(raw)s::text[]) WITH ORDINALITY AS r (raw, ord)
 CROSS JOIN LATERAL wa_parse_recipient(r.raw) AS p
 ORDER BY r.ord
