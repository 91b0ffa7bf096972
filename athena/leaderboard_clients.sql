-- Top clients: accepted tone requests (POST /waves, 2xx) per client_id (requests without
-- a client are left out). bytes = audio bytes implied
-- by the specs. Ranked by :metric ('requests' or 'bytes'); ties share a rank, so a board
-- may list more than :n rows. Window [:start_ts, :end_ts); the previous period
-- [:prev_start_ts, :start_ts) has the same length and gives prev_value and rank_change.
WITH scoped AS (
    SELECT r.ts, r.client_id, r.audio_bytes
    FROM requests_enriched AS r
    WHERE r.dt BETWEEN :prev_start_dt AND :end_dt
      AND r.ts >= CAST(:prev_start_ts AS timestamp)
      AND r.ts < CAST(:end_ts AS timestamp)
      AND r.is_tone_request
      AND r.client_id IS NOT NULL
),
totals AS (
    SELECT
        client_id,
        count_if(ts >= CAST(:start_ts AS timestamp)) AS requests,
        CAST(sum(CASE WHEN ts >= CAST(:start_ts AS timestamp) THEN audio_bytes ELSE 0 END)
            AS bigint) AS bytes,
        count_if(ts < CAST(:start_ts AS timestamp)) AS prev_requests,
        CAST(sum(CASE WHEN ts < CAST(:start_ts AS timestamp) THEN audio_bytes ELSE 0 END)
            AS bigint) AS prev_bytes
    FROM scoped
    GROUP BY client_id
),
scored AS (
    SELECT
        client_id,
        requests,
        bytes,
        CASE WHEN :metric = 'bytes' THEN bytes ELSE requests END AS value,
        CASE WHEN :metric = 'bytes' THEN prev_bytes ELSE prev_requests END AS prev_value
    FROM totals
),
ranked AS (
    SELECT scored.*, rank() OVER (ORDER BY value DESC) AS rank
    FROM scored
    WHERE value > 0
),
previous AS (
    SELECT client_id, rank() OVER (ORDER BY prev_value DESC) AS prev_rank
    FROM scored
    WHERE prev_value > 0
)
SELECT
    c.rank,
    c.client_id,
    c.value,
    c.requests,
    c.bytes,
    c.prev_value,
    p.prev_rank,
    p.prev_rank - c.rank AS rank_change
FROM ranked AS c
LEFT JOIN previous AS p ON c.client_id = p.client_id
WHERE c.rank <= :n
ORDER BY c.rank, c.client_id
