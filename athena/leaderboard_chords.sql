-- Top chords: accepted tone requests (POST /waves, 2xx) per chord, the sorted set of
-- distinct frequencies (two or more; shorter lists are dropped while reading), whatever
-- each partial's waveform; a spec with a sweep holds no fixed chord and is left out.
-- bytes = audio bytes implied by the specs. Ranked by :metric ('requests' or 'bytes');
-- ties share a rank, so a board may list more than :n rows. Window [:start_ts, :end_ts); the previous period
-- [:prev_start_ts, :start_ts) has the same length and gives prev_value and rank_change.
WITH tones AS (
    SELECT r.ts, r.spec_hash, r.frequencies, r.audio_bytes
    FROM requests_enriched AS r
    WHERE r.dt BETWEEN :prev_start_dt AND :end_dt
      AND r.ts >= CAST(:prev_start_ts AS timestamp)
      AND r.ts < CAST(:end_ts AS timestamp)
      AND r.is_tone_request
      AND r.sweep_ends IS NULL
      AND cardinality(r.frequencies) >= 2
),
-- Group by the spec first (its hash, a compact key; the frequency list as sent for older
-- events, which have none): there are few, so sorting and deduplicating their lists (the
-- chord) afterwards is cheap; per event it dominated the query.
per_list AS (
    SELECT
        arbitrary(frequencies) AS frequencies,
        count_if(ts >= CAST(:start_ts AS timestamp)) AS requests,
        CAST(sum(CASE WHEN ts >= CAST(:start_ts AS timestamp) THEN audio_bytes ELSE 0 END)
            AS bigint) AS bytes,
        count_if(ts < CAST(:start_ts AS timestamp)) AS prev_requests,
        CAST(sum(CASE WHEN ts < CAST(:start_ts AS timestamp) THEN audio_bytes ELSE 0 END)
            AS bigint) AS prev_bytes
    FROM tones
    GROUP BY spec_hash, CASE WHEN spec_hash IS NULL THEN frequencies END
),
totals AS (
    SELECT
        array_sort(array_distinct(frequencies)) AS chord,
        CAST(sum(requests) AS bigint) AS requests,
        CAST(sum(bytes) AS bigint) AS bytes,
        CAST(sum(prev_requests) AS bigint) AS prev_requests,
        CAST(sum(prev_bytes) AS bigint) AS prev_bytes
    FROM per_list
    WHERE cardinality(array_distinct(frequencies)) >= 2
    GROUP BY array_sort(array_distinct(frequencies))
),
scored AS (
    SELECT
        chord,
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
    SELECT chord, rank() OVER (ORDER BY prev_value DESC) AS prev_rank
    FROM scored
    WHERE prev_value > 0
)
SELECT
    c.rank,
    c.chord,
    c.value,
    c.requests,
    c.bytes,
    c.prev_value,
    p.prev_rank,
    p.prev_rank - c.rank AS rank_change
FROM ranked AS c
LEFT JOIN previous AS p ON c.chord = p.chord
WHERE c.rank <= :n
ORDER BY c.rank, c.chord
