-- Cicero_V2 variant, as found in the wild (a test fixture; this project never runs it).
--
-- Re-creates the tables of public repo cicero78M/Cicero_V2 `sql/schema.sql` (HEAD eea709e6,
-- 2026-02-07) that this project reads, with the same names, types, defaults, keys, indexes and
-- triggers; V2's own migrations (roles 20251012, insta_post_roles 20251018, tiktok_post_roles
-- 20251019, cron_job_config 20251022, wa_notification_reminder_state 20251213/20251220,
-- engagement audit 20251223, tiktok_comment cascade 20251224, dashboard premium columns
-- 20251225) are already folded into that file. Facts: docs/operations/cicero-database.md,
-- docs/operations/cicero-database.md
--
-- What makes this variant V2 (docs/operations/cicero-database.md):
--   * insta_post.created_at and tiktok_post.created_at are naive TIMESTAMP (contract: UTC);
--   * no insta_post.source_type / original_created_at / like_count (like_count is absent from
--     every published schema), no tiktok_post.source_type / original_created_at;
--   * no insta_post_clients;
--   * insta_like / insta_comment / tiktok_comment.updated_at and link_report.created_at are
--     naive TIMESTAMP too.
-- Not re-created (not read by this project): satbinmas_official_accounts, penmas_user,
-- dashboard premium tables, insta_post_khusus, insta_profile, instagram_user*, ig_ext_*, tasks,
-- link_report_khusus, editorial tables, premium_request, logs, saved_contact.

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
  created_at TIMESTAMP
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

-- The job rows V2's schema.sql seeds (docs/operations/cicero-database.md.8).
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
    ('./src/cron/cronOprRequestAbsensiEngagement.js', 'Oprrequest Engagement Absensi')
ON CONFLICT (job_key) DO NOTHING;
