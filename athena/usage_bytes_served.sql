-- Bytes served (sum of bytes_out) and requests per UTC day and route in [:start_ts, :end_ts).
SELECT
    r.dt AS day,
    r.route,
    count(*) AS requests,
    CAST(sum(r.bytes_out) AS bigint) AS bytes_out
FROM requests_enriched AS r
WHERE r.dt BETWEEN :start_dt AND :end_dt
  AND r.ts >= CAST(:start_ts AS timestamp)
  AND r.ts < CAST(:end_ts AS timestamp)
GROUP BY r.dt, r.route
ORDER BY r.dt, bytes_out DESC, r.route
