-- Post-deployment verification, read-only, run on production right after the deploy committed: the new view
-- sales.OrderSummary must show every order exactly once (its INNER JOIN to sales.Customer must lose none, and
-- must not repeat one). Rows mean the view is wrong on production's data, and the runner restores the backup it
-- took before the deploy.
SELECT o.OrderId, COUNT(s.OrderId) AS TimesInSummary
FROM sales.CustomerOrder AS o
    LEFT JOIN sales.OrderSummary AS s ON s.OrderId = o.OrderId
GROUP BY o.OrderId
HAVING COUNT(s.OrderId) <> 1;
