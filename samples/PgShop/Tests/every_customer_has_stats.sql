SELECT c.id, c.email
FROM customer c
LEFT JOIN customer_stats s ON s.customer_id = c.id
WHERE s.customer_id IS NULL;
