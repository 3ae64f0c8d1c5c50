-- Revision 0013 (frozen copy; the current state is outbox/schema/97_delivery_capacity.sql).
-- The reserve of the hourly and daily budgets that a gateway keeps for answers and alerts
-- (priority 30 and above), and whether it coalesces texts: written when it registers, read by
-- python -m outbox capacity, so the projection follows the gateway's own rules.
ALTER TABLE wa_session
    ADD COLUMN reserve_per_hour integer,
    ADD COLUMN reserve_per_day  integer,
    ADD COLUMN coalesce_texts   boolean;
COMMENT ON COLUMN wa_session.reserve_per_hour IS
    'The last sends of the hourly and daily budgets (reserve_per_hour, reserve_per_day) the '
    'session''s gateway keeps for rows of priority 30 and above (answers, forwards, alerts); '
    'written when it registers, with coalesce_texts (WA_COALESCE_TEXTS). NULL: not recorded.';
