-- Cicero-Cronjob-Fetch ("CF") variant, as found in the wild (a test fixture; this project never
-- runs it).
--
-- Re-creates the tables of public repo cicero78M/Cicero-Cronjob-Fetch `sql/schema.sql` (HEAD
-- 80a2d43, 2026-02-27) that this project reads, then applies CF's migrations that schema.sql
-- does not yet contain (20261204 source_type on insta_post, 20261205 / 20261206
-- original_created_at) and the insta_post.like_count column that CF's fetcher writes
-- (src/handler/fetchpost/instaFetchPost.js) and production therefore has. Facts:
-- docs/operations/cicero-database.md
--
-- Differences from the V2 variant (v2.sql), everything else being identical:
--   * insta_post.created_at stays naive TIMESTAMP (contract: UTC);
--   * insta_post gains source_type VARCHAR(20) NOT NULL DEFAULT 'cron_fetch' with the CHECK
--     insta_post_source_type_check, original_created_at TIMESTAMPTZ and like_count INT (added
--     by ALTER TABLE at the end, so they come last, as on a migrated install);
--   * tiktok_post.created_at is TIMESTAMPTZ (migration 20261203), source_type TEXT NOT NULL
--     DEFAULT 'cron_fetch', original_created_at TIMESTAMPTZ;
--   * insta_post_clients (migration 20260219: both foreign keys ON DELETE CASCADE, created_at
--     naive TIMESTAMP, two lookup indexes);
--   * wa_notification_outbox (migration 20261202) and the cron_job_config row of its worker.
-- Not re-created (not read by this project): the same tables as in v2.sql, plus
-- wa_notification_scheduler_state.

-- The real file's first statement is `CREATE EXTENSION IF NOT EXISTS pgcrypto;` (only for
-- gen_random_uuid(), which is core since PostgreSQL 13). It runs as is wherever the server ships
-- pgcrypto; the embedded test server (pgserver wheel) ships no contrib module, and there the
-- statement is skipped instead of failing the whole fixture.
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pgcrypto;
EXCEPTION WHEN feature_not_supported OR undefined_file THEN
  NULL;
END
$$;

CREATE TABLE clients (
  client_id VARCHAR PRIMARY KEY,
  nama VARCHAR NOT NULL,
  client_type VARCHAR,
  client_status BOOLEAN DEFAULT TRUE,
  client_insta VARCHAR,
  client_insta_status BOOLEAN DEFAULT TRUE,
  client_tiktok VARCHAR,
  client_tiktok_status BOOLEAN DEFAULT TRUE,
  client_amplify_status BOOLEAN DEFAULT TRUE,
  client_operator VARCHAR,
  client_group VARCHAR,
  regional_id VARCHAR,
  parent_client_id VARCHAR REFERENCES clients(client_id),
  client_level VARCHAR,
  tiktok_secuid VARCHAR,
  client_super VARCHAR
);

CREATE INDEX IF NOT EXISTS idx_clients_regional_id ON clients (regional_id);
CREATE INDEX IF NOT EXISTS idx_clients_parent_client_id ON clients (parent_client_id);

CREATE TABLE "user" (
  user_id VARCHAR PRIMARY KEY,
  nama VARCHAR,
  title VARCHAR,
  divisi VARCHAR,
  jabatan VARCHAR,
  insta VARCHAR,
  tiktok VARCHAR,
  whatsapp VARCHAR,
  email VARCHAR,
  desa VARCHAR,
  client_id VARCHAR REFERENCES clients(client_id),
  status BOOLEAN DEFAULT TRUE,
  exception BOOLEAN DEFAULT FALSE,
  wa_notification_opt_in BOOLEAN NOT NULL DEFAULT FALSE,
  premium_status BOOLEAN DEFAULT FALSE,
  premium_end_date DATE,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE TABLE roles (
  role_id SERIAL PRIMARY KEY,
  role_name VARCHAR UNIQUE
);

CREATE TABLE user_roles (
  user_id VARCHAR REFERENCES "user"(user_id),
  role_id INTEGER REFERENCES roles(role_id),
  PRIMARY KEY (user_id, role_id)
);

CREATE OR REPLACE FUNCTION set_user_updated_at()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS user_set_updated_at ON "user";
CREATE TRIGGER user_set_updated_at
BEFORE UPDATE ON "user"
FOR EACH ROW
EXECUTE PROCEDURE set_user_updated_at();

CREATE TABLE dashboard_user (
  dashboard_user_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  username TEXT UNIQUE NOT NULL,
  password_hash TEXT NOT NULL,
  role_id INT NOT NULL REFERENCES roles(role_id),
  status BOOLEAN DEFAULT TRUE,
  whatsapp VARCHAR,
  premium_status BOOLEAN DEFAULT FALSE,
  premium_tier TEXT,
  premium_expires_at TIMESTAMP WITH TIME ZONE,
  created_at TIMESTAMP DEFAULT NOW(),
  updated_at TIMESTAMP DEFAULT NOW()
);

CREATE TABLE dashboard_user_clients (
  dashboard_user_id UUID REFERENCES dashboard_user(dashboard_user_id),
  client_id VARCHAR REFERENCES clients(client_id),
  PRIMARY KEY (dashboard_user_id, client_id)
);

CREATE TABLE insta_post (
  shortcode VARCHAR PRIMARY KEY,
  client_id VARCHAR REFERENCES clients(client_id),
  caption TEXT,
  comment_count INT,
  thumbnail_url TEXT,
  is_video BOOLEAN DEFAULT FALSE,
  video_url TEXT,
  image_url TEXT,
  images_url JSONB,
  is_carousel BOOLEAN DEFAULT FALSE,
  created_at TIMESTAMP
);

CREATE TABLE insta_post_clients (
  shortcode VARCHAR NOT NULL REFERENCES insta_post(shortcode) ON DELETE CASCADE,
  client_id VARCHAR NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  created_at TIMESTAMP DEFAULT NOW(),
  PRIMARY KEY (shortcode, client_id)
);

CREATE INDEX idx_insta_post_clients_client_id ON insta_post_clients(client_id);
CREATE INDEX idx_insta_post_clients_shortcode ON insta_post_clients(shortcode);

CREATE TABLE insta_post_roles (
  shortcode VARCHAR REFERENCES insta_post(shortcode) ON DELETE CASCADE,
  role_name VARCHAR NOT NULL,
  PRIMARY KEY (shortcode, role_name)
);

CREATE TABLE insta_like (
  shortcode VARCHAR PRIMARY KEY REFERENCES insta_post(shortcode),
  likes JSONB,
  updated_at TIMESTAMP
);

CREATE TABLE insta_like_audit (
  audit_id BIGSERIAL PRIMARY KEY,
  shortcode VARCHAR REFERENCES insta_post(shortcode),
  usernames JSONB NOT NULL DEFAULT '[]'::jsonb,
  snapshot_window_start TIMESTAMPTZ NOT NULL,
  snapshot_window_end TIMESTAMPTZ NOT NULL,
  captured_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_insta_like_audit_shortcode ON insta_like_audit (shortcode);
CREATE INDEX idx_insta_like_audit_window
  ON insta_like_audit (shortcode, snapshot_window_start, snapshot_window_end);

CREATE TABLE insta_comment (
  shortcode VARCHAR PRIMARY KEY REFERENCES insta_post(shortcode),
  comments JSONB,
  updated_at TIMESTAMP
);

CREATE TABLE tiktok_post (
  video_id VARCHAR PRIMARY KEY,
  client_id VARCHAR REFERENCES clients(client_id),
  caption TEXT,
  like_count INT,
  comment_count INT,
  created_at TIMESTAMP WITH TIME ZONE,
  source_type TEXT NOT NULL DEFAULT 'cron_fetch'
);

CREATE TABLE tiktok_comment (
  video_id VARCHAR PRIMARY KEY REFERENCES tiktok_post(video_id) ON DELETE CASCADE,
  comments JSONB,
  updated_at TIMESTAMP
);

CREATE TABLE tiktok_comment_audit (
  audit_id BIGSERIAL PRIMARY KEY,
  video_id VARCHAR REFERENCES tiktok_post(video_id) ON DELETE CASCADE,
  usernames JSONB NOT NULL DEFAULT '[]'::jsonb,
  snapshot_window_start TIMESTAMPTZ NOT NULL,
  snapshot_window_end TIMESTAMPTZ NOT NULL,
  captured_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_tiktok_comment_audit_video ON tiktok_comment_audit (video_id);
CREATE INDEX idx_tiktok_comment_audit_window
  ON tiktok_comment_audit (video_id, snapshot_window_start, snapshot_window_end);

CREATE TABLE tiktok_post_roles (
  video_id VARCHAR REFERENCES tiktok_post(video_id) ON DELETE CASCADE,
  role_name VARCHAR NOT NULL,
  PRIMARY KEY (video_id, role_name)
);

CREATE TABLE IF NOT EXISTS link_report (
    shortcode VARCHAR REFERENCES insta_post(shortcode) ON DELETE CASCADE,
    user_id VARCHAR REFERENCES "user"(user_id),
    instagram_link TEXT,
    facebook_link TEXT,
    twitter_link TEXT,
    tiktok_link TEXT,
    youtube_link TEXT,
    created_at TIMESTAMP DEFAULT NOW(),
    PRIMARY KEY (shortcode, user_id)
);

CREATE TABLE IF NOT EXISTS wa_notification_reminder_state (
  reminder_state_id SERIAL PRIMARY KEY,
  date_key DATE NOT NULL,
  chat_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  last_stage VARCHAR(20) NOT NULL,
  is_complete BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  UNIQUE (date_key, chat_id, client_id)
);

CREATE INDEX IF NOT EXISTS idx_wa_notification_reminder_state_date_chat_client
  ON wa_notification_reminder_state (date_key, chat_id, client_id);

CREATE INDEX IF NOT EXISTS idx_wa_notification_reminder_state_date_status
  ON wa_notification_reminder_state (date_key, is_complete, last_stage);

CREATE OR REPLACE FUNCTION set_wa_notification_reminder_state_updated_at()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS wa_notification_reminder_state_set_updated_at
  ON wa_notification_reminder_state;
CREATE TRIGGER wa_notification_reminder_state_set_updated_at
BEFORE UPDATE ON wa_notification_reminder_state
FOR EACH ROW
EXECUTE PROCEDURE set_wa_notification_reminder_state_updated_at();

CREATE TABLE IF NOT EXISTS wa_notification_outbox (
  outbox_id BIGSERIAL PRIMARY KEY,
  client_id TEXT NOT NULL,
  group_id TEXT NOT NULL,
  message TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  status VARCHAR(20) NOT NULL DEFAULT 'pending',
  attempt_count INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 5,
  sent_at TIMESTAMP WITH TIME ZONE,
  error_message TEXT,
  next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  last_attempt_at TIMESTAMP WITH TIME ZONE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX IF NOT EXISTS idx_wa_notification_outbox_dispatch
  ON wa_notification_outbox (status, next_attempt_at, created_at);

CREATE INDEX IF NOT EXISTS idx_wa_notification_outbox_client
  ON wa_notification_outbox (client_id, status);

CREATE OR REPLACE FUNCTION set_wa_notification_outbox_updated_at()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS wa_notification_outbox_set_updated_at ON wa_notification_outbox;
CREATE TRIGGER wa_notification_outbox_set_updated_at
BEFORE UPDATE ON wa_notification_outbox
FOR EACH ROW
EXECUTE PROCEDURE set_wa_notification_outbox_updated_at();

CREATE TABLE IF NOT EXISTS cron_job_config (
  job_key TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE OR REPLACE FUNCTION set_cron_job_config_updated_at()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS cron_job_config_set_updated_at ON cron_job_config;
CREATE TRIGGER cron_job_config_set_updated_at
BEFORE UPDATE ON cron_job_config
FOR EACH ROW
EXECUTE PROCEDURE set_cron_job_config_updated_at();

-- The job rows CF's schema.sql seeds (docs/operations/cicero-database.md.8), with its outbox worker.
INSERT INTO cron_job_config (job_key, display_name)
VALUES
    ('./src/cron/cronDbBackup.js', 'Database Backup'),
    ('./src/cron/cronRekapLink.js', 'Link Recap Dispatcher'),
    ('./src/cron/cronAmplifyLinkMonthly.js', 'Monthly Amplify Link'),
    ('./src/cron/cronDirRequestRekapUpdate.js', 'Directorate Rekap Update'),
    ('./src/cron/cronDirRequestFetchSosmed.js', 'Directorate Fetch Sosmed'),
    ('./src/cron/cronWaNotificationReminder.js', 'Ditbinmas Task Reminder'),
    ('./src/cron/cronDirRequestSatbinmasOfficialMedia.js', 'Satbinmas Official Media Recap'),
    ('./src/cron/cronDirRequestBidhumasEvening.js', 'Bidhumas Evening Menu 6 & 9'),
    ('./src/cron/cronOprRequestAbsensiEngagement.js', 'Oprrequest Engagement Absensi'),
    ('./src/cron/cronWaOutboxWorker.js', 'WhatsApp Notification Outbox Worker')
ON CONFLICT (job_key) DO NOTHING;

-- CF migrations not folded into its schema.sql, in file order.
-- 20261204_add_source_type_to_insta_post (ADD COLUMN, DEFAULT, NOT NULL, named CHECK).
ALTER TABLE insta_post ADD COLUMN IF NOT EXISTS source_type VARCHAR(20);
ALTER TABLE insta_post ALTER COLUMN source_type SET DEFAULT 'cron_fetch';
ALTER TABLE insta_post ALTER COLUMN source_type SET NOT NULL;
ALTER TABLE insta_post
  ADD CONSTRAINT insta_post_source_type_check
  CHECK (source_type IN ('cron_fetch', 'manual_input'));

-- 20261205_add_original_created_at_to_insta_posts (the insta_post part).
ALTER TABLE insta_post ADD COLUMN IF NOT EXISTS original_created_at TIMESTAMPTZ;

-- 20261206_add_original_created_at_to_tiktok_post.
ALTER TABLE tiktok_post ADD COLUMN IF NOT EXISTS original_created_at TIMESTAMPTZ;

-- insta_post.like_count: in no published schema or migration, but written by CF's fetcher, so
-- production has it (docs/operations/cicero-database.md). Its position and type are not published:
-- last, INT like comment_count.
ALTER TABLE insta_post ADD COLUMN IF NOT EXISTS like_count INT;
