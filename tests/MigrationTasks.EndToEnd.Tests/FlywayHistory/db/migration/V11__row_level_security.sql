-- Tenant isolation for the application role. The app sets helpdesk.tenant_id per request:
--   SELECT set_config('helpdesk.tenant_id', '<uuid>', true);
ALTER TABLE app.ticket ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.ticket_comment ENABLE ROW LEVEL SECURITY;

CREATE POLICY ticket_tenant_isolation ON app.ticket
    TO helpdesk_app
    USING (tenant_id = current_setting('helpdesk.tenant_id', true)::uuid)
    WITH CHECK (tenant_id = current_setting('helpdesk.tenant_id', true)::uuid);

CREATE POLICY ticket_comment_tenant_isolation ON app.ticket_comment
    TO helpdesk_app
    USING (EXISTS (SELECT 1 FROM app.ticket t WHERE t.id = ticket_id));

-- Readonly reporting sees everything.
CREATE POLICY ticket_readonly_all ON app.ticket FOR SELECT TO helpdesk_readonly USING (true);
