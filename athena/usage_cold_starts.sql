-- Cold starts per UTC day in [:start_ts, :end_ts): how many, their share, and the mean
-- latency of cold and warm invocations.
SELECT
    r.dt AS day,
    count(*) AS invocations,
    count_if(r.cold_start) AS cold_starts,
    CAST(count_if(r.cold_start) AS double) / count(*) AS cold_start_rate,
    avg(CASE WHEN r.cold_start THEN r.latency_ms END) AS cold_latency_ms,
    avg(CASE WHEN NOT r.cold_start THEN r.latency_ms END) AS warm_latency_ms
FROM requests_enriched AS r
WHERE r.dt BETWEEN :start_dt AND :end_dt
  AND r.ts >= CAST(:start_ts AS timestamp)
  AND r.ts < CAST(:end_ts AS timestamp)
GROUP BY r.dt
ORDER BY r.dt
