-- helpdesk_owner's tables point at tenants, which the baseline created as the migration user.
GRANT REFERENCES ON app.tenant, app.ticket TO helpdesk_owner;

-- From now on, new tables belong to helpdesk_owner, not to the migration user.
SET ROLE helpdesk_owner;

CREATE TABLE app.sla_policy (
    id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES app.tenant (id) ON DELETE CASCADE,
    priority        app.ticket_priority NOT NULL,
    first_reply_within interval NOT NULL,
    resolve_within  interval NOT NULL,
    UNIQUE (tenant_id, priority),
    CHECK (first_reply_within <= resolve_within)
);

CREATE VIEW app.sla_policy_hours AS
SELECT tenant_id,
       priority,
       extract(epoch FROM first_reply_within) / 3600 AS first_reply_hours,
       extract(epoch FROM resolve_within) / 3600 AS resolve_hours
  FROM app.sla_policy;

RESET ROLE;
