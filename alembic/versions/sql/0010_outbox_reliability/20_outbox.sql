-- Revision 0010_outbox_reliability (frozen copy; the current state is outbox/schema/20_outbox.sql).
-- Inputs: invisible-only content refused like empty content, an attachment size limit at INSERT
-- (wa_outbox_limits); retention: a sent document's bytes dropped (its size kept), the sending
-- history the pacing caps read kept apart from the purgeable messages (wa_send_log).

ALTER TABLE wa_outbox ADD COLUMN attachment_bytes integer;
UPDATE wa_outbox SET attachment_bytes = octet_length(attachment) WHERE attachment IS NOT NULL;
ALTER TABLE wa_outbox DROP CONSTRAINT wa_outbox_attachment_complete;
ALTER TABLE wa_outbox ADD CONSTRAINT wa_outbox_attachment_complete
        CHECK (attachment IS NULL OR attachment_name IS NOT NULL);
ALTER TABLE wa_outbox ADD CONSTRAINT wa_outbox_attachment_kept
        CHECK (attachment IS NOT NULL OR attachment_name IS NULL OR status = 'sent');
COMMENT ON COLUMN wa_outbox.attachment_bytes IS
    'The attachment''s size (set on INSERT); kept when its bytes are dropped after the send.';

CREATE FUNCTION wa_is_blank(p_text text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_text IS NULL
        OR p_text !~ '[^[:space:]\u00A0\u00AD\u034F\u115F\u1160\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u2064\u206A-\u206F\u3000\u3164\uFEFF\uFFA0]'
$$;

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

CREATE OR REPLACE FUNCTION wa_check_message(p_recipient text, p_content text, p_type text,
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

CREATE OR REPLACE FUNCTION wa_outbox_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r text := NEW.recipient;
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
    RETURN NEW;
END
$$;

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
-- row per send, written by the settle itself; the gateway's purge drops rows older than 48 h.
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
    FOR EACH ROW WHEN (NEW.status = 'sent' AND OLD.status <> 'sent')
    EXECUTE FUNCTION wa_outbox_log_send();

-- the history of the last two days, so that the caps hold across the upgrade
INSERT INTO wa_send_log (session_name, sent_at, outbox_id)
SELECT session_name, sent_at, id FROM wa_outbox
 WHERE status = 'sent' AND sent_at > now() - interval '48 hours';

-- the bytes of documents already sent (wa_outbox_refuse_edit refuses any UPDATE OF attachment)
ALTER TABLE wa_outbox DISABLE TRIGGER wa_outbox_refuse_edit;
UPDATE wa_outbox SET attachment = NULL WHERE status = 'sent' AND attachment IS NOT NULL;
ALTER TABLE wa_outbox ENABLE TRIGGER wa_outbox_refuse_edit;
