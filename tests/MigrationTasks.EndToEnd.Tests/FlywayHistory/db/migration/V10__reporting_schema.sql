-- Reporting lives in its own schema; readonly users get only this one.
CREATE SCHEMA reporting;

SET search_path TO reporting, app, public;

CREATE MATERIALIZED VIEW daily_ticket_stats AS
SELECT tenant_id,
       date_trunc('day', created_at)::date AS day,
       count(*) AS created,
       count(*) FILTER (WHERE status IN ('solved', 'closed')) AS solved,
       avg(priority_weight(priority))::numeric(10, 2) AS avg_weight
  FROM ticket
 GROUP BY 1, 2
WITH NO DATA;

CREATE UNIQUE INDEX daily_ticket_stats_pk ON daily_ticket_stats (tenant_id, day);

CREATE VIEW agent_workload AS
SELECT u.tenant_id, u.id AS agent_id, u.full_name,
       count(t.id) FILTER (WHERE t.status IN ('new', 'open', 'pending')) AS open_tickets
  FROM user_account u
  LEFT JOIN ticket t ON t.assignee_id = u.id
 WHERE u.kind = 'agent'
 GROUP BY u.tenant_id, u.id, u.full_name;
