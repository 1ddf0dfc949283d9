-- The amount of one order: what its lines cost at the prices they were sold at.
CREATE FUNCTION sales.OrderTotal (@OrderId int)
RETURNS decimal(12, 2)
WITH SCHEMABINDING
AS
BEGIN
    RETURN
    (
        SELECT COALESCE(SUM(CAST(line.Quantity AS decimal(12, 2)) * line.UnitPrice), 0)
        FROM sales.OrderLine AS line
        WHERE line.OrderId = @OrderId
    );
END;
