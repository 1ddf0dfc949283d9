-- Repeatable: re-applied whenever this file changes. Only CREATE OR REPLACE here.

CREATE OR REPLACE FUNCTION app.ticket_age(p_ticket app.ticket) RETURNS interval
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce(p_ticket.solved_at, now()) - p_ticket.created_at;
END;

CREATE OR REPLACE FUNCTION app.search_kb(p_tenant uuid, p_query text, p_limit integer DEFAULT 10)
RETURNS TABLE (article_id bigint, title text, rank real)
LANGUAGE sql STABLE
AS $$
    SELECT a.id, a.title, ts_rank(a.search, q) AS rank
      FROM app.kb_article a, websearch_to_tsquery('english', p_query) AS q
     WHERE a.tenant_id = p_tenant
       AND a.published
       AND a.search @@ q
     ORDER BY rank DESC
     LIMIT p_limit;
$$;

CREATE OR REPLACE FUNCTION app.normalize_tags(p_tags text[]) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
AS $fn$
DECLARE
    v_result text[] := '{}';
    v_tag    text;
BEGIN
    FOREACH v_tag IN ARRAY coalesce(p_tags, '{}') LOOP
        v_tag := lower(btrim(v_tag));
        IF v_tag <> '' AND NOT v_tag = ANY (v_result) THEN
            v_result := v_result || v_tag;
        END IF;
    END LOOP;
    RETURN v_result;
END;
$fn$;
