-- Places an order of one product for an existing customer and returns its id.
CREATE PROCEDURE sales.PlaceOrder
    @CustomerId int,
    @Sku        varchar(32),
    @Quantity   int,
    @OrderId    int OUTPUT
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;

    DECLARE @ProductId int, @UnitPrice decimal(10, 2);
    SELECT @ProductId = p.ProductId, @UnitPrice = p.UnitPrice
    FROM sales.ActiveCatalog AS p
    WHERE p.Sku = @Sku;

    IF @ProductId IS NULL
    BEGIN
        SET @OrderId = NULL;
        THROW 50001, N'No active product has this SKU.', 1;
    END;

    BEGIN TRANSACTION;
    INSERT INTO sales.CustomerOrder (CustomerId) VALUES (@CustomerId);
    SET @OrderId = SCOPE_IDENTITY();
    INSERT INTO sales.OrderLine (OrderId, LineNumber, ProductId, Quantity, UnitPrice)
    VALUES (@OrderId, 1, @ProductId, @Quantity, @UnitPrice);
    COMMIT TRANSACTION;
END;
