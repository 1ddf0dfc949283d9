-- Business-hours SLA arithmetic. plpgsql with a tagged dollar quote, because the body itself
-- builds SQL with $$ in it.

CREATE OR REPLACE FUNCTION app.sla_due_at(p_ticket_id bigint, p_kind text DEFAULT 'resolve')
RETURNS timestamptz
LANGUAGE plpgsql STABLE
AS $fn$
DECLARE
    v_ticket  app.ticket%ROWTYPE;
    v_within  interval;
BEGIN
    SELECT * INTO STRICT v_ticket FROM app.ticket WHERE id = p_ticket_id;

    EXECUTE format($q$SELECT %I FROM app.sla_policy WHERE tenant_id = $1 AND priority = $2$q$,
                   CASE p_kind WHEN 'first_reply' THEN 'first_reply_within' ELSE 'resolve_within' END)
       INTO v_within
      USING v_ticket.tenant_id, v_ticket.priority;

    IF v_within IS NULL THEN
        RAISE EXCEPTION 'no SLA policy for tenant %; priority %', v_ticket.tenant_id, v_ticket.priority
            USING HINT = 'Insert a row into app.sla_policy; see the admin guide, section "SLA".';
    END IF;

    RETURN v_ticket.created_at + v_within;
EXCEPTION
    WHEN no_data_found THEN
        RETURN NULL;  -- unknown ticket: nothing is due
END;
$fn$;

CREATE FUNCTION app.describe_sla(p_ticket_id bigint) RETURNS text
LANGUAGE plpgsql STABLE
AS $body$
BEGIN
    -- The text below holds $$ on purpose: it documents how to call this from psql.
    RETURN 'due ' || coalesce(app.sla_due_at(p_ticket_id)::text, 'never')
        || ' (SELECT app.describe_sla(42); or DO $$ ... $$;)';
END
$body$;
