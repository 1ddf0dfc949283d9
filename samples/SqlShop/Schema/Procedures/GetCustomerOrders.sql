CREATE PROCEDURE sales.GetCustomerOrders
    @Email nvarchar(320)
AS
BEGIN
    SET NOCOUNT ON;

    SELECT s.OrderId, s.PlacedAt, s.Status, s.Total
    FROM sales.OrderSummary AS s
    WHERE s.Email = @Email
    ORDER BY s.PlacedAt DESC;
END;
