-- Roles are cluster-wide, so every environment may already have them (dev databases share one server).
-- Create them only when missing; a plain CREATE ROLE would fail on the second database of a cluster.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'helpdesk_owner') THEN
        CREATE ROLE helpdesk_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'helpdesk_app') THEN
        CREATE ROLE helpdesk_app NOLOGIN;   -- the web application; gets its login from the ops team
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'helpdesk_readonly') THEN
        CREATE ROLE helpdesk_readonly NOLOGIN;  -- BI; dashboards; support leads
    END IF;
END
$roles$;

GRANT USAGE ON SCHEMA app TO helpdesk_owner, helpdesk_app, helpdesk_readonly;
-- The owner role creates the newer tables itself (see V5__sla_policies.sql and later).
GRANT CREATE ON SCHEMA app TO helpdesk_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO helpdesk_app;
GRANT SELECT ON ALL TABLES IN SCHEMA app TO helpdesk_readonly;
