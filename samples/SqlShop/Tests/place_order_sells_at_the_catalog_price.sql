-- Guards sales.PlaceOrder: one call records one order, 'placed', for the customer, with one line at the price the
-- active catalog (sales.ActiveCatalog) shows, and OrderSummary reports it with its total. The procedure's own
-- BEGIN/COMMIT nest inside the test's transaction, which is rolled back: nothing it adds stays.
DECLARE @CustomerId int, @OrderId int;

INSERT INTO sales.Product (Sku, Name, UnitPrice) VALUES ('TEST-PLACE', N'Test product', 7.25);
INSERT INTO sales.Customer (Email, Name) VALUES (N'place.order@test.example', N'Place Order');
SET @CustomerId = SCOPE_IDENTITY();

EXEC sales.PlaceOrder @CustomerId = @CustomerId, @Sku = 'TEST-PLACE', @Quantity = 4, @OrderId = @OrderId OUTPUT;

SELECT placed.OrderId, summary.Status, summary.Email, summary.Total
FROM (VALUES (@OrderId)) AS placed (OrderId)
    LEFT JOIN sales.OrderSummary AS summary ON summary.OrderId = placed.OrderId
WHERE summary.OrderId IS NULL
   OR summary.Status <> 'placed'
   OR summary.CustomerId <> @CustomerId
   OR summary.Email <> N'place.order@test.example'
   OR summary.Total <> 29.00
   OR (SELECT COUNT(*)
       FROM sales.OrderLine AS line
           INNER JOIN sales.ActiveCatalog AS product ON product.ProductId = line.ProductId
       WHERE line.OrderId = placed.OrderId
         AND product.Sku = 'TEST-PLACE'
         AND line.Quantity = 4
         AND line.UnitPrice = product.UnitPrice) <> 1
   OR (SELECT COUNT(*) FROM sales.OrderLine AS line WHERE line.OrderId = placed.OrderId) <> 1;
