-- The course's three seed platforms, on a database that has none yet.
INSERT INTO platforms (name, publisher, cost)
SELECT v.name, v.publisher, v.cost
FROM (VALUES (1, 'Dot Net', 'Microsoft', 'Free'),
             (2, 'SQL Server Express', 'Microsoft', 'Free'),
             (3, 'Kubernetes', 'Cloud Native Computing Foundation', 'Free'))
       AS v(ord, name, publisher, cost)
WHERE NOT EXISTS (SELECT 1 FROM platforms)
ORDER BY v.ord;
