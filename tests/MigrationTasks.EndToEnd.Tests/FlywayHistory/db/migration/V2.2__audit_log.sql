-- The audit log is shared by every schema, so it lives in public (no search_path games here).

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    table_name  text NOT NULL,
    row_id      text NOT NULL,
    action      char(1) NOT NULL CHECK (action IN ('I', 'U', 'D')),
    changed_by  text NOT NULL DEFAULT current_user,
    changed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    old_row     jsonb,
    new_row     jsonb
);

CREATE INDEX audit_log_table_row_idx ON audit_log (table_name, row_id);

CREATE FUNCTION audit_row_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    -- row_id is text so that uuid and bigint keys fit; tables without an id column are not audited.
    v_row_id text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        v_row_id := OLD.id::text;
        INSERT INTO public.audit_log (table_name, row_id, action, old_row)
        VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, v_row_id, 'D', to_jsonb(OLD));
        RETURN OLD;
    ELSIF TG_OP = 'UPDATE' THEN
        v_row_id := NEW.id::text;
        IF to_jsonb(OLD) = to_jsonb(NEW) THEN
            RETURN NEW;  -- nothing changed; don't log a no-op update
        END IF;
        INSERT INTO public.audit_log (table_name, row_id, action, old_row, new_row)
        VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, v_row_id, 'U', to_jsonb(OLD), to_jsonb(NEW));
    ELSE
        v_row_id := NEW.id::text;
        INSERT INTO public.audit_log (table_name, row_id, action, new_row)
        VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, v_row_id, 'I', to_jsonb(NEW));
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION audit_row_change() IS 'Generic audit trigger; attach with: CREATE TRIGGER ... EXECUTE FUNCTION audit_row_change();';

CREATE TRIGGER ticket_audit AFTER INSERT OR UPDATE OR DELETE ON app.ticket
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER user_account_audit AFTER INSERT OR UPDATE OR DELETE ON app.user_account
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();
