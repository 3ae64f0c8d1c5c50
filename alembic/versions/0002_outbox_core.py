"""Outbox core: wa_outbox, its message types, sessions, inbox, complaint queue, producer runs.

The SQL is frozen here (never read from elsewhere at run time) so this revision means the same
thing forever. ``INSERT INTO wa_outbox (recipient, content, type) VALUES (...)`` keeps working:
every other column has a default or is filled by the BEFORE INSERT trigger.

Revision ID: 0002_outbox_core
Revises: 0001_cicero_tables
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0002_outbox_core"
down_revision = "0001_cicero_tables"
branch_labels = None
depends_on = None

UPGRADE = r"""
-- ---------------------------------------------------------------- message types (lookup)
CREATE TABLE wa_message_type (
    type        text PRIMARY KEY CONSTRAINT wa_message_type_name_valid
                CHECK (type ~ '^[a-z][a-z0-9_]{0,63}$'),
    description text NOT NULL
);
COMMENT ON TABLE wa_message_type IS
    'The purposes a wa_outbox row may have. Add one with INSERT INTO wa_message_type.';
INSERT INTO wa_message_type (type, description) VALUES
    ('daily_report',        'Daily attendance recap (producer job daily_report)'),
    ('weekly_report',       'Weekly recap with .xlsx (producer job weekly_report)'),
    ('monthly_report',      'Monthly recap with .xlsx (producer job monthly_report)'),
    ('task_delivery_recap', 'Daftar Tugas: the day''s posts per client (task_delivery_recap)'),
    ('complaint_response',  'Standard answer to a personnel complaint (complaint_response)'),
    ('complaint_forward',   'Complaint lines forwarded to a client operator for a manual answer'),
    ('admin_alert',         'Gateway/producer alerts to ADMIN_WHATSAPP / GATEWAY_WHATSAPP_ADMIN'),
    ('text',                'Ad-hoc message');

-- ---------------------------------------------------------------- WhatsApp sessions
CREATE TABLE wa_session (
    name            text PRIMARY KEY CONSTRAINT wa_session_name_valid
                    CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    is_default      boolean NOT NULL DEFAULT false,
    jid             text,
    state           text NOT NULL DEFAULT 'offline',
    state_detail    text,
    state_changed_at timestamptz NOT NULL DEFAULT now(),
    paused_until    timestamptz,
    pause_reason    text,
    heartbeat_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX wa_session_one_default_idx ON wa_session (is_default) WHERE is_default;
COMMENT ON TABLE wa_session IS
    'One row per gateway WhatsApp session. Rows inserted without session_name go to the default one.';

-- The session a row goes to when the writer did not name one: the default session, or 'main'
-- while no gateway has registered yet (the first gateway to register adopts those rows).
CREATE FUNCTION wa_default_session() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT name FROM wa_session WHERE is_default), 'main')
$$;

-- ---------------------------------------------------------------- recipient parsing
-- wa_jid decides: it returns the canonical JID (digits@s.whatsapp.net or digits@g.us) or NULL.
-- Accepted: 08xx, 8xx, 628xx, +62 8xx-xxx (also "+62 0812"), 00<country>/+<country> numbers,
-- 628xx@c.us, 628xx@s.whatsapp.net and group ids 1203...@g.us (old style 628xx-1596...@g.us).
-- It is on the INSERT path of every row, so it is kept to a few regular expressions.
CREATE FUNCTION wa_jid(raw text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    v    text := lower(btrim(raw));
    intl boolean;
BEGIN
    -- String functions only, and few statements: this runs for every inserted row, and
    -- PostgreSQL's regex engine would cost microseconds per row here.
    IF right(v, 5) = '@g.us' THEN
        v := left(v, -5);
        RETURN CASE WHEN translate(v, '0123456789-', '') = '' AND split_part(v, '-', 3) = ''
                         AND length(split_part(v, '-', 1)) BETWEEN 10 AND 22
                         AND (strpos(v, '-') = 0 OR length(split_part(v, '-', 2)) BETWEEN 6 AND 15)
                    THEN v || '@g.us' END;
    END IF;
    v := translate(CASE WHEN right(v, 5) = '@c.us' THEN left(v, -5)
                        WHEN right(v, 15) = '@s.whatsapp.net' THEN left(v, -15)
                        ELSE v END, E' ().-\t\n\r', '');
    intl := left(v, 1) = '+' OR left(v, 2) = '00';
    v := CASE WHEN left(v, 1) = '+' THEN substr(v, 2) WHEN intl THEN substr(v, 3) ELSE v END;
    IF v = '' OR translate(v, '0123456789', '') <> '' THEN
        RETURN NULL;
    ELSIF intl AND left(v, 2) <> '62' THEN  -- a foreign number
        RETURN CASE WHEN left(v, 1) <> '0' AND length(v) BETWEEN 8 AND 15
                    THEN v || '@s.whatsapp.net' END;
    END IF;
    -- Indonesian: drop the country code or the trunk zero ("0812"), or take "8xx" as is; then
    -- one more trunk zero written after the country code ("+62 0812").
    v := CASE WHEN left(v, 2) = '62' THEN substr(v, 3)
              WHEN left(v, 1) = '0' THEN substr(v, 2)
              WHEN left(v, 1) = '8' THEN v END;
    v := CASE WHEN left(v, 1) = '0' THEN substr(v, 2) ELSE v END;
    RETURN CASE WHEN left(v, 1) <> '0' AND length(v) BETWEEN 8 AND 13
                THEN '62' || v || '@s.whatsapp.net' END;
END
$$;

-- Why wa_jid refused a value, in words an operator can act on (only called on that path).
CREATE FUNCTION wa_recipient_problem(raw text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v      text;
    local  text;
    server text;
BEGIN
    IF raw IS NULL OR raw !~ '[^[:space:]]' THEN
        RETURN 'recipient is empty';
    END IF;
    IF wa_jid(raw) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    v := lower(btrim(raw));
    IF strpos(v, '@') > 0 THEN
        local := split_part(v, '@', 1);
        server := substr(v, length(local) + 2);
        IF server = 'g.us' THEN
            RETURN format('recipient %L is not a WhatsApp group id (expected digits@g.us)', raw);
        ELSIF server NOT IN ('c.us', 's.whatsapp.net') THEN
            RETURN format('recipient %L has an unknown WhatsApp server %L '
                          '(expected @s.whatsapp.net, @c.us or @g.us)', raw, server);
        ELSIF strpos(local, ':') > 0 THEN
            RETURN format('recipient %L names a device; give the number only', raw);
        END IF;
        v := local;
    END IF;
    v := regexp_replace(v, '[[:space:]().-]', '', 'g');
    IF v !~ '^(\+|00)?[0-9]+$' THEN
        RETURN format('recipient %L is not a phone number or group id', raw);
    ELSIF v ~ '^(\+|00)62' OR v ~ '^(62|0|8)' THEN
        RETURN format('recipient %L: an Indonesian number needs 8 to 13 digits after 62', raw);
    ELSIF v ~ '^(\+|00)' THEN
        RETURN format('recipient %L is not a valid international number', raw);
    END IF;
    RETURN format('recipient %L: an Indonesian number starts with 0, 8 or 62; '
                  'write a foreign number with a leading +', raw);
END
$$;

-- Both answers at once, for callers that want to normalise and explain in one call.
CREATE FUNCTION wa_parse_recipient(raw text, OUT jid text, OUT problem text)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    jid := wa_jid(raw);
    IF jid IS NULL THEN
        problem := coalesce(wa_recipient_problem(raw),
                            format('recipient %L is not a WhatsApp number or group id', raw));
    END IF;
END
$$;

-- Every problem of a would-be wa_outbox row, for the engine's "skip invalid rows" batch mode
-- (the INSERT trigger gives the same verdicts; unknown types are caught there by the FK).
CREATE FUNCTION wa_check_message(p_recipient text, p_content text, p_type text,
                                 OUT jid text, OUT problem text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT r.jid, r.problem INTO jid, problem FROM wa_parse_recipient(p_recipient) AS r;
    IF problem IS NOT NULL THEN
        RETURN;
    END IF;
    IF p_content IS NULL OR p_content !~ '[^[:space:]]' THEN
        problem := 'content is empty: a message needs text (a document needs its caption)';
    ELSIF length(p_content) > 65536 THEN
        problem := format('content is %s characters long; WhatsApp accepts at most 65536',
                          length(p_content));
    ELSIF p_type IS NULL THEN
        problem := 'type is missing (for an ad-hoc message use ''text'')';
    ELSIF NOT EXISTS (SELECT 1 FROM wa_message_type t WHERE t.type = p_type) THEN
        problem := format('unknown message type %L; known types: %s (add one with INSERT INTO '
                          'wa_message_type)', p_type,
                          (SELECT string_agg(t.type, ', ' ORDER BY t.type) FROM wa_message_type t));
    END IF;
END
$$;

-- ---------------------------------------------------------------- the outbox
CREATE TABLE wa_outbox (
    id               bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    recipient        text NOT NULL,
    content          text NOT NULL,
    type             text NOT NULL CONSTRAINT wa_outbox_type_fkey
                     REFERENCES wa_message_type (type) ON UPDATE CASCADE,
                     -- an unknown type fails this FK: 'Key (type)=(x) is not present in table
                     -- "wa_message_type"' (add a type with INSERT INTO wa_message_type)
    status           text NOT NULL DEFAULT 'pending' CONSTRAINT wa_outbox_status_valid
                     CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    session_name     text NOT NULL DEFAULT wa_default_session(),
    priority         smallint NOT NULL DEFAULT 0,
    available_at     timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 5 CONSTRAINT wa_outbox_max_attempts_valid
                     CHECK (max_attempts BETWEEN 1 AND 100),
    claim_token      uuid,
    claimed_by       text,
    claimed_at       timestamptz,
    lease_expires_at timestamptz,
    send_started_at  timestamptz,
    finished_at      timestamptz,
    last_error       text,
    dedupe_key       text,
    wa_message_id    text,
    delivered_at     timestamptz,
    read_at          timestamptz,
    attachment       bytea,
    attachment_name  text,
    attachment_mime  text,
    is_open          boolean GENERATED ALWAYS AS (status IN ('pending', 'sending')) STORED,
    CONSTRAINT wa_outbox_attachment_complete
        CHECK ((attachment IS NULL) = (attachment_name IS NULL)),
    CONSTRAINT wa_outbox_lease_complete
        CHECK (status <> 'sending' OR (claim_token IS NOT NULL AND lease_expires_at IS NOT NULL))
);
ALTER TABLE wa_outbox SET (fillfactor = 40, autovacuum_vacuum_scale_factor = 0.02,
                           autovacuum_analyze_scale_factor = 0.02);
COMMENT ON TABLE wa_outbox IS
    'WhatsApp outbox. Enqueue with INSERT INTO wa_outbox (recipient, content, type) VALUES (...).';
COMMENT ON COLUMN wa_outbox.recipient IS
    'Canonical JID: digits@s.whatsapp.net or digits@g.us (normalised on INSERT).';
COMMENT ON COLUMN wa_outbox.priority IS 'Higher first, across recipients; order per recipient is id order.';
COMMENT ON COLUMN wa_outbox.available_at IS 'Not sent before this time (scheduled send or retry backoff).';
COMMENT ON COLUMN wa_outbox.dedupe_key IS 'Optional; a second row with the same key is refused.';

-- Indexes. No index key or predicate mentions a column that a claim, a retry or a release
-- changes (status, attempts, available_at, claim_token, lease_expires_at, ...): those updates
-- are then HOT (no index entry written) while the page has room, hence fillfactor 40: a claim
-- of 100 rows needs room for 100 new row versions (finished rows are purged). Only the
-- final settle, which flips is_open and sets sent_at, writes index entries.
--
-- Dedupe: partial, so the many rows without a key cost no index entry.
-- Writers use INSERT ... ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING.
CREATE UNIQUE INDEX wa_outbox_dedupe_key_idx ON wa_outbox (dedupe_key)
    WHERE dedupe_key IS NOT NULL;
-- The claim: open rows of one session in (priority, id) order; it stays small however many
-- finished rows the table holds. The rescuer scans it for expired leases too.
CREATE INDEX wa_outbox_claim_idx ON wa_outbox (session_name, priority DESC, id) WHERE is_open;
-- Per-recipient order: "is an older row of this recipient still open?"
CREATE INDEX wa_outbox_recipient_open_idx ON wa_outbox (session_name, recipient, id)
    WHERE is_open;
-- Pacing derived from the database: sends per session in the last hour/day, and the last send
-- to a recipient (the claim's recipient gap looks at the few rows sent within the gap).
CREATE INDEX wa_outbox_sent_idx ON wa_outbox (session_name, sent_at) WHERE sent_at IS NOT NULL;
-- Receipts are matched by WhatsApp message id.
CREATE INDEX wa_outbox_wa_message_id_idx ON wa_outbox (wa_message_id)
    WHERE wa_message_id IS NOT NULL;

CREATE FUNCTION wa_outbox_before_write() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    jid text;
BEGIN
    jid := wa_jid(NEW.recipient);
    IF jid IS NULL THEN
        RAISE EXCEPTION 'wa_outbox rejected: %', coalesce(wa_recipient_problem(NEW.recipient),
              format('recipient %L is not a WhatsApp number or group id', NEW.recipient))
            USING ERRCODE = 'check_violation', CONSTRAINT = 'wa_outbox_message_valid',
                  TABLE = 'wa_outbox',
                  HINT = 'accepted: 08xx, +62 8xx-xxx, 628xx, 628xx@c.us, 628xx@s.whatsapp.net '
                         'or 1203...@g.us';
    END IF;
    NEW.recipient := jid;
    IF NEW.content IS NULL OR NEW.content !~ '[^[:space:]]' THEN
        RAISE EXCEPTION 'wa_outbox rejected: content is empty: a message needs text '
                        '(a document needs its caption)'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'wa_outbox_message_valid',
                  TABLE = 'wa_outbox';
    END IF;
    IF octet_length(NEW.content) > 65536 AND length(NEW.content) > 65536 THEN
        RAISE EXCEPTION 'wa_outbox rejected: content is % characters long; WhatsApp accepts at '
                        'most 65536', length(NEW.content)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'wa_outbox_message_valid',
                  TABLE = 'wa_outbox';
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.session_name := coalesce(nullif(lower(btrim(NEW.session_name)), ''),
                                     wa_default_session());
    END IF;
    IF NEW.attachment IS NOT NULL THEN
        IF NEW.attachment_name IS NULL OR NEW.attachment_name !~ '[^[:space:]]' THEN
            RAISE EXCEPTION 'wa_outbox rejected: an attachment needs attachment_name (the file '
                            'name the recipient sees)'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'wa_outbox_message_valid',
                      TABLE = 'wa_outbox';
        END IF;
        IF NEW.attachment_mime IS NULL THEN
            NEW.attachment_mime := CASE lower(substring(NEW.attachment_name from '\.([^.]+)$'))
                WHEN 'xlsx' THEN 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
                WHEN 'xls'  THEN 'application/vnd.ms-excel'
                WHEN 'csv'  THEN 'text/csv'
                WHEN 'pdf'  THEN 'application/pdf'
                WHEN 'txt'  THEN 'text/plain'
                ELSE 'application/octet-stream'
            END;
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER wa_outbox_before_write
    BEFORE INSERT OR UPDATE OF recipient, content, type, attachment, attachment_name
    ON wa_outbox FOR EACH ROW EXECUTE FUNCTION wa_outbox_before_write();

-- One NOTIFY per statement (never per row): a gateway LISTENing on 'wa_outbox' wakes at once.
CREATE FUNCTION wa_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('wa_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER wa_outbox_notify AFTER INSERT ON wa_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION wa_outbox_notify();

CREATE VIEW wa_outbox_stats AS
SELECT session_name,
       status,
       count(*)                       AS messages,
       min(created_at)                AS oldest_created_at,
       min(available_at) FILTER (WHERE status = 'pending') AS next_available_at,
       max(finished_at)               AS last_finished_at
  FROM wa_outbox
 GROUP BY session_name, status;

-- ---------------------------------------------------------------- inbound messages
CREATE TABLE wa_inbox (
    id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    session_name  text NOT NULL,
    chat          text NOT NULL,
    sender        text NOT NULL,
    wa_message_id text NOT NULL,
    text          text NOT NULL DEFAULT '',
    from_me       boolean NOT NULL DEFAULT false,
    received_at   timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    process_result text,
    CONSTRAINT wa_inbox_message_once UNIQUE (session_name, wa_message_id)
);
CREATE INDEX wa_inbox_unprocessed_idx ON wa_inbox (id) WHERE processed_at IS NULL;
COMMENT ON TABLE wa_inbox IS
    'Every message the gateway receives, stored once per (session, message id). '
    'INSERT INTO wa_inbox (chat, sender, wa_message_id, text) is a valid inbound message.';

CREATE FUNCTION wa_inbox_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.session_name IS NULL OR btrim(NEW.session_name) = '' THEN
        NEW.session_name := wa_default_session();
    ELSE
        NEW.session_name := lower(btrim(NEW.session_name));
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER wa_inbox_before_insert BEFORE INSERT ON wa_inbox
    FOR EACH ROW EXECUTE FUNCTION wa_inbox_before_insert();

CREATE FUNCTION wa_inbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('wa_inbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER wa_inbox_notify AFTER INSERT ON wa_inbox
    FOR EACH STATEMENT EXECUTE FUNCTION wa_inbox_notify();

-- ---------------------------------------------------------------- complaints
CREATE TABLE complaint_queue (
    id                bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    complainant       text NOT NULL,
    response_template text,
    status            text NOT NULL DEFAULT 'pending' CONSTRAINT complaint_queue_status_valid
                      CHECK (status IN ('pending', 'responded', 'invalid')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    responded_at      timestamptz,
    outbox_id         bigint REFERENCES wa_outbox (id) ON DELETE SET NULL,
    inbox_id          bigint REFERENCES wa_inbox (id) ON DELETE SET NULL,
    session_name      text,
    nrp               text,
    reporter_name     text,
    polres            text,
    instagram         text,
    tiktok            text,
    issues            text[] NOT NULL DEFAULT '{}',
    raw_text          text,
    last_error        text,
    CONSTRAINT complaint_queue_answer_source
        CHECK (response_template IS NOT NULL OR nrp IS NOT NULL)
);
CREATE INDEX complaint_queue_pending_idx ON complaint_queue (created_at, id)
    WHERE status = 'pending';
CREATE UNIQUE INDEX complaint_queue_inbox_once_idx ON complaint_queue (inbox_id)
    WHERE inbox_id IS NOT NULL;
COMMENT ON COLUMN complaint_queue.response_template IS
    'The answer to send. NULL: compose the standard answer from the parsed fields (nrp, issues).';

-- What a complaint's reply became, read through the outbox link.
CREATE VIEW complaint_delivery AS
SELECT c.id AS complaint_id,
       c.complainant,
       c.status AS complaint_status,
       c.created_at,
       c.responded_at,
       c.outbox_id,
       o.status AS outbox_status,
       o.sent_at,
       o.last_error,
       CASE
           WHEN c.status = 'pending' THEN 'waiting'
           WHEN c.status = 'invalid' THEN 'not_answerable'
           WHEN c.outbox_id IS NULL THEN 'reply_unknown'
           WHEN o.status = 'sent' THEN 'answered'
           WHEN o.status IN ('failed', 'cancelled') THEN 'reply_failed'
           ELSE 'reply_queued'
       END AS delivery_state
  FROM complaint_queue c
  LEFT JOIN wa_outbox o ON o.id = c.outbox_id;

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
"""

DOWNGRADE = r"""
DROP TABLE producer_run;
DROP VIEW complaint_delivery;
DROP TABLE complaint_queue;
DROP TABLE wa_inbox;
DROP FUNCTION wa_inbox_notify();
DROP FUNCTION wa_inbox_before_insert();
DROP VIEW wa_outbox_stats;
DROP TABLE wa_outbox;
DROP FUNCTION wa_outbox_notify();
DROP FUNCTION wa_outbox_before_write();
DROP FUNCTION wa_check_message(text, text, text);
DROP FUNCTION wa_parse_recipient(text);
DROP FUNCTION wa_recipient_problem(text);
DROP FUNCTION wa_jid(text);
DROP FUNCTION wa_default_session();
DROP TABLE wa_session;
DROP TABLE wa_message_type;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
