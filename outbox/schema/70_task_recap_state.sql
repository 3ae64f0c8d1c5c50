-- The task recap's memory ("Daftar Tugas", producer job task_delivery_recap): per Jakarta day,
-- client and group, the task list last enqueued to that group. Written in the transaction that
-- enqueues the list; read at the next slots to tell whether the list changed since.

-- ---------------------------------------------------------------- task recap state
CREATE TABLE task_recap_state (
    task_date      date NOT NULL,
    client_id      text NOT NULL,
    recipient      text NOT NULL,
    task_list_hash text NOT NULL,
    content_hash   text NOT NULL,
    enqueued_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT task_recap_state_pkey PRIMARY KEY (task_date, client_id, recipient)
);
COMMENT ON TABLE task_recap_state IS
    'The Daftar Tugas last enqueued per (Jakarta day, client, group): written with the message, read to tell a changed task list.';
COMMENT ON COLUMN task_recap_state.task_list_hash IS
    'task_delivery_recap_at().task_list_hash of that message: changes only when the list of posts changes.';
COMMENT ON COLUMN task_recap_state.content_hash IS
    'task_delivery_recap_at().content_hash of that message; its dedupe key is task_delivery_recap:<task_date>:<client_id>:<recipient>:<task_list_hash>:<content_hash>.';
COMMENT ON COLUMN task_recap_state.enqueued_at IS
    'When that message was enqueued (its wa_outbox.created_at).';
