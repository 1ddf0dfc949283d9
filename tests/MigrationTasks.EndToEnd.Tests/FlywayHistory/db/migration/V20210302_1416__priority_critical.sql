ALTER TYPE app.ticket_priority ADD VALUE IF NOT EXISTS 'critical' AFTER 'urgent';
