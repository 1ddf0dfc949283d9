CREATE VIEW sales.OrderSummary
AS
SELECT o.OrderId,
       o.PlacedAt,
       o.Status,
       c.CustomerId,
       c.Email,
       sales.OrderTotal(o.OrderId) AS Total
FROM sales.CustomerOrder AS o
    INNER JOIN sales.Customer AS c ON c.CustomerId = o.CustomerId;
