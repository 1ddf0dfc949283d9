/*
 * Catalog comments, shown in the BI tool's data dictionary.
 * /* Nested comments are legal in PostgreSQL; this one closes before the outer one. */
 * Nothing here ends a statement: ; ; ;
 */

COMMENT ON SCHEMA app IS 'Helpdesk application data; owned by the platform team';
COMMENT ON TABLE app.ticket IS 'One row per customer request. Don''t delete tickets -- close them; the audit log keeps history.';
COMMENT ON COLUMN app.ticket.subject IS 'Subject line as the customer wrote it (max 250 characters; trimmed by the API)';
COMMENT ON COLUMN app.ticket.on_hold_reason IS E'Required when status = ''on_hold''.\nShown to agents only.';
COMMENT ON TABLE app.kb_article IS $c$Knowledge base; 'search' is generated from title and body$c$;
COMMENT ON MATERIALIZED VIEW reporting.daily_ticket_stats IS 'Refreshed nightly: REFRESH MATERIALIZED VIEW CONCURRENTLY reporting.daily_ticket_stats;';
COMMENT ON FUNCTION app.ticket_reference(bigint) IS 'HD-0000042 style reference';
COMMENT ON PROCEDURE app.close_stale_tickets(integer) IS 'Nightly; see V12';
