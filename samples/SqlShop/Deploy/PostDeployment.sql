-- Runs after DacFx changed the schema: reference data, kept in step with this file by MERGE (idempotent).
MERGE sales.Product AS target
USING (VALUES ('BOOK-001', N'The Art of Computer Programming', 199.00),
              ('BOOK-002', N'Structure and Interpretation of Computer Programs', 49.50),
              ('PEN-001', N'Fountain pen', 12.90))
      AS source (Sku, Name, UnitPrice)
ON target.Sku = source.Sku
WHEN MATCHED THEN
    UPDATE SET Name = source.Name, UnitPrice = source.UnitPrice
WHEN NOT MATCHED BY TARGET THEN
    INSERT (Sku, Name, UnitPrice) VALUES (source.Sku, source.Name, source.UnitPrice);

PRINT N'SqlShop: ' + CAST(@@ROWCOUNT AS nvarchar(10)) + N' product(s) merged.';
