-- The old services' other scheduled messages (docs/concepts/reports.md#the-other-scheduled-messages):
-- task list changes, the amplification link recaps, the username recap, the personal
-- reminders and the admin digest. Their state tables, report kinds, default routes and
-- message types. Each state is written in the transaction that enqueues the messages.

-- ---------------------------------------------------------------- task list changes
-- What the Daftar Tugas job last announced per Jakarta day and client: the post ids and the
-- amplification links it has seen, and the day's tally of changes (the "Perubahan Hari Ini"
-- section of the hourly list).
CREATE TABLE task_change_state (
    task_date      date NOT NULL,
    client_id      text NOT NULL,
    ig_posts       text[] NOT NULL DEFAULT '{}',
    tiktok_posts   text[] NOT NULL DEFAULT '{}',
    links          jsonb NOT NULL DEFAULT '{}',
    ig_added       integer NOT NULL DEFAULT 0,
    tiktok_added   integer NOT NULL DEFAULT 0,
    ig_deleted     integer NOT NULL DEFAULT 0,
    tiktok_deleted integer NOT NULL DEFAULT 0,
    link_changes   integer NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT task_change_state_pkey PRIMARY KEY (task_date, client_id)
);
COMMENT ON TABLE task_change_state IS
    'Per (Jakarta day, client): the task posts and amplification links already announced, and the day''s tally of changes.';
COMMENT ON COLUMN task_change_state.links IS
    'JSON object "<shortcode>:<user_id>" -> md5 of the five links of that link_report row, as last announced.';

-- ---------------------------------------------------------------- personal reminders
-- One row per (Jakarta day, personal chat, client): the last reminder stage sent, as the old
-- wa_notification_reminder_state did. A stage is sent once.
CREATE TABLE personal_reminder_state (
    date_key    date NOT NULL,
    chat_id     text NOT NULL,
    client_id   text NOT NULL,
    user_id     text NOT NULL,
    last_stage  text NOT NULL CONSTRAINT personal_reminder_state_stage_valid
                CHECK (last_stage IN ('initial', 'followup1', 'completed')),
    is_complete boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT personal_reminder_state_pkey PRIMARY KEY (date_key, chat_id, client_id)
);
COMMENT ON TABLE personal_reminder_state IS
    'Per (Jakarta day, personal chat, client): the last personal reminder stage enqueued (job personal_reminder).';

-- ---------------------------------------------------------------- report kinds and routes
INSERT INTO report_routing_kind (report_kind, description) VALUES
    ('link_report', 'Amplification link recap of today (15:05, 18:05, 21:05)'),
    ('amplify_daily_report', 'Daily amplification report to the operator (21:07)'),
    ('amplify_monthly_report', 'Monthly amplification link workbook (last day of the month, 23:00)'),
    ('username_recap', 'Personnel without an Instagram / TikTok username (06:45)');

-- The old audiences: the link recap to the admins, the operator, the super admins and the
-- group; the daily amplification report and the monthly workbook to the operator; the
-- username recap to org groups.
INSERT INTO report_routing (report_kind, client_type, audience, attachment) VALUES
    ('link_report', NULL, 'admins', false),
    ('link_report', NULL, 'operator', false),
    ('link_report', NULL, 'super', false),
    ('link_report', NULL, 'group', false),
    ('amplify_daily_report', NULL, 'operator', false),
    ('amplify_monthly_report', NULL, 'operator', true),
    ('username_recap', 'org', 'group', false);

-- ---------------------------------------------------------------- message types
INSERT INTO wa_message_type (type, description) VALUES
    ('task_change', 'Task list changes: new posts, deleted posts, changed amplification links (task_delivery_recap)'),
    ('link_report', 'Amplification link recap (producer job link_report)'),
    ('amplify_daily_report', 'Daily amplification report to the operator (amplify_daily_report)'),
    ('amplify_monthly_report', 'Monthly amplification link workbook (amplify_monthly_report)'),
    ('username_recap', 'Personnel without a username, to org groups (username_recap)'),
    ('personal_reminder', 'Personal task reminder to an opted-in personnel (personal_reminder)'),
    ('admin_daily_summary', 'Daily summary of runs and messages to ADMIN_WHATSAPP (admin_daily_summary)');
