-- Runs in a transaction that is rolled back: the data it adds never stays.
INSERT INTO shop_order (customer_id) SELECT id FROM customer WHERE email = 'grace@example.com';

SELECT id, order_total(id) AS total
FROM shop_order
WHERE status = 'open' AND order_total(id) <> 0;
