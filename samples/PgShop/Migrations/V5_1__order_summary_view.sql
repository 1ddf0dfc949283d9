CREATE VIEW order_summary AS
SELECT o.id AS order_id, c.email, o.status, order_total(o.id) AS total
FROM shop_order o
JOIN customer c ON c.id = o.customer_id;
