ALTER TABLE app.tenant
    ADD COLUMN settings jsonb NOT NULL DEFAULT '{"locale": "en", "business_hours": {"start": "09:00", "end": "17:00"}}'::jsonb;

ALTER TABLE app.tenant ADD CONSTRAINT tenant_settings_is_object CHECK (jsonb_typeof(settings) = 'object');

-- Look-ups by a key's presence ("?") and containment ("@>") use this index.
CREATE INDEX tenant_settings_idx ON app.tenant USING gin (settings jsonb_path_ops);

CREATE FUNCTION app.tenant_locale(p_tenant uuid) RETURNS text
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce(settings ->> 'locale', 'en') FROM app.tenant WHERE id = p_tenant;
END;
