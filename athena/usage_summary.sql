-- Headline numbers for [:start_ts, :end_ts): requests, distinct clients (exact, so both
-- engines agree), errors and error rate, bytes served, accepted tone requests and
-- downloads. One row, also for an empty window (counts 0, rate 0).
SELECT
    count(*) AS requests,
    count(DISTINCT r.client_id) AS unique_clients,
    count_if(NOT r.success) AS errors,
    CASE WHEN count(*) = 0 THEN 0.0
         ELSE CAST(count_if(NOT r.success) AS double) / count(*) END AS error_rate,
    CAST(coalesce(sum(r.bytes_out), 0) AS bigint) AS bytes_out,
    count_if(r.is_tone_request) AS tone_requests,
    count_if(r.is_download) AS downloads
FROM requests_enriched AS r
WHERE r.dt BETWEEN :start_dt AND :end_dt
  AND r.ts >= CAST(:start_ts AS timestamp)
  AND r.ts < CAST(:end_ts AS timestamp)
