-- Agents and customers log in with their e-mail address; it is unique per tenant, not globally.
SET search_path = app, public;

CREATE TABLE user_account (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    account_id  bigint REFERENCES account (id) ON DELETE SET NULL,
    email       citext NOT NULL,
    full_name   text NOT NULL,
    kind        text NOT NULL DEFAULT 'customer' CHECK (kind IN ('agent', 'customer', 'admin')),
    password_hash text,            -- bcrypt via pgcrypto's crypt(); NULL = SSO only
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_account_email_per_tenant UNIQUE (tenant_id, email)
);

CREATE TRIGGER user_account_set_updated_at
    BEFORE UPDATE ON user_account
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

/* The support team asked for a quick lookup by name; a prefix search is enough for now;
   full text search comes later. */
CREATE INDEX user_account_full_name_idx ON user_account (lower(full_name) text_pattern_ops);
