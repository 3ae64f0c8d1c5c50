-- Revision 0012_delivery_capacity (frozen copy; the current state is outbox/schema/20_outbox.sql
-- and outbox/schema/97_delivery_capacity.sql). Priorities by message type, superseded and
-- expired messages, and a pool of numbers.

ALTER TABLE wa_message_type
    ADD COLUMN priority    smallint NOT NULL DEFAULT 10 CONSTRAINT wa_message_type_priority_valid
                           CHECK (priority BETWEEN -100 AND 100),
    ADD COLUMN collapsible boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN wa_message_type.priority IS
    'The priority of a row of this type inserted without one (higher first; levels in '
    '97_delivery_capacity.sql and docs/concepts/delivery.md).';
COMMENT ON COLUMN wa_message_type.collapsible IS
    'false: a row of this type may not carry a collapse_key (a complaint answer is never '
    'superseded).';

ALTER TABLE wa_outbox
    ADD COLUMN collapse_key  text,
    ADD COLUMN superseded_by bigint,
    ADD COLUMN expires_at    timestamptz,
    ADD COLUMN carried_by    bigint,
    ALTER COLUMN priority DROP DEFAULT,
    DROP CONSTRAINT wa_outbox_status_valid,
    ADD CONSTRAINT wa_outbox_status_valid
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled',
                          'superseded', 'expired'));
COMMENT ON COLUMN wa_outbox.collapse_key IS
    'Optional: a newer row with the same collapse_key, recipient and session supersedes this one '
    'while it is pending (status superseded, superseded_by = the newer row).';
COMMENT ON COLUMN wa_outbox.carried_by IS
    'Set by the claim when this text rides in one WhatsApp message with the row named here (the '
    'gateway joins a recipient''s consecutive due texts, WA_COALESCE_TEXTS): sent, it shares that '
    'row''s wa_message_id and is not a send of its own in wa_send_log.';
COMMENT ON COLUMN wa_outbox.superseded_by IS 'The newer row that superseded this one.';
COMMENT ON COLUMN wa_outbox.expires_at IS
    'Optional deadline: a row not handed to WhatsApp by then becomes expired, never sent late.';

-- A text carried in another row's WhatsApp message is not a send of its own.
DROP TRIGGER wa_outbox_log_send ON wa_outbox;
CREATE TRIGGER wa_outbox_log_send AFTER UPDATE OF status ON wa_outbox
    FOR EACH ROW WHEN (NEW.status = 'sent' AND OLD.status <> 'sent' AND NEW.carried_by IS NULL)
    EXECUTE FUNCTION wa_outbox_log_send();

CREATE OR REPLACE FUNCTION wa_outbox_before_insert() RETURNS trigger
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
