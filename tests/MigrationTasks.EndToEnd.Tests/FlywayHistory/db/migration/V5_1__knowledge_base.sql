-- Knowledge base articles, owned by helpdesk_owner like every table since V5.
-- (No RESET ROLE at the end: Flyway starts each migration on a clean connection state.)
SET ROLE helpdesk_owner;

CREATE TABLE app.kb_article (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES app.tenant (id) ON DELETE CASCADE,
    slug        text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL DEFAULT '',
    published   boolean NOT NULL DEFAULT false,
    search      tsvector GENERATED ALWAYS AS (
                    setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
                    setweight(to_tsvector('english', coalesce(body, '')), 'B')
                ) STORED,
    UNIQUE (tenant_id, slug)
);

CREATE INDEX kb_article_search_idx ON app.kb_article USING gin (search);
