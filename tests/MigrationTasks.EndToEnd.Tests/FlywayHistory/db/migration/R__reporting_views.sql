-- Repeatable: the reporting views, rebuilt from scratch whenever this file changes.
SET search_path = reporting, app, public;

CREATE OR REPLACE VIEW sla_overview AS
SELECT p.tenant_id,
       p.priority,
       extract(epoch FROM p.first_reply_within) / 3600 AS first_reply_hours,
       extract(epoch FROM p.resolve_within) / 3600 AS resolve_hours,
       (SELECT count(*) FROM sla_breach b WHERE b.tenant_id = p.tenant_id AND b.priority = p.priority) AS breaches
  FROM sla_policy p;

CREATE OR REPLACE VIEW open_tickets AS
SELECT t.id,
       ticket_reference(t.id) AS reference,
       t.tenant_id,
       t.subject,
       t.status,
       t.priority,
       priority_weight(t.priority) AS weight,
       t.due_at
  FROM ticket t
 WHERE t.status NOT IN ('solved', 'closed');

CREATE OR REPLACE VIEW csat_by_month AS
SELECT t.tenant_id,
       date_trunc('month', r.rated_at) AS month,
       round(avg(r.score), 2) AS average_score,
       count(*) AS ratings
  FROM satisfaction_rating r
  JOIN ticket t ON t.id = r.ticket_id
 GROUP BY 1, 2;
