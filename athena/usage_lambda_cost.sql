-- Estimated AWS cost per UTC day in [:start_ts, :end_ts) if every request ran on Lambda
-- behind an HTTP API: requests × price + GB-seconds × price, with billed duration rounded
-- up to the millisecond. Prices and memory come from wavekit/analytics/costs.py (the
-- runner binds them); the free tier is left out (it is monthly, per account).
WITH daily AS (
    SELECT
        r.dt AS day,
        count(*) AS requests,
        sum(ceil(r.latency_ms)) / 1000.0 * CAST(:memory_gb AS double) AS gb_seconds
    FROM requests_enriched AS r
    WHERE r.dt BETWEEN :start_dt AND :end_dt
      AND r.ts >= CAST(:start_ts AS timestamp)
      AND r.ts < CAST(:end_ts AS timestamp)
    GROUP BY r.dt
)
SELECT
    day,
    requests,
    gb_seconds,
    requests * CAST(:lambda_price_per_request AS double) AS lambda_request_usd,
    gb_seconds * CAST(:lambda_price_per_gb_second AS double) AS lambda_compute_usd,
    requests * CAST(:api_price_per_request AS double) AS api_gateway_usd,
    requests * CAST(:lambda_price_per_request AS double)
        + gb_seconds * CAST(:lambda_price_per_gb_second AS double)
        + requests * CAST(:api_price_per_request AS double) AS total_usd
FROM daily
ORDER BY day
