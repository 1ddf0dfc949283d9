CREATE TABLE IF NOT EXISTS app.satisfaction_rating (
    ticket_id   bigint PRIMARY KEY REFERENCES app.ticket (id) ON DELETE CASCADE,
    score       smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    remark      text,
    rated_at    timestamptz NOT NULL DEFAULT now()
);

-- Some environments got this column by hand during the CSAT pilot; add it only where it is missing.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
         WHERE table_schema = 'app' AND table_name = 'ticket' AND column_name = 'satisfaction_requested_at'
    ) THEN
        EXECUTE $ddl$ALTER TABLE app.ticket ADD COLUMN satisfaction_requested_at timestamptz$ddl$;
    END IF;
END
$$;
