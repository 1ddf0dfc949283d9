-- 'critical' was added in V20210302_1416; weigh it above 'urgent'.
CREATE OR REPLACE FUNCTION app.priority_weight(p_priority app.ticket_priority) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE p_priority
               WHEN 'critical' THEN 500
               WHEN 'urgent'   THEN 100
               WHEN 'high'     THEN 50
               WHEN 'normal'   THEN 10
               ELSE 1
           END;
END;
