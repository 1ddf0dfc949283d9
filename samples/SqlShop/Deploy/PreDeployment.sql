-- Runs before DacFx changes the schema. Keep it idempotent: it runs on every deploy.
PRINT N'SqlShop: pre-deployment on ' + DB_NAME() + N'.';
