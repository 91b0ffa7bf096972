-- Top frequencies: accepted tone requests (POST /waves, 2xx) containing each frequency;
-- a chord counts once for each of its distinct frequencies. bytes = audio bytes implied
-- by the specs. Ranked by :metric ('requests' or 'bytes'); ties share a rank, so a board
-- may list more than :n rows. Window [:start_ts, :end_ts); the previous period
-- [:prev_start_ts, :start_ts) has the same length and gives prev_value and rank_change.
WITH tones AS (
    SELECT r.ts, r.chord, r.audio_bytes
    FROM requests_enriched AS r
    WHERE r.dt BETWEEN :prev_start_dt AND :end_dt
      AND r.ts >= CAST(:prev_start_ts AS timestamp)
      AND r.ts < CAST(:end_ts AS timestamp)
      AND r.is_tone_request
),
-- Unnest after filtering: DuckDB does not push a filter through UNNEST into the scan.
scoped AS (
    SELECT t.ts, f.frequency, t.audio_bytes
    FROM tones AS t
    CROSS JOIN UNNEST(t.chord) AS f (frequency)
),
totals AS (
    SELECT
        frequency,
        count_if(ts >= CAST(:start_ts AS timestamp)) AS requests,
        CAST(sum(CASE WHEN ts >= CAST(:start_ts AS timestamp) THEN audio_bytes ELSE 0 END)
            AS bigint) AS bytes,
        count_if(ts < CAST(:start_ts AS timestamp)) AS prev_requests,
        CAST(sum(CASE WHEN ts < CAST(:start_ts AS timestamp) THEN audio_bytes ELSE 0 END)
            AS bigint) AS prev_bytes
    FROM scoped
    GROUP BY frequency
),
scored AS (
    SELECT
        frequency,
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
    SELECT frequency, rank() OVER (ORDER BY prev_value DESC) AS prev_rank
    FROM scored
    WHERE prev_value > 0
)
SELECT
    c.rank,
    c.frequency,
    c.value,
    c.requests,
    c.bytes,
    c.prev_value,
    p.prev_rank,
    p.prev_rank - c.rank AS rank_change
FROM ranked AS c
LEFT JOIN previous AS p ON c.frequency = p.frequency
WHERE c.rank <= :n
ORDER BY c.rank, c.frequency
