-- The archive is already big in production; build the look-up indexes without blocking the archiver.
CREATE INDEX CONCURRENTLY IF NOT EXISTS archive_ticket_tenant_idx ON archive.ticket (tenant_id, created_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS archive_ticket_subject_idx ON archive.ticket USING btree (lower(subject) text_pattern_ops);
