-- New values cannot be used in the transaction that adds them (PostgreSQL 12+),
-- so the constraint using 'on_hold' is in V7_1.
ALTER TYPE app.ticket_status ADD VALUE IF NOT EXISTS 'on_hold' AFTER 'pending';
ALTER TYPE app.ticket_channel ADD VALUE 'api';
