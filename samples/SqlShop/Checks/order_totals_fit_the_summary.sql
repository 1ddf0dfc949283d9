-- Pre-deployment check against production's current schema. The new view sales.OrderSummary shows each order's
-- sales.OrderTotal, which returns decimal(12, 2): one order worth more than 9,999,999,999.99 (or a negative one,
-- which a line price fixed by hand could make) would make every read of the view, and GetCustomerOrders, fail
-- with an arithmetic overflow or show a nonsense total. Each row is such an order.
SELECT line.OrderId, SUM(CAST(line.Quantity AS decimal(38, 2)) * line.UnitPrice) AS Total
FROM sales.OrderLine AS line
GROUP BY line.OrderId
HAVING SUM(CAST(line.Quantity AS decimal(38, 2)) * line.UnitPrice) > 9999999999.99
    OR SUM(CAST(line.Quantity AS decimal(38, 2)) * line.UnitPrice) < 0;
