CREATE FUNCTION app.merge_tickets(p_keep bigint, p_merge bigint) RETURNS integer
LANGUAGE plpgsql
AS $merge$
DECLARE
    v_moved integer;
BEGIN
    IF p_keep = p_merge THEN
        RAISE EXCEPTION 'cannot merge ticket % into itself', p_keep;
    END IF;

    UPDATE app.ticket_comment SET ticket_id = p_keep WHERE ticket_id = p_merge;
    GET DIAGNOSTICS v_moved = ROW_COUNT;

    INSERT INTO app.ticket_comment (ticket_id, author_id, body, is_public)
    SELECT p_keep, requester_id,
           format('Merged %s into this ticket; %s comment(s) moved.', app.ticket_reference(p_merge), v_moved),
           false
      FROM app.ticket WHERE id = p_merge;

    UPDATE app.ticket SET status = 'closed', solved_at = coalesce(solved_at, now()) WHERE id = p_merge;
    RAISE NOTICE 'merged %; moved % comments', p_merge, v_moved;
    RETURN v_moved;
END;
$merge$;
