-- Latency percentiles per route in [:start_ts, :end_ts). Athena's approx_percentile is
-- approximate; locally the runner computes the exact (linearly interpolated) percentile.
SELECT
    r.route,
    count(*) AS requests,
    approx_percentile(r.latency_ms, 0.5) AS p50_ms,
    approx_percentile(r.latency_ms, 0.95) AS p95_ms,
    approx_percentile(r.latency_ms, 0.99) AS p99_ms,
    max(r.latency_ms) AS max_ms
FROM requests_enriched AS r
WHERE r.dt BETWEEN :start_dt AND :end_dt
  AND r.ts >= CAST(:start_ts AS timestamp)
  AND r.ts < CAST(:end_ts AS timestamp)
GROUP BY r.route
ORDER BY requests DESC, r.route
