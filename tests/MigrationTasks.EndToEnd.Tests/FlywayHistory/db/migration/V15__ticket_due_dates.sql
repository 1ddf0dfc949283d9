-- Big table in production: don't wait forever for the lock.
SET lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

ALTER TABLE app.ticket ADD COLUMN due_at timestamptz;

-- Backfill in a DO block with a transaction-local search_path; only the statements inside use it.
DO $backfill$
BEGIN
    PERFORM set_config('search_path', 'app, public', true);
    UPDATE ticket SET due_at = sla_due_at(id) WHERE due_at IS NULL AND status NOT IN ('solved', 'closed');
    CREATE TABLE IF NOT EXISTS ticket_due_backfill_log (ticket_id bigint PRIMARY KEY, done_at timestamptz DEFAULT now());
END
$backfill$;

CREATE INDEX ticket_due_at_idx ON app.ticket (due_at) WHERE due_at IS NOT NULL;
