-- The ingestion job's memory between runs (producers/ingestion): per client and platform, the
-- raw item count of the last complete post fetch (the deletion sync's "dropped by 60 %" rule
-- compares against it) and whether the client waits for the next run because the previous
-- one ran out of its time budget. Kept here so that a restart or another producers process
-- forgets neither.

-- ---------------------------------------------------------------- ingestion state
CREATE TABLE ingestion_state (
    client_id      text NOT NULL,
    platform       text NOT NULL CONSTRAINT ingestion_state_platform_valid
                   CHECK (platform IN ('instagram', 'tiktok')),
    raw_count      integer CONSTRAINT ingestion_state_raw_count_valid CHECK (raw_count >= 0),
    raw_counted_at timestamptz,
    carried_since  timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ingestion_state_pkey PRIMARY KEY (client_id, platform)
);
CREATE INDEX ingestion_state_carried ON ingestion_state (carried_since, client_id)
    WHERE carried_since IS NOT NULL;
COMMENT ON TABLE ingestion_state IS
    'The ingestion job''s memory per (client, platform): the last raw item count and the run-budget carry-over.';
COMMENT ON COLUMN ingestion_state.raw_count IS
    'Items the provider returned at the last complete post fetch (before the today filter); NULL until one succeeded.';
COMMENT ON COLUMN ingestion_state.raw_counted_at IS
    'The slot of the run that counted raw_count.';
COMMENT ON COLUMN ingestion_state.carried_since IS
    'Set when a run''s budget ran out before this client started: the client goes first in the next run (oldest first); NULL once it ran.';
