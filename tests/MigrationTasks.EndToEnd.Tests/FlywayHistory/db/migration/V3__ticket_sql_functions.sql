-- SQL-standard function bodies (PostgreSQL 14+): parsed at creation time, so dependencies are tracked
-- and a renamed column breaks the migration instead of production.

CREATE FUNCTION app.ticket_reference(p_ticket_id bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT 'HD-' || lpad(p_ticket_id::text, 7, '0');
END;

CREATE FUNCTION app.priority_weight(p_priority app.ticket_priority) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    -- CASE ... END inside BEGIN ATOMIC ... END: the inner END must not close the body;
    SELECT CASE p_priority
               WHEN 'urgent' THEN 100
               WHEN 'high'   THEN 50
               WHEN 'normal' THEN 10
               ELSE 1
           END;
END;

CREATE OR REPLACE FUNCTION app.reopen_ticket(p_ticket_id bigint, p_reason text)
    RETURNS app.ticket_status
    LANGUAGE sql
BEGIN ATOMIC
    UPDATE app.ticket
       SET status = 'open', solved_at = NULL
     WHERE id = p_ticket_id AND status IN ('solved', 'closed');
    INSERT INTO app.ticket_comment (ticket_id, author_id, body, is_public)
    SELECT t.id, t.requester_id, 'Reopened: ' || p_reason || '; previous status kept in the audit log', false
      FROM app.ticket t
     WHERE t.id = p_ticket_id;
    SELECT status FROM app.ticket WHERE id = p_ticket_id;
END;

CREATE FUNCTION app.open_ticket_count(p_tenant uuid) RETURNS bigint
    LANGUAGE sql STABLE
    RETURN (SELECT count(*) FROM app.ticket WHERE tenant_id = p_tenant AND status IN ('new', 'open', 'pending'));
