-- E-mail addresses: one domain type instead of a CHECK per table.
CREATE DOMAIN app.email_address AS public.citext
    CHECK (VALUE ~ '^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$');

COMMENT ON DOMAIN app.email_address IS 'An e-mail address; no spaces, commas or semicolons (we split lists on ;)';

ALTER TABLE app.user_account ALTER COLUMN email TYPE app.email_address;
