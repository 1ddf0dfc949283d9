CREATE TABLE sales.CustomerOrder
(
    OrderId      int IDENTITY (1, 1) NOT NULL,
    CustomerId   int                 NOT NULL,
    PlacedAt     datetime2(0)        NOT NULL CONSTRAINT DF_CustomerOrder_PlacedAt DEFAULT (sysutcdatetime()),
    Status       varchar(16)         NOT NULL CONSTRAINT DF_CustomerOrder_Status DEFAULT ('placed'),
    CONSTRAINT PK_CustomerOrder PRIMARY KEY CLUSTERED (OrderId),
    CONSTRAINT FK_CustomerOrder_Customer FOREIGN KEY (CustomerId) REFERENCES sales.Customer (CustomerId),
    CONSTRAINT CK_CustomerOrder_Status CHECK (Status IN ('placed', 'paid', 'shipped', 'cancelled'))
);
GO

CREATE INDEX IX_CustomerOrder_CustomerId ON sales.CustomerOrder (CustomerId) INCLUDE (PlacedAt, Status);
