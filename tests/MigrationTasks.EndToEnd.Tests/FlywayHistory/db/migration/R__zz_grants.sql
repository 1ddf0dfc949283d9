-- Runs last (repeatables apply in name order): grants on everything the migrations created.
GRANT USAGE ON SCHEMA reporting TO helpdesk_readonly;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO helpdesk_readonly;
GRANT SELECT ON ALL TABLES IN SCHEMA app TO helpdesk_readonly;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO helpdesk_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA app TO helpdesk_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA app TO helpdesk_app;
GRANT EXECUTE ON PROCEDURE app.close_stale_tickets(integer) TO helpdesk_app;

-- Tables that helpdesk_owner creates later get the same grants without a migration.
ALTER DEFAULT PRIVILEGES FOR ROLE helpdesk_owner IN SCHEMA app
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO helpdesk_app;
ALTER DEFAULT PRIVILEGES FOR ROLE helpdesk_owner IN SCHEMA app
    GRANT SELECT ON TABLES TO helpdesk_readonly;
