"""A cheaper write path for wa_outbox, and foreign JIDs accepted as written.

* The validation trigger runs on INSERT only. A row-level BEFORE UPDATE trigger, even one
  limited to a column list, makes PostgreSQL fetch and lock every updated row before it looks
  at the list, so every claim and settle paid for it. Queued messages are now immutable
  instead: an UPDATE of recipient, content or the attachment is refused by a statement-level
  trigger (cancel the row and enqueue a corrected one). Status, schedule, lease and receipt
  columns stay updatable.
* The trigger decides the two spellings nearly every writer uses (the canonical
  ``62...@s.whatsapp.net`` and ``08...`` digits) itself and calls wa_jid only for the rest; the
  content check uses a regular expression only when the first character is not plain text.
* The per-recipient order index compares recipients bytewise (COLLATE "C"): a JID has no
  linguistic order, and the claim's FIFO probe descends this index once per candidate row,
  where locale-aware comparisons were a tenth of the claim's server time.
* wa_default_session(), the session_name default, is PL/pgSQL now. As a SQL function with a
  sub-select it could not be inlined, so every INSERT statement parsed and planned it again:
  about 20 us of a 55 us single-row INSERT.
* wa_jid accepted ``+33612345678`` but refused its own canonical form
  ``33612345678@s.whatsapp.net``: a WhatsApp JID always carries the country code, so a JID
  whose number does not start with 0, 8 or 62 is now read as an international number.

Revision ID: 0006_outbox_write_path
Revises: 0005_gateway
Create Date: 2026-11-23
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

revision = "0006_outbox_write_path"
down_revision = "0005_gateway"
branch_labels = None
depends_on = None

UPGRADE = r"""
-- The session a row goes to when the writer did not name one (see 0002). PL/pgSQL keeps its
-- plan for the connection; the SQL version was parsed and planned once per INSERT statement.
CREATE OR REPLACE FUNCTION wa_default_session() RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_name text;
BEGIN
    SELECT name INTO found_name FROM wa_session WHERE is_default;
    RETURN coalesce(found_name, 'main');
END
$$;

CREATE OR REPLACE FUNCTION wa_jid(raw text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    v      text := lower(btrim(raw));
    is_jid boolean;
    intl   boolean;
BEGIN
    -- String functions only, and few statements: PostgreSQL's regex engine would cost
    -- microseconds per row here.
    IF right(v, 5) = '@g.us' THEN
        v := left(v, -5);
        RETURN CASE WHEN translate(v, '0123456789-', '') = '' AND split_part(v, '-', 3) = ''
                         AND length(split_part(v, '-', 1)) BETWEEN 10 AND 22
                         AND (strpos(v, '-') = 0 OR length(split_part(v, '-', 2)) BETWEEN 6 AND 15)
                    THEN v || '@g.us' END;
    END IF;
    is_jid := right(v, 5) = '@c.us' OR right(v, 15) = '@s.whatsapp.net';
    v := translate(CASE WHEN right(v, 5) = '@c.us' THEN left(v, -5)
                        WHEN is_jid THEN left(v, -15)
                        ELSE v END, E' ().-\t\n\r', '');
    intl := left(v, 1) = '+' OR left(v, 2) = '00';
    v := CASE WHEN left(v, 1) = '+' THEN substr(v, 2) WHEN intl THEN substr(v, 3) ELSE v END;
    IF v = '' OR translate(v, '0123456789', '') <> '' THEN
        RETURN NULL;
    ELSIF left(v, 2) <> '62' AND (intl OR (is_jid AND left(v, 1) NOT IN ('0', '8'))) THEN
        -- a foreign number: written with + or 00, or a JID (which carries its country code)
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

CREATE OR REPLACE FUNCTION wa_recipient_problem(raw text) RETURNS text
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
    ELSIF v ~ '^(\+|00)' OR local IS NOT NULL THEN
        RETURN format('recipient %L is not a valid international number', raw);
    END IF;
    RETURN format('recipient %L: an Indonesian number starts with 0, 8 or 62; '
                  'write a foreign number with a leading +', raw);
END
$$;

CREATE FUNCTION wa_outbox_before_insert() RETURNS trigger
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
        IF NEW.content IS NULL OR NEW.content !~ '[^[:space:]]' THEN
            RAISE EXCEPTION 'wa_outbox rejected: content is empty: a message needs text '
                            '(a document needs its caption)'
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

-- One NOTIFY per statement, as before. PERFORM ran "SELECT pg_notify(...)" through SPI, a
-- query per INSERT statement; an expression is evaluated directly.
CREATE OR REPLACE FUNCTION wa_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_notify('wa_outbox', '') IS NULL THEN  -- never true: pg_notify returns void
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER wa_outbox_before_write ON wa_outbox;
DROP FUNCTION wa_outbox_before_write();
CREATE TRIGGER wa_outbox_before_insert BEFORE INSERT ON wa_outbox
    FOR EACH ROW EXECUTE FUNCTION wa_outbox_before_insert();

-- Per-recipient order: the claim's probe writes older.recipient COLLATE "C" = o.recipient.
DROP INDEX wa_outbox_recipient_open_idx;
CREATE INDEX wa_outbox_recipient_open_idx ON wa_outbox (session_name, recipient COLLATE "C", id)
    WHERE is_open;

-- Statement level: costs nothing per row, and claims and settles never name these columns.
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
"""


def _outbox_core_functions(*names: str) -> list[str]:
    """The definitions revision 0002 gave these functions, to put back on downgrade."""
    path = Path(__file__).with_name("0002_outbox_core.py")
    spec = importlib.util.spec_from_file_location("_revision_0002_outbox_core", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.UPGRADE
    definitions = []
    for name in names:
        start = text.index(f"CREATE FUNCTION {name}(")
        end = text.index("\n$$;", start) + len("\n$$;")
        definitions.append("CREATE OR REPLACE" + text[start + len("CREATE"):end])
    return definitions


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TRIGGER wa_outbox_refuse_edit ON wa_outbox;\n"
               "DROP FUNCTION wa_outbox_refuse_edit();\n"
               "DROP TRIGGER wa_outbox_before_insert ON wa_outbox;\n"
               "DROP FUNCTION wa_outbox_before_insert();")
    op.execute("DROP INDEX wa_outbox_recipient_open_idx;\n"
               "CREATE INDEX wa_outbox_recipient_open_idx ON wa_outbox "
               "(session_name, recipient, id) WHERE is_open;")
    for definition in _outbox_core_functions("wa_default_session", "wa_jid",
                                             "wa_recipient_problem", "wa_outbox_before_write",
                                             "wa_outbox_notify"):
        op.execute(definition)
    op.execute("CREATE TRIGGER wa_outbox_before_write\n"
               "    BEFORE INSERT OR UPDATE OF recipient, content, type, attachment, "
               "attachment_name\n"
               "    ON wa_outbox FOR EACH ROW EXECUTE FUNCTION wa_outbox_before_write();")
