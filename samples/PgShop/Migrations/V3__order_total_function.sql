-- The total of an order; plpgsql with a dollar-quoted body (its semicolons do not end the statement).
CREATE FUNCTION order_total(p_order_id bigint) RETURNS numeric
LANGUAGE plpgsql STABLE AS $body$
DECLARE
    total numeric := 0;
BEGIN
    SELECT coalesce(sum(quantity * unit_price), 0) INTO total
    FROM order_line
    WHERE order_id = p_order_id;
    RETURN total;  -- 'zero' for an empty order; "quotes" and ; inside the body are fine
END;
$body$;

COMMENT ON FUNCTION order_total(bigint) IS 'Sum of the order''s lines; 0 when it has none.';
