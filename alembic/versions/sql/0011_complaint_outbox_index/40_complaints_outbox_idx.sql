-- The reply link, looked up for every wa_outbox row deleted (the FK's ON DELETE SET NULL) and
-- by purge (which keeps the rows a complaint points to): without it a purge scanned
-- complaint_queue once per deleted row.
CREATE INDEX complaint_queue_outbox_idx ON complaint_queue (outbox_id)
    WHERE outbox_id IS NOT NULL;
