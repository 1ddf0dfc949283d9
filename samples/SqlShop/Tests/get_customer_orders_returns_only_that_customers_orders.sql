-- Guards sales.GetCustomerOrders (new in this release) and the OrderSummary view it reads: looked up by email, a
-- customer sees exactly their own orders, with their totals, and not another customer's.
-- Runs in a transaction that is rolled back. Each row is an order shown wrongly or missing.
DECLARE @Ada int, @Grace int, @ProductId int, @AdaFirst int, @AdaSecond int, @GraceOnly int;
DECLARE @Found TABLE (OrderId int NOT NULL, PlacedAt datetime2(0) NOT NULL, Status varchar(16) NOT NULL, Total decimal(12, 2) NULL);

INSERT INTO sales.Product (Sku, Name, UnitPrice) VALUES ('TEST-LOOKUP', N'Test product', 5.00);
SET @ProductId = SCOPE_IDENTITY();
INSERT INTO sales.Customer (Email, Name) VALUES (N'ada@test.example', N'Ada');
SET @Ada = SCOPE_IDENTITY();
INSERT INTO sales.Customer (Email, Name) VALUES (N'grace@test.example', N'Grace');
SET @Grace = SCOPE_IDENTITY();

INSERT INTO sales.CustomerOrder (CustomerId, Status) VALUES (@Ada, 'paid');
SET @AdaFirst = SCOPE_IDENTITY();
INSERT INTO sales.CustomerOrder (CustomerId) VALUES (@Ada);
SET @AdaSecond = SCOPE_IDENTITY();
INSERT INTO sales.CustomerOrder (CustomerId) VALUES (@Grace);
SET @GraceOnly = SCOPE_IDENTITY();
INSERT INTO sales.OrderLine (OrderId, LineNumber, ProductId, Quantity, UnitPrice)
VALUES (@AdaFirst, 1, @ProductId, 2, 5.00),
       (@GraceOnly, 1, @ProductId, 9, 5.00);

INSERT INTO @Found (OrderId, PlacedAt, Status, Total)
EXEC sales.GetCustomerOrders @Email = N'ada@test.example';

SELECT COALESCE(expected.OrderId, found.OrderId) AS OrderId,
       expected.Status AS ExpectedStatus, found.Status,
       expected.Total AS ExpectedTotal, found.Total
FROM (VALUES (@AdaFirst, 'paid', CAST(10.00 AS decimal(12, 2))),
             (@AdaSecond, 'placed', CAST(0 AS decimal(12, 2)))) AS expected (OrderId, Status, Total)
    FULL OUTER JOIN @Found AS found ON found.OrderId = expected.OrderId
WHERE expected.OrderId IS NULL
   OR found.OrderId IS NULL
   OR found.Status <> expected.Status
   OR found.Total IS NULL
   OR found.Total <> expected.Total;
