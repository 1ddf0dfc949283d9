-- The order summary view this release adds sums unit prices: a line without a price would show a wrong total.
SELECT order_id, product_id, unit_price
FROM order_line
WHERE unit_price <= 0;
