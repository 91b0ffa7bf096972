-- Requests, errors, tone requests and downloads per UTC day (the dt partition) in
-- [:start_ts, :end_ts).
SELECT
    r.dt AS day,
    count(*) AS requests,
    count_if(NOT r.success) AS errors,
    count_if(r.is_tone_request) AS tone_requests,
    count_if(r.is_download) AS downloads
FROM requests_enriched AS r
WHERE r.dt BETWEEN :start_dt AND :end_dt
  AND r.ts >= CAST(:start_ts AS timestamp)
  AND r.ts < CAST(:end_ts AS timestamp)
GROUP BY r.dt
ORDER BY r.dt
