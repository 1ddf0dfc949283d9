-- Built on a live table, so CONCURRENTLY; these cannot run inside a transaction,
-- which is why this file holds nothing else.

CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_assignee_open_idx
    ON app.ticket (assignee_id)
    WHERE status IN ('new', 'open', 'pending');

CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_requester_idx ON app.ticket (requester_id);

/* created_at DESC: the agent inbox is sorted newest first; see INBOX-231; */
CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_tenant_created_idx
    ON app.ticket (tenant_id, created_at DESC);
