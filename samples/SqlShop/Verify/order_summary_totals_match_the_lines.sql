-- Post-deployment verification, read-only: on production's real data, the Total the new view sales.OrderSummary
-- shows (sales.OrderTotal) is the sum of the order's lines, and reading the view raises no error (an overflowing
-- total would). Rows, or an error, make the runner restore the backup it took before the deploy.
SELECT s.OrderId, s.Total, lines.Total AS LinesTotal
FROM sales.OrderSummary AS s
    CROSS APPLY (SELECT COALESCE(SUM(CAST(l.Quantity AS decimal(38, 2)) * l.UnitPrice), 0) AS Total
                 FROM sales.OrderLine AS l
                 WHERE l.OrderId = s.OrderId) AS lines
WHERE s.Total IS NULL OR s.Total <> lines.Total;
