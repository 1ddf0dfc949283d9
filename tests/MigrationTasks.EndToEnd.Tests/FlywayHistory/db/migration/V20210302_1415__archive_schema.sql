-- Closed tickets older than two years move to the archive schema, owned by helpdesk_owner.
CREATE SCHEMA IF NOT EXISTS archive AUTHORIZATION helpdesk_owner;
GRANT SELECT, DELETE, UPDATE ON app.ticket TO helpdesk_owner;
GRANT SELECT ON app.ticket_comment TO helpdesk_owner;

SET ROLE helpdesk_owner;

CREATE TABLE archive.ticket (
    id          bigint PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    subject     text NOT NULL,
    status      app.ticket_status NOT NULL,
    created_at  timestamptz NOT NULL,
    solved_at   timestamptz,
    comments    jsonb NOT NULL DEFAULT '[]',
    archived_at timestamptz NOT NULL DEFAULT now()
);

CREATE PROCEDURE archive.archive_closed_tickets(p_older_than interval DEFAULT '2 years')
LANGUAGE sql
BEGIN ATOMIC
    INSERT INTO archive.ticket (id, tenant_id, subject, status, created_at, solved_at, comments)
    SELECT t.id, t.tenant_id, t.subject, t.status, t.created_at, t.solved_at,
           coalesce((SELECT jsonb_agg(jsonb_build_object('author', c.author_id, 'body', c.body) ORDER BY c.created_at)
                       FROM app.ticket_comment c WHERE c.ticket_id = t.id), '[]'::jsonb)
      FROM app.ticket t
     WHERE t.status = 'closed'
       AND t.solved_at < now() - p_older_than
    ON CONFLICT (id) DO NOTHING;
    DELETE FROM app.ticket t
     USING archive.ticket a
     WHERE a.id = t.id;
END;
