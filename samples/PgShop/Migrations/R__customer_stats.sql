-- Repeatable: re-applied whenever this file changes.
CREATE OR REPLACE VIEW customer_stats AS
SELECT c.id AS customer_id, c.email, count(o.id) AS orders, coalesce(sum(order_total(o.id)), 0) AS spent
FROM customer c
LEFT JOIN shop_order o ON o.customer_id = c.id
GROUP BY c.id, c.email;
