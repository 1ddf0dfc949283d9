-- CREATE INDEX CONCURRENTLY can leave an INVALID index behind without failing loudly: make sure it is usable.
SELECT i.indexrelid::regclass AS index_name
FROM pg_index i
WHERE i.indexrelid = 'shop_order_customer_idx'::regclass
  AND NOT (i.indisvalid AND i.indisready);
