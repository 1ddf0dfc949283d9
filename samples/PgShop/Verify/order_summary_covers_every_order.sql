-- Post-deployment verification: run on production right after migrating. Rows mean the data is wrong, and the
-- runner restores the backup it took before the deploy.
SELECT o.id
FROM shop_order o
LEFT JOIN order_summary s ON s.order_id = o.id
WHERE s.order_id IS NULL;
