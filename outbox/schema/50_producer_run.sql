-- The producers' exactly-once record: one row per (job, scheduled slot), inserted in the
-- transaction that enqueues the slot's messages.

-- ---------------------------------------------------------------- producer runs
CREATE TABLE producer_run (
    job         text NOT NULL,
    slot        timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'done' CONSTRAINT producer_run_status_valid
                CHECK (status IN ('done', 'failed', 'skipped')),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    enqueued    integer NOT NULL DEFAULT 0,
    duplicates  integer NOT NULL DEFAULT 0,
    detail      text,
    CONSTRAINT producer_run_pkey PRIMARY KEY (job, slot)
);
COMMENT ON TABLE producer_run IS
    'One row per (job, scheduled slot): inserted in the transaction that enqueues the slot''s messages.';
