ALTER TABLE app.ticket
    ADD COLUMN on_hold_reason text,
    ADD CONSTRAINT ticket_on_hold_needs_reason CHECK (status <> 'on_hold' OR on_hold_reason IS NOT NULL);

CREATE INDEX ticket_on_hold_idx ON app.ticket (tenant_id) WHERE status = 'on_hold';
