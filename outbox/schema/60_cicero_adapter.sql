-- Bookkeeping about the Cicero tables this project reads but does not own.

-- The Cicero tables the baseline migration created itself (only on an empty database); a
-- downgrade drops these and only these. Empty on a real Cicero install.
CREATE TABLE cicero_bootstrap_table (
    table_name  text PRIMARY KEY,
    position    integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cicero_bootstrap_table IS
    'Cicero tables created by the baseline migration (absent before); a downgrade drops only these.';

-- What the adapter functions (cicero_*(), rendered by views/adapter.py) were rendered from: the
-- Cicero columns found in the catalog and the time zone that naive timestamp columns hold.
-- The producers compare it with the catalog at start; `python -m outbox migrate` re-renders.
CREATE TABLE cicero_adapter (
    singleton       boolean PRIMARY KEY DEFAULT true CONSTRAINT cicero_adapter_one_row
                    CHECK (singleton),
    naive_time_zone text NOT NULL DEFAULT 'UTC',
    catalog         jsonb NOT NULL,
    fingerprint     text NOT NULL,
    rendered_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cicero_adapter IS
    'How the cicero_*() adapter functions were rendered; re-render with python -m outbox migrate.';
COMMENT ON COLUMN cicero_adapter.naive_time_zone IS
    'The zone whose wall clock Cicero''s naive timestamp columns hold (CICERO_NAIVE_TIME_ZONE).';
