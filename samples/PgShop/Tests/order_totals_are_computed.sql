-- A test passes when its last query returns no rows: each row is a failure.
SELECT order_id, total
FROM order_summary
WHERE total <> (SELECT sum(quantity * unit_price) FROM order_line l WHERE l.order_id = order_summary.order_id);
