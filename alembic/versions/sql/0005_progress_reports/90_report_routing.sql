-- Same-day progress recaps: their report kinds, a route may name one slot time, and the old
-- audiences of the same-day recaps.
INSERT INTO report_routing_kind (report_kind, description) VALUES
    ('progress_report', 'Same-day recap of today up to the slot (15:20, 18:20, 20:20)'),
    ('ditbinmas_progress_report', 'Same-day recap of today up to the slot (18:10)'),
    ('bidhumas_progress_report', 'Same-day recap of today up to the slot (15:45, 20:15, 22:15)');

ALTER TABLE report_routing ADD COLUMN at_time time;
COMMENT ON COLUMN report_routing.at_time IS
    'Only the job''s slot at this Jakarta time (HH:MM); NULL: every slot of the job.';
DROP INDEX report_routing_unique;
CREATE UNIQUE INDEX report_routing_unique
    ON report_routing (report_kind, coalesce(upper(client_id), ''), coalesce(client_type, ''),
                       audience, coalesce(recipient, ''), coalesce(at_time, '24:00'));

INSERT INTO report_routing (report_kind, client_type, client_id, audience, at_time)
VALUES ('progress_report', 'org', NULL, 'group', NULL),
       ('progress_report', 'org', NULL, 'operator', NULL),
       ('progress_report', 'org', NULL, 'super', NULL),
       ('progress_report', NULL, 'DITBINMAS', 'group', '15:20'),
       ('progress_report', NULL, 'DITBINMAS', 'super', '18:20'),
       ('ditbinmas_progress_report', NULL, 'DITBINMAS', 'group', NULL),
       ('bidhumas_progress_report', NULL, 'BIDHUMAS', 'group', '15:45'),
       ('bidhumas_progress_report', NULL, 'BIDHUMAS', 'super', '15:45'),
       ('bidhumas_progress_report', NULL, 'BIDHUMAS', 'group', '20:15'),
       ('bidhumas_progress_report', NULL, 'BIDHUMAS', 'super', '20:15'),
       ('bidhumas_progress_report', NULL, 'BIDHUMAS', 'group', '22:15'),
       ('bidhumas_progress_report', NULL, 'BIDHUMAS', 'super', '22:15');

-- The same-day recaps are wa_outbox rows of their own types.
INSERT INTO wa_message_type (type, description) VALUES
    ('progress_report', 'Same-day recap of today up to the slot (producer job progress_report)'),
    ('ditbinmas_progress_report',
     'Same-day recap for the Ditbinmas group (producer job ditbinmas_progress_report)'),
    ('bidhumas_progress_report',
     'Same-day recap for BIDHUMAS (producer job bidhumas_progress_report)');
