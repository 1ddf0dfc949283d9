-- Transactional outbox: the notifier service polls this table and listens on 'helpdesk_outbox'.
CREATE TABLE app.outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic       text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at     timestamptz
);

CREATE INDEX outbox_unsent_idx ON app.outbox (id) WHERE sent_at IS NULL;

CREATE FUNCTION app.enqueue_ticket_notification() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO app.outbox (topic, payload)
    VALUES ('ticket.' || lower(TG_OP),
            jsonb_build_object('ticket_id', NEW.id, 'status', NEW.status, 'tenant_id', NEW.tenant_id));
    PERFORM pg_notify('helpdesk_outbox', NEW.id::text);
    RETURN NEW;
END;
$$;

CREATE TRIGGER ticket_notify AFTER INSERT OR UPDATE OF status ON app.ticket
    FOR EACH ROW EXECUTE FUNCTION app.enqueue_ticket_notification();
