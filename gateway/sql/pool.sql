-- The gateway's part of the pool of numbers (gateway/pool.py, docs/concepts/pool.md): what it
-- writes when it registers, the groups its number is in, the hand-over of unsent rows. The
-- routing itself is the database's (wa_pool_route, wa_pool_hand_over: migration 0012).
-- Every parameter is cast.

-- name: register_pool
-- At registration: the session's pool (NULL: alone) and the pacing its gateway runs with (the
-- configured caps, reserve and coalescing, also with pacing off; `pacing` says whether they
-- are applied).
UPDATE wa_session
   SET pool = %(pool)s::text,
       max_per_hour = %(max_per_hour)s::int,
       max_per_day = %(max_per_day)s::int,
       gap_min_s = %(gap_min_s)s::real,
       gap_max_s = %(gap_max_s)s::real,
       recipient_gap_s = %(recipient_gap_s)s::real,
       pacing = %(pacing)s::boolean,
       reserve_per_hour = %(reserve_per_hour)s::int,
       reserve_per_day = %(reserve_per_day)s::int,
       coalesce_texts = %(coalesce_texts)s::boolean
 WHERE name = %(session)s::text
RETURNING name

-- name: record_groups
-- The whole set of groups the number is in (asked on each connect): groups no longer in it are
-- deleted, the others inserted or seen again, groups_seen_at set. Fenced like set_state: only
-- while the session lock is held by %(lock_pid)s, when given. Returns (deleted, recorded); no
-- row when the fence refused it.
WITH fence AS (
    SELECT 1 AS ok
     WHERE %(lock_pid)s::int IS NULL OR EXISTS (
           SELECT 1 FROM pg_locks AS l
            WHERE l.locktype = 'advisory' AND l.granted AND l.pid = %(lock_pid)s::int
              AND l.classid = hashtext('cicero-wa-gateway')::oid
              AND l.objid = hashtext(%(session)s::text)::oid AND l.objsubid = 2)
), gone AS (
    DELETE FROM wa_group_member AS m
     WHERE m.session_name = %(session)s::text
       AND m.group_jid <> ALL (%(groups)s::text[])
       AND EXISTS (SELECT 1 FROM fence)
    RETURNING 1
), seen AS (
    INSERT INTO wa_group_member AS m (session_name, group_jid, seen_at)
    SELECT DISTINCT %(session)s::text, g.jid, now()
      FROM unnest(%(groups)s::text[]) AS g(jid), fence
    ON CONFLICT (session_name, group_jid) DO UPDATE SET seen_at = now()
    RETURNING 1
)
UPDATE wa_session
   SET groups_seen_at = now()
 WHERE name = %(session)s::text AND EXISTS (SELECT 1 FROM fence)
RETURNING (SELECT count(*) FROM gone), (SELECT count(*) FROM seen)

-- name: join_group
-- A group event: the number joined (or was added to, or created) one group. groups_seen_at is
-- not touched (one group does not make the whole set known).
INSERT INTO wa_group_member AS m (session_name, group_jid, seen_at)
SELECT %(session)s::text, %(group)s::text, now()
 WHERE EXISTS (SELECT 1 FROM wa_session WHERE name = %(session)s::text)
ON CONFLICT (session_name, group_jid) DO UPDATE SET seen_at = now()
RETURNING group_jid

-- name: leave_group
-- A group event: the number left, was removed from, or saw the deletion of one group.
DELETE FROM wa_group_member
 WHERE session_name = %(session)s::text AND group_jid = %(group)s::text
RETURNING group_jid

-- name: hand_over
-- Move the session's pending rows to the other available members of its pool (the database's
-- wa_pool_hand_over: per recipient, groups only to members; a no-op without a pool).
SELECT moved, failed FROM wa_pool_hand_over(%(session)s::text, %(why)s::text)

-- name: unavailable_peers
-- The other sessions of the pool that have open rows (pending, or sending: a dead gateway's
-- rows come back when their lease runs out) and cannot send them: logged out, banned, paused, or
-- served by no gateway (nobody holds their session lock, as in gateway.sql's unserved_sessions)
-- with a heartbeat older than %(stale)s. `since` names the episode (one admin alert per
-- episode): when the state changed, the end of the pause, the last heartbeat.
SELECT s.name,
       CASE WHEN s.state IN ('logged_out', 'banned') THEN s.state
            WHEN s.paused_until > now() THEN 'paused'
            ELSE 'unserved' END AS why,
       CASE WHEN s.state IN ('logged_out', 'banned') THEN s.state_changed_at
            WHEN s.paused_until > now() THEN s.paused_until
            ELSE s.heartbeat_at END AS since,
       s.pause_reason
  FROM wa_session AS s
 WHERE s.pool = %(pool)s::text AND s.name <> %(session)s::text
   AND EXISTS (SELECT 1 FROM wa_outbox AS o
                WHERE o.is_open AND o.status IN ('pending', 'sending')
                  AND o.session_name = s.name)
   AND (s.state IN ('logged_out', 'banned')
        OR s.paused_until > now()
        OR ((s.heartbeat_at IS NULL OR s.heartbeat_at < now() - %(stale)s::interval)
            AND NOT EXISTS (
                SELECT 1 FROM pg_locks AS l
                 WHERE l.locktype = 'advisory' AND l.granted
                   AND l.classid = hashtext('cicero-wa-gateway')::oid
                   AND l.objid = hashtext(s.name)::oid AND l.objsubid = 2)))
 ORDER BY s.name
