-- Ticket events grow fast: one partition per month, created ahead of time.
CREATE TABLE app.ticket_event (
    ticket_id    bigint NOT NULL,
    occurred_at  timestamptz NOT NULL,
    kind         text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (ticket_id, occurred_at, kind)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE app.ticket_event_default PARTITION OF app.ticket_event DEFAULT;

-- 2020 partitions; later ones are made by the nightly job (fixed dates here so every environment matches).
DO $partitions$
DECLARE
    v_month date := date '2020-01-01';
    v_name  text;
BEGIN
    WHILE v_month < date '2021-01-01' LOOP
        v_name := 'ticket_event_' || to_char(v_month, 'YYYY_MM');
        EXECUTE format(
            $ddl$CREATE TABLE IF NOT EXISTS app.%I PARTITION OF app.ticket_event
                 FOR VALUES FROM (%L) TO (%L)$ddl$,
            v_name, v_month, (v_month + interval '1 month')::date);
        -- comment in the loop; with a semicolon; and a 'quote
        v_month := (v_month + interval '1 month')::date;
    END LOOP;
    RAISE NOTICE 'created % monthly partitions; done', 12;
END
$partitions$;

CREATE INDEX ticket_event_kind_idx ON app.ticket_event (kind, occurred_at);
