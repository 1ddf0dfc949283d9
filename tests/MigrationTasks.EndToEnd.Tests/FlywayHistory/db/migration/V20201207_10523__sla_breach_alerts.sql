-- Needs app.sla_breach from V20201207_9000 (numerically earlier, though "10523" < "9000" as text).
CREATE TABLE app.sla_alert (
    ticket_id   bigint PRIMARY KEY REFERENCES app.ticket (id) ON DELETE CASCADE,
    alerted_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION app.raise_sla_alerts() RETURNS integer
    LANGUAGE sql
BEGIN ATOMIC
    WITH inserted AS (
        INSERT INTO app.sla_alert (ticket_id)
        SELECT b.ticket_id FROM app.sla_breach b
        ON CONFLICT (ticket_id) DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::integer FROM inserted;
END;
