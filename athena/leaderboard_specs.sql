-- Most-downloaded specs: tones whose download (GET .../download or .../chunks/...) succeeded,
-- grouped by the spec downloaded: frequencies, waveforms, sweep_ends, noise, duration_s,
-- sample_rate, bits_per_sample, channels, volume. A spec is the same whatever order its
-- frequencies were listed in: the list is sorted, unless waveforms or sweep_ends run
-- parallel to it (then it is kept as sent).
-- requests = downloaded requests, each counted once per period: the download event that
-- claimed it (download_claim, true on exactly one event per request: download-once) counts;
-- older download events (download_claim null) count their distinct request ids instead. bytes = bytes_out of every download event, chunks included.
-- Older downloads without a spec take the spec of the POST /waves that created them, joined
-- on request_id; blobs live at most two days, so that request is looked up from
-- :lookback_dt (three days before the previous period); with no such downloads in the
-- window, the look-up has nothing to find.
-- Ranked by :metric ('requests' or 'bytes'); ties share a rank. Window [:start_ts,
-- :end_ts); the previous period [:prev_start_ts, :start_ts) gives prev_value and rank_change.
WITH claimed AS (
    -- Downloads that say whether they claimed their request (they carry its spec): grouped
    -- by the spec's hash and period, a compact key, taking the spec's columns from any
    -- event of the group. No request id is read: those random UUIDs were the costliest
    -- column of the board, and a distinct count over them half its time.
    SELECT
        arbitrary(r.frequencies) AS frequencies,
        arbitrary(r.waveforms) AS waveforms,
        arbitrary(r.sweep_ends) AS sweep_ends,
        arbitrary(r.noise) AS noise,
        arbitrary(r.duration_s) AS duration_s,
        arbitrary(r.sample_rate) AS sample_rate,
        arbitrary(r.bits_per_sample) AS bits_per_sample,
        arbitrary(r.channels) AS channels,
        arbitrary(r.volume) AS volume,
        r.ts >= CAST(:start_ts AS timestamp) AS current,
        CAST(NULL AS varchar) AS older_request,
        count_if(r.download_claim) AS claims,
        CAST(sum(r.bytes_out) AS bigint) AS bytes
    FROM requests_enriched AS r
    WHERE r.dt BETWEEN :prev_start_dt AND :end_dt
      AND r.ts >= CAST(:prev_start_ts AS timestamp)
      AND r.ts < CAST(:end_ts AS timestamp)
      AND r.is_download
      AND r.download_claim IS NOT NULL
    GROUP BY r.spec_hash, r.ts >= CAST(:start_ts AS timestamp)
),
-- Older downloads (no claim flag): one row per request, spec and period.
older AS (
    SELECT
        r.frequencies,
        r.waveforms,
        r.sweep_ends,
        r.noise,
        r.duration_s,
        r.sample_rate,
        r.bits_per_sample,
        r.channels,
        r.volume,
        r.ts >= CAST(:start_ts AS timestamp) AS current,
        r.request_id AS older_request,
        0 AS claims,
        CAST(sum(r.bytes_out) AS bigint) AS bytes
    FROM requests_enriched AS r
    WHERE r.dt BETWEEN :prev_start_dt AND :end_dt
      AND r.ts >= CAST(:prev_start_ts AS timestamp)
      AND r.ts < CAST(:end_ts AS timestamp)
      AND r.is_download
      AND r.download_claim IS NULL
      AND r.request_id IS NOT NULL
    GROUP BY
        r.frequencies, r.waveforms, r.sweep_ends, r.noise, r.duration_s, r.sample_rate,
        r.bits_per_sample, r.channels, r.volume, r.ts >= CAST(:start_ts AS timestamp),
        r.request_id
),
per_key AS (
    SELECT * FROM claimed
    UNION ALL
    SELECT * FROM older
),
-- The spec of each older download's request (an idempotent retry logs a request twice).
older_tones AS (
    SELECT
        r.request_id,
        arbitrary(r.frequencies) AS frequencies,
        arbitrary(r.waveforms) AS waveforms,
        arbitrary(r.sweep_ends) AS sweep_ends,
        arbitrary(r.noise) AS noise,
        arbitrary(r.duration_s) AS duration_s,
        arbitrary(r.sample_rate) AS sample_rate,
        arbitrary(r.bits_per_sample) AS bits_per_sample,
        arbitrary(r.channels) AS channels,
        arbitrary(r.volume) AS volume
    FROM requests_enriched AS r
    WHERE r.dt BETWEEN :lookback_dt AND :end_dt
      AND r.ts < CAST(:end_ts AS timestamp)
      AND r.is_tone_request
      AND r.request_id IN (
          SELECT older_request FROM per_key WHERE duration_s IS NULL
      )
    GROUP BY r.request_id
),
specified AS (
    SELECT
        frequencies, waveforms, sweep_ends, noise, duration_s, sample_rate, bits_per_sample,
        channels, volume, current, older_request, claims, bytes
    FROM per_key
    WHERE duration_s IS NOT NULL
    UNION ALL
    SELECT
        t.frequencies, t.waveforms, t.sweep_ends, t.noise, t.duration_s, t.sample_rate,
        t.bits_per_sample, t.channels, t.volume, k.current, k.older_request, k.claims, k.bytes
    FROM per_key AS k
    JOIN older_tones AS t ON k.older_request = t.request_id
    WHERE k.duration_s IS NULL
),
totals AS (
    SELECT
        CASE
            WHEN waveforms IS NULL AND sweep_ends IS NULL THEN array_sort(frequencies)
            ELSE frequencies
        END AS frequencies,
        waveforms,
        sweep_ends,
        noise,
        duration_s,
        sample_rate,
        bits_per_sample,
        channels,
        volume,
        CAST(sum(CASE WHEN current THEN claims ELSE 0 END) AS bigint)
            + count(DISTINCT CASE WHEN current THEN older_request END) AS requests,
        CAST(sum(CASE WHEN current THEN bytes ELSE 0 END) AS bigint) AS bytes,
        CAST(sum(CASE WHEN current THEN 0 ELSE claims END) AS bigint)
            + count(DISTINCT CASE WHEN current THEN NULL ELSE older_request END)
            AS prev_requests,
        CAST(sum(CASE WHEN current THEN 0 ELSE bytes END) AS bigint) AS prev_bytes
    FROM specified
    GROUP BY
        CASE
            WHEN waveforms IS NULL AND sweep_ends IS NULL THEN array_sort(frequencies)
            ELSE frequencies
        END,
        waveforms, sweep_ends, noise, duration_s, sample_rate, bits_per_sample, channels,
        volume
),
scored AS (
    SELECT
        totals.*,
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
    SELECT scored.*, rank() OVER (ORDER BY prev_value DESC) AS prev_rank
    FROM scored
    WHERE prev_value > 0
)
SELECT
    c.rank,
    c.frequencies,
    c.waveforms,
    c.sweep_ends,
    c.noise,
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
    AND c.waveforms IS NOT DISTINCT FROM p.waveforms
    AND c.sweep_ends IS NOT DISTINCT FROM p.sweep_ends
    AND c.noise IS NOT DISTINCT FROM p.noise
    AND c.duration_s = p.duration_s
    AND c.sample_rate = p.sample_rate
    AND c.bits_per_sample = p.bits_per_sample
    AND c.channels = p.channels
    AND c.volume = p.volume
WHERE c.rank <= :n
ORDER BY
    c.rank, c.frequencies, c.waveforms, c.sweep_ends, c.noise, c.duration_s, c.sample_rate,
    c.bits_per_sample, c.channels, c.volume
