CREATE TABLE sales.Product
(
    ProductId    int IDENTITY (1, 1) NOT NULL,
    Sku          varchar(32)         NOT NULL,
    Name         nvarchar(200)       NOT NULL,
    UnitPrice    decimal(10, 2)      NOT NULL,
    IsActive     bit                 NOT NULL CONSTRAINT DF_Product_IsActive DEFAULT (1),
    CONSTRAINT PK_Product PRIMARY KEY CLUSTERED (ProductId),
    CONSTRAINT UQ_Product_Sku UNIQUE (Sku),
    CONSTRAINT CK_Product_UnitPrice CHECK (UnitPrice >= 0)
);
