-- Built without locking writers: CREATE INDEX CONCURRENTLY cannot run inside a transaction, so this file holds
-- nothing else and MigrationTasks runs it statement by statement.
CREATE INDEX CONCURRENTLY shop_order_customer_idx ON shop_order (customer_id);
