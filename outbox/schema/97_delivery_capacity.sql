-- Delivering a day's messages in time within WhatsApp's safe limits (issue 13): priorities by
-- message type, superseded and expired messages, and a pool of numbers (gateway sessions)
-- serving one set of recipients. The columns of wa_outbox and wa_message_type and the INSERT
-- trigger that reads them are in 20_outbox.sql; docs/concepts/delivery.md explains the rules.

-- ---------------------------------------------------------------- priorities
-- What each type means to its readers, higher first (within a recipient the order stays the
-- insertion order). A row inserted without a priority takes its type's; a new type gets 10.
--   30  answers and alerts: a person is waiting for them
--   20  same-day recaps and status messages ("today so far"): stale by the evening
--   10  the 07:00 recaps (yesterday, the week, the month) and ad-hoc messages
--    0  task lists: hourly, each replaces the last (collapse_key)
UPDATE wa_message_type SET priority = CASE
        WHEN type IN ('complaint_response', 'complaint_forward', 'admin_alert') THEN 30
        WHEN type IN ('progress_report', 'bidhumas_progress_report', 'ditbinmas_progress_report',
                      'task_change', 'personal_reminder') THEN 20
        WHEN type = 'task_delivery_recap' THEN 0
        ELSE 10
    END,
    collapsible = type NOT IN ('complaint_response', 'complaint_forward');

-- ---------------------------------------------------------------- superseded messages
-- A newer row with the same collapse key, recipient and session replaces the older ones still
-- pending. Only 'pending' rows: a claim holds its rows FOR UPDATE, so a row being claimed is
-- waited for and then skipped as 'sending' (never both sent and superseded). SECURITY DEFINER:
-- an external writer (wa_writer) may insert but not update.
CREATE INDEX wa_outbox_collapse_idx ON wa_outbox (collapse_key, recipient COLLATE "C")
    WHERE is_open AND collapse_key IS NOT NULL;

CREATE FUNCTION wa_outbox_supersede() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE wa_outbox AS o
       SET status = 'superseded', superseded_by = NEW.id, finished_at = now(),
           last_error = format('superseded by #%s', NEW.id)
     WHERE o.is_open AND o.status = 'pending'
       AND o.collapse_key = NEW.collapse_key
       AND o.recipient COLLATE "C" = NEW.recipient
       AND o.session_name = NEW.session_name
       AND o.id < NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER wa_outbox_supersede AFTER INSERT ON wa_outbox
    FOR EACH ROW WHEN (NEW.collapse_key IS NOT NULL AND NEW.status = 'pending')
    EXECUTE FUNCTION wa_outbox_supersede();

-- ---------------------------------------------------------------- a pool of numbers
-- Sessions that share a pool name serve one set of recipients. Each recipient is sticky to one
-- session (wa_recipient_session), so its messages keep their order and its chat one sender; a
-- group goes only to a session whose number is in it (wa_group_member, recorded by the
-- gateway). The gateway writes its pool and pacing here when it registers.
ALTER TABLE wa_session
    ADD COLUMN pool            text CONSTRAINT wa_session_pool_valid
                               CHECK (pool ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    ADD COLUMN max_per_hour    integer,
    ADD COLUMN max_per_day     integer,
    ADD COLUMN gap_min_s       real,
    ADD COLUMN gap_max_s       real,
    ADD COLUMN recipient_gap_s real,
    ADD COLUMN pacing          boolean,
    ADD COLUMN groups_seen_at  timestamptz,
    ADD COLUMN reserve_per_hour integer,
    ADD COLUMN reserve_per_day  integer,
    ADD COLUMN coalesce_texts   boolean;
COMMENT ON COLUMN wa_session.pool IS
    'Sessions with the same pool serve one set of recipients (NULL: the session is alone).';
COMMENT ON COLUMN wa_session.max_per_day IS
    'The pacing the session''s gateway runs with (max_per_hour, max_per_day, gaps, pacing), '
    'written when it registers: python -m outbox capacity and the pool''s routing read them.';
COMMENT ON COLUMN wa_session.reserve_per_hour IS
    'The last sends of the hourly and daily budgets (reserve_per_hour, reserve_per_day) the '
    'session''s gateway keeps for rows of priority 30 and above (answers, forwards, alerts); '
    'written when it registers, with coalesce_texts (WA_COALESCE_TEXTS). NULL: not recorded.';
COMMENT ON COLUMN wa_session.groups_seen_at IS
    'When the gateway last recorded the groups its number is in (wa_group_member); NULL: unknown.';

CREATE TABLE wa_group_member (
    session_name text NOT NULL REFERENCES wa_session (name) ON DELETE CASCADE,
    group_jid    text NOT NULL,
    seen_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_name, group_jid)
);
COMMENT ON TABLE wa_group_member IS
    'The WhatsApp groups each session''s number is a member of, recorded by its gateway on '
    'connect and on group events.';

CREATE TABLE wa_recipient_session (
    pool         text NOT NULL,
    recipient    text NOT NULL,
    session_name text NOT NULL,
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pool, recipient)
);
COMMENT ON TABLE wa_recipient_session IS
    'Which session of a pool serves a recipient: chosen on the first message, kept across '
    'restarts, moved only when that session cannot serve it (logged out, banned, paused, left '
    'the group).';

-- Can the session take new work: not logged out, not banned, not paused.
CREATE FUNCTION wa_session_available(p_session text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT s.state NOT IN ('logged_out', 'banned')
                            AND (s.paused_until IS NULL OR s.paused_until <= now())
                       FROM wa_session AS s WHERE s.name = p_session), false)
$$;

-- The pool session that should serve a recipient now, other than p_exclude: an available one
-- (for a group: a member, and a session whose groups are not known yet only when no known
-- member is available), served by a running gateway (not offline, a heartbeat in the last 5
-- minutes) rather than not, and of those the one with the most daily budget left
-- (max_per_day, default 400, minus its sends in the last 24 hours and its open rows). When none is available: for a
-- group, any member even if unavailable (the rows wait for it), or the problem when the pool
-- has no member at all; for a person, NULL (the caller keeps the current session).
CREATE FUNCTION wa_pool_pick(p_pool text, p_recipient text, p_exclude text,
                             OUT session_name text, OUT problem text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    is_group boolean := right(p_recipient, 5) = '@g.us';
BEGIN
    SELECT s.name INTO session_name
      FROM wa_session AS s
     WHERE s.pool = p_pool AND s.name IS DISTINCT FROM p_exclude
       AND s.state NOT IN ('logged_out', 'banned')
       AND (s.paused_until IS NULL OR s.paused_until <= now())
       AND (NOT is_group OR s.groups_seen_at IS NULL
            OR EXISTS (SELECT 1 FROM wa_group_member AS g
                        WHERE g.session_name = s.name AND g.group_jid = p_recipient))
     ORDER BY (is_group AND s.groups_seen_at IS NULL),
              (s.state = 'offline' OR s.heartbeat_at IS NULL
               OR s.heartbeat_at < now() - interval '5 minutes'),
              coalesce(s.max_per_day, 400)
              - (SELECT count(*) FROM wa_send_log AS l
                  WHERE l.session_name = s.name AND l.sent_at > now() - interval '24 hours')
              - (SELECT count(*) FROM wa_outbox AS o
                  WHERE o.is_open AND o.session_name = s.name) DESC,
              s.name
     LIMIT 1;
    IF session_name IS NOT NULL OR NOT is_group THEN
        RETURN;
    END IF;
    SELECT s.name INTO session_name
      FROM wa_session AS s
     WHERE s.pool = p_pool AND s.name IS DISTINCT FROM p_exclude
       AND s.state <> 'banned'
       AND (s.groups_seen_at IS NULL
            OR EXISTS (SELECT 1 FROM wa_group_member AS g
                        WHERE g.session_name = s.name AND g.group_jid = p_recipient))
     ORDER BY s.groups_seen_at IS NULL, s.name
     LIMIT 1;
    IF session_name IS NULL THEN
        problem := format('no session in pool %s is a member of group %s', p_pool, p_recipient);
    END IF;
END
$$;

-- The INSERT trigger's routing for a row addressed to p_session (which has a pool): the
-- recipient's sticky session while it can serve them, else a new pick, recorded. Two writers
-- racing for a new recipient agree: the first assignment committed wins. SECURITY DEFINER: an
-- external writer may insert messages, not assignments.
CREATE FUNCTION wa_pool_route(p_session text, p_recipient text,
                              OUT session_name text, OUT problem text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    v_pool text;
    sticky text;
    picked text;
BEGIN
    SELECT s.pool INTO v_pool FROM wa_session AS s WHERE s.name = p_session;
    session_name := p_session;
    IF v_pool IS NULL THEN
        RETURN;
    END IF;
    SELECT a.session_name INTO sticky
      FROM wa_recipient_session AS a WHERE a.pool = v_pool AND a.recipient = p_recipient;
    IF sticky IS NOT NULL AND wa_session_available(sticky)
       AND (right(p_recipient, 5) <> '@g.us'
            OR (SELECT s.groups_seen_at IS NULL FROM wa_session AS s WHERE s.name = sticky)
            OR EXISTS (SELECT 1 FROM wa_group_member AS g
                        WHERE g.session_name = sticky AND g.group_jid = p_recipient)) THEN
        session_name := sticky;
        RETURN;
    END IF;
    SELECT p.session_name, p.problem INTO picked, problem
      FROM wa_pool_pick(v_pool, p_recipient, NULL) AS p;
    IF problem IS NOT NULL THEN
        RETURN;
    END IF;
    picked := coalesce(picked, sticky, p_session);
    IF sticky IS NULL THEN
        INSERT INTO wa_recipient_session AS a (pool, recipient, session_name)
        VALUES (v_pool, p_recipient, picked)
        ON CONFLICT (pool, recipient) DO NOTHING;
    ELSIF picked <> sticky THEN
        UPDATE wa_recipient_session AS a
           SET session_name = picked, assigned_at = now()
         WHERE a.pool = v_pool AND a.recipient = p_recipient AND a.session_name = sticky;
    END IF;
    SELECT a.session_name INTO session_name
      FROM wa_recipient_session AS a WHERE a.pool = v_pool AND a.recipient = p_recipient;
    session_name := coalesce(session_name, picked);
END
$$;

-- A session that cannot send (logged out, banned, paused, or no gateway serves it) hands its
-- pending rows to the other sessions of its pool, one recipient at a time (the recipient's
-- assignment moves with them). A recipient with a row in flight on the session waits for the
-- next call, so its order holds; 'sending' rows are never touched. Group rows go only to a
-- member; when the pool has no other member they fail with the reason if the session is logged
-- out or banned, and wait if it is only paused. Called by the gateways of the pool.
CREATE FUNCTION wa_pool_hand_over(p_session text, p_why text)
RETURNS TABLE (moved integer, failed integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    v_pool text;
    v_gone boolean;
    r record;
    target text;
    v_problem text;
    n integer;
BEGIN
    moved := 0;
    failed := 0;
    SELECT s.pool, s.state IN ('logged_out', 'banned') INTO v_pool, v_gone
      FROM wa_session AS s WHERE s.name = p_session;
    IF v_pool IS NULL THEN
        RETURN NEXT;
        RETURN;
    END IF;
    FOR r IN SELECT DISTINCT o.recipient
               FROM wa_outbox AS o
              WHERE o.is_open AND o.status = 'pending' AND o.session_name = p_session
                AND NOT EXISTS (SELECT 1 FROM wa_outbox AS f
                                 WHERE f.is_open AND f.status = 'sending'
                                   AND f.session_name = p_session
                                   AND f.recipient COLLATE "C" = o.recipient)
    LOOP
        SELECT p.session_name, p.problem INTO target, v_problem
          FROM wa_pool_pick(v_pool, r.recipient, p_session) AS p;
        IF target IS NOT NULL AND wa_session_available(target) THEN
            UPDATE wa_outbox AS o SET session_name = target
             WHERE o.is_open AND o.status = 'pending' AND o.session_name = p_session
               AND o.recipient COLLATE "C" = r.recipient;
            GET DIAGNOSTICS n = ROW_COUNT;
            moved := moved + n;
            INSERT INTO wa_recipient_session AS a (pool, recipient, session_name)
            VALUES (v_pool, r.recipient, target)
            ON CONFLICT (pool, recipient)
            DO UPDATE SET session_name = EXCLUDED.session_name, assigned_at = now();
        ELSIF v_problem IS NOT NULL AND v_gone THEN
            UPDATE wa_outbox AS o
               SET status = 'failed', finished_at = now(),
                   last_error = v_problem || ' (' || p_why || ')'
             WHERE o.is_open AND o.status = 'pending' AND o.session_name = p_session
               AND o.recipient COLLATE "C" = r.recipient;
            GET DIAGNOSTICS n = ROW_COUNT;
            failed := failed + n;
        END IF;
    END LOOP;
    RETURN NEXT;
END
$$;
