-- The outbox: message types, gateway sessions, wa_outbox with its validation and NOTIFY
-- triggers, and its stats view. A plain INSERT INTO wa_outbox (recipient, content, type)
-- VALUES (...) is a complete message: every other column has a default or is set by the
-- BEFORE INSERT trigger.

-- ---------------------------------------------------------------- message types (lookup)
CREATE TABLE wa_message_type (
    type        text PRIMARY KEY CONSTRAINT wa_message_type_name_valid
                CHECK (type ~ '^[a-z][a-z0-9_]{0,63}$'),
    description text NOT NULL,
    priority    smallint NOT NULL DEFAULT 10 CONSTRAINT wa_message_type_priority_valid
                CHECK (priority BETWEEN -100 AND 100),
    collapsible boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE wa_message_type IS
    'The purposes a wa_outbox row may have. Add one with INSERT INTO wa_message_type.';
COMMENT ON COLUMN wa_message_type.priority IS
    'The priority of a row of this type inserted without one (higher first; levels in '
    '97_delivery_capacity.sql and docs/concepts/delivery.md).';
COMMENT ON COLUMN wa_message_type.collapsible IS
    'false: a row of this type may not carry a collapse_key (a complaint answer is never '
    'superseded).';
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
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_name text;
BEGIN
    SELECT name INTO found_name FROM wa_session WHERE is_default;
    RETURN coalesce(found_name, 'main');
END
$$;

-- Content that shows nothing: empty, white space, or only invisible characters (no-break and
-- other Unicode spaces, zero-width spaces and joiners, the soft hyphen, the word joiner, the
-- byte-order mark, Hangul fillers, bidirectional marks). WhatsApp would send it blank or
-- refuse it.
CREATE FUNCTION wa_is_blank(p_text text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_text IS NULL
        OR p_text !~ '[^[:space:]\u00A0\u00AD\u034F\u115F\u1160\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u2064\u206A-\u206F\u3000\u3164\uFEFF\uFFA0]'
$$;

-- Limits the database enforces, one row; an operator changes them with UPDATE wa_outbox_limits.
CREATE TABLE wa_outbox_limits (
    one                  boolean PRIMARY KEY DEFAULT true CONSTRAINT wa_outbox_limits_one_row
                         CHECK (one),
    attachment_max_bytes integer NOT NULL DEFAULT 16777216
                         CONSTRAINT wa_outbox_limits_attachment_valid
                         CHECK (attachment_max_bytes BETWEEN 1 AND 104857600),
    claim_max_bytes      integer NOT NULL DEFAULT 33554432
                         CONSTRAINT wa_outbox_limits_claim_valid CHECK (claim_max_bytes >= 1)
);
INSERT INTO wa_outbox_limits DEFAULT VALUES;
COMMENT ON TABLE wa_outbox_limits IS
    'Limits enforced by the database (one row): attachment_max_bytes refuses a larger attachment '
    'at INSERT (default 16 MiB; WhatsApp takes documents up to 100 MB, the CHECK''s ceiling); '
    'claim_max_bytes bounds the attachment bytes one gateway claim holds in memory.';

-- (the INSERT trigger gives the same verdicts; unknown types are caught there by the FK).
CREATE FUNCTION wa_check_message(p_recipient text, p_content text, p_type text,
                                 OUT jid text, OUT problem text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT r.jid, r.problem INTO jid, problem FROM wa_parse_recipient(p_recipient) AS r;
    IF problem IS NOT NULL THEN
        RETURN;
    END IF;
    IF wa_is_blank(p_content) THEN
        problem := 'content is empty: a message needs text (a document needs its caption); '
                   'spaces and invisible characters alone do not count';
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
                     CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled',
                                       'superseded', 'expired')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    session_name     text NOT NULL DEFAULT wa_default_session(),
    priority         smallint NOT NULL,  -- NULL at INSERT: the type's (wa_message_type.priority)
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
    attachment_bytes integer,
    collapse_key     text,
    superseded_by    bigint,
    expires_at       timestamptz,
    carried_by       bigint,
    CONSTRAINT wa_outbox_attachment_complete
        CHECK (attachment IS NULL OR attachment_name IS NOT NULL),
    CONSTRAINT wa_outbox_attachment_kept
        CHECK (attachment IS NOT NULL OR attachment_name IS NULL OR status = 'sent'),
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
COMMENT ON COLUMN wa_outbox.collapse_key IS
    'Optional: a newer row with the same collapse_key, recipient and session supersedes this one '
    'while it is pending (status superseded, superseded_by = the newer row).';
COMMENT ON COLUMN wa_outbox.superseded_by IS 'The newer row that superseded this one.';
COMMENT ON COLUMN wa_outbox.expires_at IS
    'Optional deadline: a row not handed to WhatsApp by then becomes expired, never sent late.';
COMMENT ON COLUMN wa_outbox.carried_by IS
    'Set by the claim when this text rides in one WhatsApp message with the row named here (the '
    'gateway joins a recipient''s consecutive due texts, WA_COALESCE_TEXTS): sent, it shares that '
    'row''s wa_message_id and is not a send of its own in wa_send_log.';
COMMENT ON COLUMN wa_outbox.attachment_bytes IS
    'The attachment''s size (set on INSERT); kept when its bytes are dropped after the send.';

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
CREATE INDEX wa_outbox_recipient_open_idx ON wa_outbox (session_name, recipient COLLATE "C", id)
    WHERE is_open;
-- Pacing derived from the database: sends per session in the last hour/day, and the last send
-- to a recipient (the claim's recipient gap looks at the few rows sent within the gap).
CREATE INDEX wa_outbox_sent_idx ON wa_outbox (session_name, sent_at) WHERE sent_at IS NOT NULL;
-- Receipts are matched by WhatsApp message id.
CREATE INDEX wa_outbox_wa_message_id_idx ON wa_outbox (wa_message_id)
    WHERE wa_message_id IS NOT NULL;

CREATE FUNCTION wa_outbox_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r text := NEW.recipient;
    type_priority smallint;
    type_collapsible boolean;
    session_pool text;
    routed text;
    route_problem text;
BEGIN
    -- The two spellings nearly every writer uses, 08xx digits and the canonical JID, are
    -- decided here: calling wa_jid is most of this trigger's cost. wa_jid gives the same answer
    -- for both (a test checks it over generated inputs) and decides every other spelling.
    IF left(r, 2) = '08' AND length(r) BETWEEN 9 AND 14
       AND translate(r, '0123456789', '') = '' THEN
        NEW.recipient := '62' || substr(r, 2) || '@s.whatsapp.net';
    ELSIF (left(r, 2) = '62' AND right(r, 15) = '@s.whatsapp.net'
           AND length(r) BETWEEN 25 AND 30 AND substr(r, 3, 1) <> '0'
           AND translate(left(r, -15), '0123456789', '') = '') IS NOT TRUE THEN
        NEW.recipient := wa_jid(r);
        IF NEW.recipient IS NULL THEN
            RAISE EXCEPTION 'wa_outbox rejected: %', coalesce(wa_recipient_problem(r),
                  format('recipient %L is not a WhatsApp number or group id', r))
                USING ERRCODE = 'check_violation', CONSTRAINT = 'wa_outbox_message_valid',
                      TABLE = 'wa_outbox',
                      HINT = 'accepted: 08xx, +62 8xx-xxx, 628xx, 628xx@c.us, '
                             '628xx@s.whatsapp.net or 1203...@g.us';
        END IF;
    END IF;
    -- One test for the usual row: text that starts with a printable ASCII character is not
    -- empty, is short enough, and has no attachment. Anything else gets the full checks.
    IF NEW.content IS NULL OR ascii(NEW.content) NOT BETWEEN 33 AND 126
       OR octet_length(NEW.content) > 65536 OR NEW.attachment IS NOT NULL THEN
        IF wa_is_blank(NEW.content) THEN
            RAISE EXCEPTION 'wa_outbox rejected: content is empty: a message needs text '
                            '(a document needs its caption); spaces and invisible characters '
                            'alone do not count'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'wa_outbox_message_valid',
                      TABLE = 'wa_outbox';
        END IF;
        IF length(NEW.content) > 65536 THEN
            RAISE EXCEPTION 'wa_outbox rejected: content is % characters long; WhatsApp '
                            'accepts at most 65536', length(NEW.content)
                USING ERRCODE = 'check_violation', CONSTRAINT = 'wa_outbox_message_valid',
                      TABLE = 'wa_outbox';
        END IF;
        IF NEW.attachment IS NOT NULL THEN
            NEW.attachment_bytes := octet_length(NEW.attachment);
            IF NEW.attachment_bytes > (SELECT l.attachment_max_bytes FROM wa_outbox_limits AS l)
            THEN
                RAISE EXCEPTION 'wa_outbox rejected: the attachment is % bytes; the limit is % '
                                '(wa_outbox_limits.attachment_max_bytes)', NEW.attachment_bytes,
                                (SELECT l.attachment_max_bytes FROM wa_outbox_limits AS l)
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'wa_outbox_message_valid',
                          TABLE = 'wa_outbox',
                          HINT = 'split the file, or raise the limit (WhatsApp takes documents '
                                 'up to 100 MB)';
            END IF;
            IF NEW.attachment_name IS NULL OR NEW.attachment_name !~ '[^[:space:]]' THEN
                RAISE EXCEPTION 'wa_outbox rejected: an attachment needs attachment_name (the '
                                'file name the recipient sees)'
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'wa_outbox_message_valid',
                          TABLE = 'wa_outbox';
            END IF;
            IF NEW.attachment_mime IS NULL THEN
                NEW.attachment_mime := CASE lower(substring(NEW.attachment_name
                                                            from '\.([^.]+)$'))
                    WHEN 'xlsx' THEN
                        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
                    WHEN 'xls'  THEN 'application/vnd.ms-excel'
                    WHEN 'csv'  THEN 'text/csv'
                    WHEN 'pdf'  THEN 'application/pdf'
                    WHEN 'txt'  THEN 'text/plain'
                    ELSE 'application/octet-stream'
                END;
            END IF;
        END IF;
    END IF;
    -- Session names are ASCII (wa_session_name_valid): lower() in the C collation skips the
    -- locale's wide-character path.
    NEW.session_name := coalesce(nullif(lower(btrim(NEW.session_name) COLLATE "C"), ''),
                                 wa_default_session());
    -- The type's priority when the writer gave none, whether the type takes a collapse key (a
    -- complaint answer is never superseded), and the session's pool: one look-up.
    NEW.collapse_key := nullif(btrim(NEW.collapse_key), '');
    SELECT t.priority, t.collapsible, s.pool INTO type_priority, type_collapsible, session_pool
      FROM wa_message_type AS t
      LEFT JOIN wa_session AS s ON s.name = NEW.session_name
     WHERE t.type = NEW.type;
    NEW.priority := coalesce(NEW.priority, type_priority, 0);
    IF NEW.collapse_key IS NOT NULL AND type_collapsible IS FALSE THEN
        RAISE EXCEPTION 'wa_outbox rejected: a % message is never superseded: collapse_key '
                        'must be NULL', NEW.type
            USING ERRCODE = 'check_violation', CONSTRAINT = 'wa_outbox_message_valid',
                  TABLE = 'wa_outbox';
    END IF;
    IF NEW.expires_at IS NOT NULL AND (NEW.expires_at <= now()
                                       OR NEW.expires_at <= NEW.available_at) THEN
        RAISE EXCEPTION 'wa_outbox rejected: expires_at % WIB is not in the future (and after '
                        'available_at): the message could never be sent',
                        to_char(NEW.expires_at AT TIME ZONE 'Asia/Jakarta',
                                'DD-MM-YYYY HH24.MI')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'wa_outbox_message_valid',
                  TABLE = 'wa_outbox',
                  HINT = 'leave expires_at NULL for a message that may be sent at any time';
    END IF;
    -- A session in a pool: the row goes to the pool member that serves its recipient
    -- (97_delivery_capacity.sql). A session without a pool: nothing changes.
    IF session_pool IS NOT NULL THEN
        SELECT r.session_name, r.problem INTO routed, route_problem
          FROM wa_pool_route(NEW.session_name, NEW.recipient) AS r;
        IF route_problem IS NOT NULL THEN
            NEW.status := 'failed';
            NEW.finished_at := now();
            NEW.last_error := route_problem;
        ELSE
            NEW.session_name := routed;
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER wa_outbox_before_insert BEFORE INSERT ON wa_outbox
    FOR EACH ROW EXECUTE FUNCTION wa_outbox_before_insert();

-- Queued messages are immutable: statement level, so it costs nothing per row, and claims and
-- settles never name these columns.
CREATE FUNCTION wa_outbox_refuse_edit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'wa_outbox rejected: a queued message cannot be edited (recipient, content '
                    'and attachment are fixed when it is inserted)'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'wa_outbox_message_immutable',
              TABLE = 'wa_outbox',
              HINT = 'cancel the row (python -m outbox cancel ID) and insert a corrected message';
END
$$;
CREATE TRIGGER wa_outbox_refuse_edit
    BEFORE UPDATE OF recipient, content, attachment, attachment_name, attachment_mime
    ON wa_outbox FOR EACH STATEMENT EXECUTE FUNCTION wa_outbox_refuse_edit();

-- One NOTIFY per statement (never per row): a gateway LISTENing on 'wa_outbox' wakes at once.
CREATE FUNCTION wa_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_notify('wa_outbox', '') IS NULL THEN  -- never true: pg_notify returns void
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER wa_outbox_notify AFTER INSERT ON wa_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION wa_outbox_notify();

-- Once a document is sent its bytes are dropped (name, type and size stay): the table holds
-- no file longer than it takes to send it. A BEFORE row trigger, so the statement-level
-- wa_outbox_refuse_edit (UPDATE OF attachment) is not involved.
CREATE FUNCTION wa_outbox_drop_sent_attachment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.attachment := NULL;
    RETURN NEW;
END
$$;
CREATE TRIGGER wa_outbox_drop_sent_attachment BEFORE UPDATE OF status ON wa_outbox
    FOR EACH ROW WHEN (NEW.status = 'sent' AND OLD.status <> 'sent' AND NEW.attachment IS NOT NULL)
    EXECUTE FUNCTION wa_outbox_drop_sent_attachment();

-- The sending history the pacing caps are computed from (WA_MAX_PER_HOUR, WA_MAX_PER_DAY), kept
-- apart from the purgeable messages so that no purge of wa_outbox can raise the send rate. One
-- row per send (a text carried in another row's message is no send of its own), written by the
-- settle itself; the gateway's purge drops rows older than 48 h.
CREATE TABLE wa_send_log (
    session_name text NOT NULL,
    sent_at      timestamptz NOT NULL,
    outbox_id    bigint NOT NULL
);
CREATE INDEX wa_send_log_session_idx ON wa_send_log (session_name, sent_at);
COMMENT ON TABLE wa_send_log IS
    'One row per message sent (session, time): the pacing caps read it; wa_outbox purges do not '
    'touch it. Rows older than 48 hours are purged with the outbox.';

CREATE FUNCTION wa_outbox_log_send() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wa_send_log (session_name, sent_at, outbox_id)
    VALUES (NEW.session_name, coalesce(NEW.sent_at, now()), NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER wa_outbox_log_send AFTER UPDATE OF status ON wa_outbox
    FOR EACH ROW WHEN (NEW.status = 'sent' AND OLD.status <> 'sent' AND NEW.carried_by IS NULL)
    EXECUTE FUNCTION wa_outbox_log_send();

CREATE VIEW wa_outbox_stats AS
SELECT session_name,
       status,
       count(*)                       AS messages,
       min(created_at)                AS oldest_created_at,
       min(available_at) FILTER (WHERE status = 'pending') AS next_available_at,
       max(finished_at)               AS last_finished_at
  FROM wa_outbox
 GROUP BY session_name, status;
