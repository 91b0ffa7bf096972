-- Failed requests (status >= 400) per status and error code in [:start_ts, :end_ts), with
-- error_rate = their share of all requests in the window (cast first: Athena's integer
-- division would truncate it to 0).
WITH scoped AS (
    SELECT r.status_code, r.error_code, r.success
    FROM requests_enriched AS r
    WHERE r.dt BETWEEN :start_dt AND :end_dt
      AND r.ts >= CAST(:start_ts AS timestamp)
      AND r.ts < CAST(:end_ts AS timestamp)
),
total AS (
    SELECT count(*) AS requests FROM scoped
)
SELECT
    s.status_code,
    coalesce(s.error_code, 'unknown') AS error_code,
    count(*) AS requests,
    CAST(count(*) AS double) / max(t.requests) AS error_rate
FROM scoped AS s
CROSS JOIN total AS t
WHERE NOT s.success
GROUP BY s.status_code, coalesce(s.error_code, 'unknown')
ORDER BY requests DESC, s.status_code, error_code
