-- Accepted tone requests (POST /waves, 2xx) in [:start_ts, :end_ts) by what they are made
-- of, in three breakdowns (dimension, value):
--   waveform: sine, square, triangle, sawtooth; a request counts once for each waveform
--             among its partials (null waveforms = every partial a sine, as on every
--             event before waveforms existed); noise alone has no partial and no waveform;
--   noise:    the colour mixed in (white, pink, brown), or none;
--   sweep:    sweep if any partial sweeps (from its frequency to its sweep end), else fixed.
-- requests and the audio bytes their specs imply, largest first within each dimension.
WITH tones AS (
    SELECT r.waveforms, r.sweep_ends, r.noise, r.frequencies, r.audio_bytes
    FROM requests_enriched AS r
    WHERE r.dt BETWEEN :start_dt AND :end_dt
      AND r.ts >= CAST(:start_ts AS timestamp)
      AND r.ts < CAST(:end_ts AS timestamp)
      AND r.is_tone_request
),
-- Few distinct kinds: group first, unnest the waveform lists afterwards.
kinds AS (
    SELECT
        waveforms,
        noise,
        sweep_ends IS NOT NULL AS sweeps,
        cardinality(frequencies) > 0 AS has_partials,
        count(*) AS requests,
        CAST(sum(audio_bytes) AS bigint) AS audio_bytes
    FROM tones
    GROUP BY waveforms, noise, sweep_ends IS NOT NULL, cardinality(frequencies) > 0
),
breakdown AS (
    SELECT 'waveform' AS dimension, w.waveform AS value, k.requests, k.audio_bytes
    FROM kinds AS k
    CROSS JOIN UNNEST(array_distinct(coalesce(k.waveforms, ARRAY['sine']))) AS w (waveform)
    WHERE k.has_partials
    UNION ALL
    SELECT 'noise' AS dimension, coalesce(noise, 'none') AS value, requests, audio_bytes
    FROM kinds
    UNION ALL
    SELECT
        'sweep' AS dimension,
        CASE WHEN sweeps THEN 'sweep' ELSE 'fixed' END AS value,
        requests,
        audio_bytes
    FROM kinds
)
SELECT
    dimension,
    value,
    CAST(sum(requests) AS bigint) AS requests,
    CAST(sum(audio_bytes) AS bigint) AS audio_bytes
FROM breakdown
GROUP BY dimension, value
ORDER BY dimension, requests DESC, value
