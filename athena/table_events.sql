-- The request-log events (DESIGN.md §4) as an external table over the Parquet lake.
-- Partition projection on dt (UTC day, yyyy-MM-dd) means new days are queryable at once,
-- with no crawler and no MSCK REPAIR. The runner replaces {lake_uri} (for example
-- s3://my-bucket/events/) before submitting; locally this file defines the same columns
-- over <lake>/dt=*/*.parquet. The tone columns (frequencies .. volume) hold the spec on
-- POST /waves and on downloads of a known request (older download events have none).
-- Added later, null on older events (the schema only grows): download_claim (true on the
-- download that claimed its request), waveforms and sweep_ends (parallel to frequencies;
-- null when all sines / no sweep), noise (the colour mixed in), spec_hash (the spec's hash,
-- with the tone columns).
CREATE EXTERNAL TABLE IF NOT EXISTS events (
    event_id string,
    ts timestamp,
    route string,
    method string,
    status_code int,
    latency_ms double,
    request_id string,
    client_id string,
    origin string,
    frequencies array<double>,
    duration_s double,
    sample_rate int,
    bits_per_sample int,
    channels int,
    volume double,
    bytes_out bigint,
    error_code string,
    region string,
    cold_start boolean,
    download_claim boolean,
    waveforms array<string>,
    sweep_ends array<double>,
    noise string,
    spec_hash string
)
PARTITIONED BY (dt string)
STORED AS PARQUET
LOCATION '{lake_uri}'
TBLPROPERTIES (
    'projection.enabled' = 'true',
    'projection.dt.type' = 'date',
    'projection.dt.format' = 'yyyy-MM-dd',
    'projection.dt.range' = '2024-01-01,NOW',
    'projection.dt.interval' = '1',
    'projection.dt.interval.unit' = 'DAYS',
    'storage.location.template' = '{lake_uri}dt=${dt}/',
    'parquet.compression' = 'ZSTD'
)
