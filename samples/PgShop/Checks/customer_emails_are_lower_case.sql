-- Pre-deployment data check, run on staging at publish and on production before migrating.
-- Like a test, it passes when its last query returns no rows; each row is a problem to fix first.
SELECT id, email
FROM customer
WHERE email <> lower(email);
