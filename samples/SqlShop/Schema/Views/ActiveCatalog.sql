CREATE VIEW sales.ActiveCatalog
AS
SELECT p.ProductId, p.Sku, p.Name, p.UnitPrice
FROM sales.Product AS p
WHERE p.IsActive = 1;
