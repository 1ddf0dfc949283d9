-- From here on we name migrations V<yyyymmdd>_<hhmmss>__… so that parallel branches stop colliding.
-- (Flyway compares version parts as numbers: 20201207.9000 comes before 20201207.10523.)
CREATE VIEW app.sla_breach AS
SELECT t.id AS ticket_id,
       t.tenant_id,
       t.priority,
       t.due_at,
       now() - t.due_at AS overdue_by
  FROM app.ticket t
 WHERE t.due_at < now()
   AND t.status NOT IN ('solved', 'closed');
