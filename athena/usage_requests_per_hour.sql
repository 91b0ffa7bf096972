-- Requests, errors and bytes served per UTC hour in [:start_ts, :end_ts).
SELECT
    r.hour,
    count(*) AS requests,
    count_if(NOT r.success) AS errors,
    CAST(sum(r.bytes_out) AS bigint) AS bytes_out
FROM requests_enriched AS r
WHERE r.dt BETWEEN :start_dt AND :end_dt
  AND r.ts >= CAST(:start_ts AS timestamp)
  AND r.ts < CAST(:end_ts AS timestamp)
GROUP BY r.hour
ORDER BY r.hour
