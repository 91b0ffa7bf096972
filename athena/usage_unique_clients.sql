-- Distinct client_ids per UTC day in [:start_ts, :end_ts) (exact count, not approx_distinct,
-- so both engines agree).
SELECT
    r.dt AS day,
    count(DISTINCT r.client_id) AS unique_clients,
    count(*) AS requests
FROM requests_enriched AS r
WHERE r.dt BETWEEN :start_dt AND :end_dt
  AND r.ts >= CAST(:start_ts AS timestamp)
  AND r.ts < CAST(:end_ts AS timestamp)
GROUP BY r.dt
ORDER BY r.dt
