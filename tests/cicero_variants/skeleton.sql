-- The refactor skeleton's tables, as an install that followed it may already hold them (a test
-- fixture; this project never runs it). Copied verbatim from the "Skema Database (Ringkas)"
-- block of the refactor skeleton's design notes (target architecture); facts: docs/operations/cicero-database.md,
-- docs/operations/cicero-database.md (row wa_outbox). No rows: tests insert their own.

-- Outbox untuk WA
CREATE TABLE wa_outbox (
  id SERIAL PRIMARY KEY,
  recipient TEXT NOT NULL,
  content TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT DEFAULT 'pending',
  created_at TIMESTAMP DEFAULT NOW(),
  sent_at TIMESTAMP
);

-- Queue komplain
CREATE TABLE complaint_queue (
  id SERIAL PRIMARY KEY,
  complainant TEXT NOT NULL,
  response_template TEXT NOT NULL,
  status TEXT DEFAULT 'pending',
  created_at TIMESTAMP DEFAULT NOW(),
  responded_at TIMESTAMP
);
