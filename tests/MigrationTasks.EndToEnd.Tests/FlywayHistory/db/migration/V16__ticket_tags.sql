ALTER TABLE app.ticket ADD COLUMN tags text[] NOT NULL DEFAULT '{}';

-- Tags are lower case; the API normalises them but old clients did not, so: NOT VALID now,
-- VALIDATE after the cleanup below.
ALTER TABLE app.ticket ADD CONSTRAINT ticket_tags_lower
    CHECK (array_to_string(tags, ';') = lower(array_to_string(tags, ';'))) NOT VALID;

UPDATE app.ticket SET tags = (SELECT coalesce(array_agg(lower(tag) ORDER BY ord), '{}')
                                FROM unnest(tags) WITH ORDINALITY AS u(tag, ord))
 WHERE array_to_string(tags, ';') <> lower(array_to_string(tags, ';'));

ALTER TABLE app.ticket VALIDATE CONSTRAINT ticket_tags_lower;

CREATE INDEX ticket_tags_idx ON app.ticket USING gin (tags);
