INSERT INTO customer (email, name) VALUES
    ('ada@example.com', 'Ada Lovelace'),
    ('grace@example.com', 'Grace Hopper');

INSERT INTO product (sku, title, price) VALUES
    ('BK-001', 'Notes on the Analytical Engine', 12.50),
    ('BK-002', 'A Manual of Operation; for the Automatic Sequence Controlled Calculator', 30.00);

INSERT INTO shop_order (customer_id, status)
SELECT id, 'paid' FROM customer WHERE email = 'ada@example.com';

INSERT INTO order_line (order_id, product_id, quantity, unit_price)
SELECT o.id, p.id, 2, p.price
FROM shop_order o CROSS JOIN product p
WHERE p.sku = 'BK-001';
