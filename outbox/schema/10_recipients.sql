-- Recipient parsing: the one rule deciding what a WhatsApp recipient is (wa_jid), and the
-- operator-readable reason when it is not (wa_recipient_problem). Current state of our own
-- objects; migrations hold frozen copies (alembic/versions/sql/), this file is what a database
-- at head holds (tests/test_schema_drift.py compares the two).

-- wa_jid decides: it returns the canonical JID (digits@s.whatsapp.net or digits@g.us) or NULL.
-- Accepted: 08xx, 8xx, 628xx, +62 8xx-xxx (also "+62 0812"), 00<country>/+<country> numbers,
-- 628xx@c.us, 628xx@s.whatsapp.net and group ids 1203...@g.us (old style 628xx-1596...@g.us).
-- It is on the INSERT path of every row, so it is kept to a few regular expressions.
CREATE FUNCTION wa_jid(raw text) RETURNS text
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
    ELSIF v ~ '^(\+|00)' OR local IS NOT NULL THEN
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
