-- Least privilege for the WhatsApp outbox (issue 14). Run as the database owner (or a
-- superuser) after `make migrate`, and again after every migration (it is idempotent):
--
--   psql "$DATABASE_URL" -f deploy/roles.sql
--
-- It creates four group roles (NOLOGIN) and grants them what their programs need; give each
-- program its own login and make it a member:
--
--   CREATE ROLE cicero_backend LOGIN PASSWORD '...' IN ROLE wa_writer;     -- the Node services
--   CREATE ROLE wa_gw          LOGIN PASSWORD '...' IN ROLE wa_gateway;    -- python -m gateway
--   CREATE ROLE wa_prod        LOGIN PASSWORD '...' IN ROLE wa_producers;  -- python -m producers
--   CREATE ROLE wa_mon         LOGIN PASSWORD '...' IN ROLE wa_monitor;    -- dashboards, health
--
-- wa_writer     an external writer: a plain INSERT INTO wa_outbox of the documented columns
--               (recipient, content, type, session_name, dedupe_key, available_at,
--               max_attempts, attachment, attachment_name, attachment_mime, collapse_key,
--               expires_at), with
--               ON CONFLICT (dedupe_key) DO NOTHING and RETURNING id, status. It cannot set the
--               state, the lease, the attempts, the id or the priority (its rows take their
--               type's priority, wa_message_type.priority: only the gateway's alerts and the
--               producers choose another), and reads no message content.
-- wa_gateway    the gateway: claims, settles, session state, inbox, purge; the only role that
--               can read the WhatsApp session store (schema wa_store).
-- wa_producers  the producers and the operator CLI: the Cicero tables and our own, read and
--               write; not the session store.
-- wa_monitor    read-only monitoring: every table and view of ours and Cicero's; not the
--               session store.
--
-- The WhatsApp session store (neonize's whatsmeow_* tables: the account's Signal keys) lives in
-- the schema wa_store, owned by wa_gateway, which nobody else may use. Point neonize at it with
-- the gateway login's search path (neonize creates its tables in the first schema):
--
--   ALTER ROLE wa_gw SET search_path = wa_store, public;
--
-- whatsmeow_* tables an earlier version created in public are moved there by this script.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['wa_writer', 'wa_gateway', 'wa_producers', 'wa_monitor'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;

GRANT USAGE ON SCHEMA public TO wa_writer, wa_gateway, wa_producers, wa_monitor;

-- ------------------------------------------------------------------ wa_writer
GRANT INSERT (recipient, content, type, session_name, dedupe_key, available_at, max_attempts,
              attachment, attachment_name, attachment_mime) ON wa_outbox TO wa_writer;
-- RETURNING id, status and the ON CONFLICT (dedupe_key) target
GRANT SELECT (id, status, dedupe_key) ON wa_outbox TO wa_writer;
-- read by the INSERT trigger and the session_name default (wa_default_session); the pool
-- routing, the supersede and the assignments run as the functions' owner (SECURITY DEFINER)
GRANT SELECT (name, is_default) ON wa_session TO wa_writer;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
                WHERE table_name = 'wa_outbox' AND column_name = 'collapse_key') THEN
        GRANT INSERT (collapse_key, expires_at) ON wa_outbox TO wa_writer;
        GRANT SELECT (pool) ON wa_session TO wa_writer;
    END IF;
END
$$;
GRANT SELECT ON wa_outbox_limits, wa_message_type TO wa_writer;

-- ------------------------------------------------------------------ wa_gateway
GRANT SELECT ON ALL TABLES IN SCHEMA public TO wa_gateway;
GRANT INSERT, UPDATE, DELETE ON wa_outbox, wa_send_log TO wa_gateway;
GRANT INSERT, UPDATE ON wa_session, wa_inbox TO wa_gateway;
DO $$
BEGIN
    IF to_regclass('wa_outbox_error') IS NOT NULL THEN
        GRANT INSERT ON wa_outbox_error TO wa_gateway;
    END IF;
    IF to_regclass('wa_group_member') IS NOT NULL THEN  -- the pool (issue 13)
        GRANT INSERT, UPDATE, DELETE ON wa_group_member, wa_recipient_session TO wa_gateway;
    END IF;
END
$$;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO wa_gateway;

-- ------------------------------------------------------------------ wa_producers
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO wa_producers;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO wa_producers;

-- ------------------------------------------------------------------ wa_monitor
GRANT SELECT ON ALL TABLES IN SCHEMA public TO wa_monitor;

-- ------------------------------------------------------------------ the session store
CREATE SCHEMA IF NOT EXISTS wa_store AUTHORIZATION wa_gateway;
ALTER SCHEMA wa_store OWNER TO wa_gateway;
REVOKE ALL ON SCHEMA wa_store FROM PUBLIC;
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE 'whatsmeow%'
    LOOP
        EXECUTE format('ALTER TABLE public.%I SET SCHEMA wa_store', t.relname);
    END LOOP;
    FOR t IN SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
              WHERE n.nspname = 'wa_store' AND c.relkind = 'r'
    LOOP
        EXECUTE format('ALTER TABLE wa_store.%I OWNER TO wa_gateway', t.relname);
        EXECUTE format('REVOKE ALL ON wa_store.%I FROM PUBLIC, wa_writer, wa_producers, '
                       'wa_monitor', t.relname);
    END LOOP;
END
$$;
