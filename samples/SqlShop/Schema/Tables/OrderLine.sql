CREATE TABLE sales.OrderLine
(
    OrderId      int            NOT NULL,
    LineNumber   smallint       NOT NULL,
    ProductId    int            NOT NULL,
    Quantity     int            NOT NULL,
    UnitPrice    decimal(10, 2) NOT NULL,
    CONSTRAINT PK_OrderLine PRIMARY KEY CLUSTERED (OrderId, LineNumber),
    CONSTRAINT FK_OrderLine_CustomerOrder FOREIGN KEY (OrderId) REFERENCES sales.CustomerOrder (OrderId) ON DELETE CASCADE,
    CONSTRAINT FK_OrderLine_Product FOREIGN KEY (ProductId) REFERENCES sales.Product (ProductId),
    CONSTRAINT CK_OrderLine_Quantity CHECK (Quantity > 0)
);
