-- The error history of wa_outbox rows: one line per failed attempt (a retry scheduled, a
-- permanent failure, a lease that ran out), written by the failure settles themselves
-- (retry_later, mark_failed, release_expired in outbox/sql/outbox.sql), never by a trigger:
-- a successful send writes nothing here. `python -m outbox show ID` prints it. Rows go with
-- their message (ON DELETE CASCADE), so purge keeps it bounded.

CREATE TABLE wa_outbox_error (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id  bigint NOT NULL REFERENCES wa_outbox (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    attempt    integer NOT NULL,
    became     text NOT NULL,  -- what the row became: pending (to be retried) or failed
    error      text NOT NULL
);
CREATE INDEX wa_outbox_error_outbox_idx ON wa_outbox_error (outbox_id, id);
COMMENT ON TABLE wa_outbox_error IS
    'Each failed send attempt of a wa_outbox row, oldest first (python -m outbox show ID).';
