CREATE TABLE sales.Customer
(
    CustomerId   int IDENTITY (1, 1) NOT NULL,
    Email        nvarchar(320)       NOT NULL,
    Name         nvarchar(200)       NOT NULL,
    CreatedAt    datetime2(0)        NOT NULL CONSTRAINT DF_Customer_CreatedAt DEFAULT (sysutcdatetime()),
    CONSTRAINT PK_Customer PRIMARY KEY CLUSTERED (CustomerId),
    CONSTRAINT UQ_Customer_Email UNIQUE (Email)
);
