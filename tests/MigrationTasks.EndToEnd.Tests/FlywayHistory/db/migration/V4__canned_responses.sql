-- Canned responses agents insert into replies. The texts below are real ones from the old system:
-- they contain semicolons, quotes, dollar signs and comment markers; keep them verbatim.

CREATE TABLE app.canned_response (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  uuid REFERENCES app.tenant (id) ON DELETE CASCADE,   -- NULL = available to every tenant
    title      text NOT NULL,
    body       text NOT NULL,
    UNIQUE NULLS NOT DISTINCT (tenant_id, title)
);

INSERT INTO app.canned_response (tenant_id, title, body) VALUES
    (NULL, 'Greeting', 'Hello {{name}}; thanks for reaching out!'),
    (NULL, 'Password reset', 'Go to Settings -> Security; click "Reset password". It''s that simple.'),
    (NULL, 'Refund', E'We''ve issued a refund of $10.00;\nit takes 3-5 business days.'),
    (NULL, 'Escalation', $txt$Your ticket was escalated; an engineer will reply within 4h -- usually sooner.$txt$),
    (NULL, 'Closing', 'Closing this ticket /* auto */; reply to reopen it.'),
    (NULL, 'Dollar', $$Prices are in USD ($); taxes excluded;$$);

-- Escape strings with a backslash before the quote are the classic splitter trap.
INSERT INTO app.canned_response (tenant_id, title, body)
VALUES (NULL, 'Windows path', E'Delete C:\\Users\\you\\AppData\\Helpdesk\\cache\\ and restart; it''s safe.');
