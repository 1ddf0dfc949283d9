-- Guards sales.OrderTotal, the amount OrderSummary and GetCustomerOrders show: the sum of quantity × unit price of
-- the order's lines at the prices they were sold at, and 0 (not NULL) for an order without lines.
-- A test runs in a transaction that is rolled back: the rows it adds never stay. It passes when its last query
-- returns no rows; each row is an order whose total is wrong.
DECLARE @CustomerId int, @ProductId int, @WithLines int, @Empty int;

INSERT INTO sales.Product (Sku, Name, UnitPrice) VALUES ('TEST-TOTAL', N'Test product', 12.90);
SET @ProductId = SCOPE_IDENTITY();
INSERT INTO sales.Customer (Email, Name) VALUES (N'order.total@test.example', N'Order Total');
SET @CustomerId = SCOPE_IDENTITY();

INSERT INTO sales.CustomerOrder (CustomerId) VALUES (@CustomerId);
SET @WithLines = SCOPE_IDENTITY();
INSERT INTO sales.CustomerOrder (CustomerId) VALUES (@CustomerId);
SET @Empty = SCOPE_IDENTITY();

-- The second line was sold below today's price: the total must use the line's price, not the product's.
INSERT INTO sales.OrderLine (OrderId, LineNumber, ProductId, Quantity, UnitPrice)
VALUES (@WithLines, 1, @ProductId, 3, 12.90),
       (@WithLines, 2, @ProductId, 1, 0.10);

SELECT expected.OrderId, expected.Total AS ExpectedTotal, sales.OrderTotal(expected.OrderId) AS Total
FROM (VALUES (@WithLines, CAST(38.80 AS decimal(12, 2))),
             (@Empty, CAST(0 AS decimal(12, 2)))) AS expected (OrderId, Total)
WHERE sales.OrderTotal(expected.OrderId) IS NULL
   OR sales.OrderTotal(expected.OrderId) <> expected.Total;
