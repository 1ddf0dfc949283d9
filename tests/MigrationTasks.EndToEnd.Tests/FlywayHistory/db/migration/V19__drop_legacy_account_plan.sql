-- Plans moved to the billing service (BILL-88); the column and its check go.
ALTER TABLE app.account DROP CONSTRAINT IF EXISTS account_plan_check;
ALTER TABLE app.account DROP COLUMN IF EXISTS plan;

-- The SLA hours view was replaced by reporting.sla_overview (R__reporting_views.sql).
SET ROLE helpdesk_owner;
DROP VIEW IF EXISTS app.sla_policy_hours;
RESET ROLE;
