-- Pre-deployment check, run on staging at publish and on production before the deploy (so against the schema
-- production has now, Baseline/production.dacpac). The new view sales.OrderSummary joins orders to customers with an
-- INNER JOIN: an order whose customer row is gone (possible where FK_CustomerOrder_Customer was disabled or is not
-- trusted) would silently vanish from the summary and from GetCustomerOrders. Each row is such an order: fix the
-- data before deploying.
SELECT o.OrderId, o.CustomerId
FROM sales.CustomerOrder AS o
WHERE NOT EXISTS (SELECT 1 FROM sales.Customer AS c WHERE c.CustomerId = o.CustomerId);
