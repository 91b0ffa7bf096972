-- One row per event with the derived keys the leaderboards and usage queries share.
-- chord: the sorted set of distinct frequencies; audio_bytes: the PCM bytes the spec
-- implies (frames × channels × bytes per sample; bits_per_sample / 8 is integer division);
-- is_tone_request: an accepted POST /waves (or its WaveBuilder twin, POST /wavebuilder/main);
-- is_download: a successful download, chunk, WaveBuilder delivery or file by link (the
-- 303 of .../download took the claim and sent 0 bytes; GET /files/{token} sent the file
-- and claimed nothing, so a link download counts once and with its bytes).
-- Views take no parameters: every query on top filters on dt, which Athena and DuckDB
-- push through the view to prune partitions.
CREATE OR REPLACE VIEW requests_enriched AS
SELECT
    e.event_id,
    e.ts,
    e.dt,
    e.route,
    e.method,
    e.status_code,
    e.latency_ms,
    e.request_id,
    e.client_id,
    e.origin,
    e.frequencies,
    e.duration_s,
    e.sample_rate,
    e.bits_per_sample,
    e.channels,
    e.volume,
    e.bytes_out,
    e.error_code,
    e.region,
    e.cold_start,
    e.download_claim,
    e.waveforms,
    e.sweep_ends,
    e.noise,
    e.spec_hash,
    date_trunc('hour', e.ts) AS hour,
    hour(e.ts) AS hour_of_day,
    e.status_code < 400 AS success,
    e.route IN ('POST /waves', 'POST /wavebuilder/main')
        AND e.status_code BETWEEN 200 AND 299 AS is_tone_request,
    (e.route LIKE '% /waves/%/download' OR e.route LIKE '% /waves/%/chunks/%'
        OR e.route IN ('GET /wavebuilder/delivery', 'GET /files/{token}'))
        AND e.status_code < 400 AS is_download,
    array_sort(array_distinct(e.frequencies)) AS chord,
    CAST(round(e.duration_s * e.sample_rate) AS bigint) * e.channels
        * (e.bits_per_sample / 8) AS audio_bytes
FROM events AS e
