-- Called by the nightly job: CALL app.close_stale_tickets(30);
CREATE PROCEDURE app.close_stale_tickets(p_days integer)
LANGUAGE sql
BEGIN ATOMIC
    INSERT INTO app.ticket_comment (ticket_id, author_id, body, is_public)
    SELECT id, requester_id, 'Closed automatically after ' || p_days || ' days without reply; reply to reopen.', true
      FROM app.ticket
     WHERE status = 'solved' AND solved_at < now() - make_interval(days => p_days);
    UPDATE app.ticket
       SET status = CASE WHEN status = 'solved' THEN 'closed'::app.ticket_status ELSE status END
     WHERE status = 'solved' AND solved_at < now() - make_interval(days => p_days);
END;

CREATE OR REPLACE PROCEDURE app.assign_ticket(p_ticket_id bigint, p_agent_id bigint)
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE app.ticket SET assignee_id = p_agent_id, status = 'open' WHERE id = p_ticket_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ticket % not found', p_ticket_id;
    END IF;
END
$$;
