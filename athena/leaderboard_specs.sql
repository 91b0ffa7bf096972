-- Most-downloaded specs: tones whose download (GET .../download or .../chunks/...) succeeded,
-- grouped by the spec downloaded. Download events carry that spec in their tone columns;
-- older ones (logged before downloads carried it) have none and take the spec of the
-- POST /waves that created them, joined on request_id. Blobs live at most two days, so
-- that request is looked up from :lookback_dt (three days before the previous period);
-- when the window holds no older download, the look-up has nothing to find.
-- requests = downloaded request_ids (each counted once per period, however many chunks);
-- bytes = bytes_out of the download events. Ranked by :metric ('requests' or 'bytes'); ties
-- share a rank. Window [:start_ts, :end_ts); the previous period [:prev_start_ts, :start_ts)
-- gives prev_value and rank_change. Unlike the other boards, downloads are read in one
-- part, ts included: split into whole days and edge days, the board was no faster (the
-- per-request count below dominates) and had one more scan.
WITH downloads AS (
    SELECT
        r.ts >= CAST(:start_ts AS timestamp) AS current,
        r.request_id,
        r.bytes_out,
        r.frequencies,
        r.duration_s,
        r.sample_rate,
        r.bits_per_sample,
        r.channels,
        r.volume
    FROM requests_enriched AS r
    WHERE r.dt BETWEEN :prev_start_dt AND :end_dt
      AND r.ts >= CAST(:prev_start_ts AS timestamp)
      AND r.ts < CAST(:end_ts AS timestamp)
      AND r.is_download
      AND r.request_id IS NOT NULL
),
-- The spec of each older download's request (an idempotent retry logs a request twice).
older_tones AS (
    SELECT
        r.request_id,
        arbitrary(r.frequencies) AS frequencies,
        arbitrary(r.duration_s) AS duration_s,
        arbitrary(r.sample_rate) AS sample_rate,
        arbitrary(r.bits_per_sample) AS bits_per_sample,
        arbitrary(r.channels) AS channels,
        arbitrary(r.volume) AS volume
    FROM requests_enriched AS r
    WHERE r.dt BETWEEN :lookback_dt AND :end_dt
      AND r.ts < CAST(:end_ts AS timestamp)
      AND r.is_tone_request
      AND r.request_id IN (SELECT request_id FROM downloads WHERE duration_s IS NULL)
    GROUP BY r.request_id
),
specified AS (
    SELECT
        current,
        request_id,
        bytes_out,
        frequencies,
        duration_s,
        sample_rate,
        bits_per_sample,
        channels,
        volume
    FROM downloads
    WHERE duration_s IS NOT NULL
    UNION ALL
    SELECT
        d.current,
        d.request_id,
        d.bytes_out,
        t.frequencies,
        t.duration_s,
        t.sample_rate,
        t.bits_per_sample,
        t.channels,
        t.volume
    FROM downloads AS d
    JOIN older_tones AS t ON d.request_id = t.request_id
    WHERE d.duration_s IS NULL
),
-- One row per downloaded request (and spec): a request counts once, however many chunks.
-- This exact count of distinct request ids (random UUID text, read and hashed) is about
-- half of the board's time; the other boards need no such step.
per_request AS (
    SELECT
        frequencies,
        duration_s,
        sample_rate,
        bits_per_sample,
        channels,
        volume,
        count_if(current) AS downloads,
        CAST(sum(CASE WHEN current THEN bytes_out ELSE 0 END) AS bigint) AS bytes,
        count_if(NOT current) AS prev_downloads,
        CAST(sum(CASE WHEN current THEN 0 ELSE bytes_out END) AS bigint) AS prev_bytes
    FROM specified
    GROUP BY request_id, frequencies, duration_s, sample_rate, bits_per_sample, channels, volume
),
-- Group by the frequency list as sent first; sorting the few distinct lists afterwards is
-- cheap (a spec is the same whatever order its frequencies were listed in).
per_list AS (
    SELECT
        frequencies,
        duration_s,
        sample_rate,
        bits_per_sample,
        channels,
        volume,
        count_if(downloads > 0) AS requests,
        CAST(sum(bytes) AS bigint) AS bytes,
        count_if(prev_downloads > 0) AS prev_requests,
        CAST(sum(prev_bytes) AS bigint) AS prev_bytes
    FROM per_request
    GROUP BY frequencies, duration_s, sample_rate, bits_per_sample, channels, volume
),
totals AS (
    SELECT
        array_sort(frequencies) AS frequencies,
        duration_s,
        sample_rate,
        bits_per_sample,
        channels,
        volume,
        CAST(sum(requests) AS bigint) AS requests,
        CAST(sum(bytes) AS bigint) AS bytes,
        CAST(sum(prev_requests) AS bigint) AS prev_requests,
        CAST(sum(prev_bytes) AS bigint) AS prev_bytes
    FROM per_list
    GROUP BY array_sort(frequencies), duration_s, sample_rate, bits_per_sample, channels, volume
),
scored AS (
    SELECT
        frequencies,
        duration_s,
        sample_rate,
        bits_per_sample,
        channels,
        volume,
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
    SELECT
        frequencies,
        duration_s,
        sample_rate,
        bits_per_sample,
        channels,
        volume,
        rank() OVER (ORDER BY prev_value DESC) AS prev_rank
    FROM scored
    WHERE prev_value > 0
)
SELECT
    c.rank,
    c.frequencies,
    c.duration_s,
    c.sample_rate,
    c.bits_per_sample,
    c.channels,
    c.volume,
    c.value,
    c.requests,
    c.bytes,
    c.prev_value,
    p.prev_rank,
    p.prev_rank - c.rank AS rank_change
FROM ranked AS c
LEFT JOIN previous AS p
    ON c.frequencies = p.frequencies
    AND c.duration_s = p.duration_s
    AND c.sample_rate = p.sample_rate
    AND c.bits_per_sample = p.bits_per_sample
    AND c.channels = p.channels
    AND c.volume = p.volume
WHERE c.rank <= :n
ORDER BY
    c.rank, c.frequencies, c.duration_s, c.sample_rate, c.bits_per_sample, c.channels, c.volume
