"""The request-log event: the analytics contract (``docs/design.md`` §5).

One event per API request. Events are stored as Parquet, partitioned by UTC day as
``<lake>/dt=YYYY-MM-DD/<name>.parquet`` (Firehose writes the same layout on AWS).
The schema may only grow (new nullable columns); never rename or retype a column.

Everything that writes events (the local event sink, the synthetic traffic generator)
goes through :func:`write_lake_partitions`, so there is one place for the layout.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wavekit.clock import utc_now
from wavekit.errors import MissingExtraError

if TYPE_CHECKING:
    import pyarrow as pa

    from wavekit.audio.spec import ToneSpec

PARTITION_COLUMN = "dt"
PARTITION_FORMAT = "%Y-%m-%d"
SORT_KEYS = (("route", "ascending"), ("ts", "ascending"))
"""The order of rows in every lake file: a board reads one route's events (POST /waves,
or the downloads), so they sit together and DuckDB skips whole vectors of the others;
within a route, by time, so ``ts`` delta-encodes to a few bits per event."""
COMPACT_GRACE = dt.timedelta(hours=1)
"""A day is compacted once it ended this long ago: late events (buffered across
midnight, flushed a few seconds later) have landed by then."""


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """One API request, as analysts see it.

    The tone fields (``frequencies`` .. ``volume``) carry the spec of the request's tone:
    on ``POST /waves``, and on a download (``GET /waves/{id}/download`` or
    ``.../chunks/{n}``) of a known request, so the downloaded-specs board needs no join
    back to the ``POST``. They are null on every other route. Download events written
    before downloads carried the spec have null tone fields; the SQL looks those up on
    the creating ``POST`` (``athena/leaderboard_specs.sql``).

    ``bits_per_sample`` is 32 for both 32-bit integer and 32-bit float output.

    Added later (null on older events; the schema only grows):

    - ``download_claim``: true on the download event that took the job's one download
      claim (the ``/download`` 303, or the chunk request that claimed it), false on every
      other event (later chunks, re-reads, other routes); such an event carries its spec.
      The specs board counts claims instead of distinct request ids, and falls back to
      those where it is null (older events). Never null on new events, so a file of them
      says so in its statistics and the fallback skips it unread.
    - ``waveforms``: each partial's waveform, parallel to ``frequencies``; null when every
      partial is a sine (as on every event before waveforms existed).
    - ``sweep_ends``: each partial's ``freq_end`` (null for a fixed partial), parallel to
      ``frequencies``; null when no partial sweeps. ``frequencies`` holds a sweep's start.
    - ``noise``: the noise colour mixed in, or null.
    - ``spec_hash``: the spec's hash (:attr:`~wavekit.audio.spec.ToneSpec.spec_hash`, the
      name of its file), wherever the tone columns are set: a compact key to group by.
    """

    route: str
    method: str
    status_code: int
    latency_ms: float
    ts: dt.datetime = field(default_factory=utc_now)
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    request_id: str | None = None
    client_id: str | None = None
    origin: str | None = None
    frequencies: list[float] | None = None
    duration_s: float | None = None
    sample_rate: int | None = None
    bits_per_sample: int | None = None
    channels: int | None = None
    volume: float | None = None
    bytes_out: int = 0
    error_code: str | None = None
    region: str = "local"
    cold_start: bool = False
    download_claim: bool | None = None
    waveforms: list[str] | None = None
    sweep_ends: list[float | None] | None = None
    noise: str | None = None
    spec_hash: str | None = None

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "ts",
    "route",
    "method",
    "status_code",
    "latency_ms",
    "request_id",
    "client_id",
    "origin",
    "frequencies",
    "duration_s",
    "sample_rate",
    "bits_per_sample",
    "channels",
    "volume",
    "bytes_out",
    "error_code",
    "region",
    "cold_start",
    "download_claim",
    "waveforms",
    "sweep_ends",
    "noise",
    "spec_hash",
)
"""Column order of the contract (``docs/design.md`` §5)."""


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtraError("pyarrow", "service") from exc
    return pyarrow


def arrow_schema() -> pa.Schema:
    """The Parquet schema of the contract (timestamps in ms, UTC)."""
    pa = _pyarrow()
    return pa.schema(
        [
            ("event_id", pa.string()),
            ("ts", pa.timestamp("ms", tz="UTC")),
            ("route", pa.string()),
            ("method", pa.string()),
            ("status_code", pa.int32()),
            ("latency_ms", pa.float64()),
            ("request_id", pa.string()),
            ("client_id", pa.string()),
            ("origin", pa.string()),
            ("frequencies", pa.list_(pa.float64())),
            ("duration_s", pa.float64()),
            ("sample_rate", pa.int32()),
            ("bits_per_sample", pa.int32()),
            ("channels", pa.int32()),
            ("volume", pa.float64()),
            ("bytes_out", pa.int64()),
            ("error_code", pa.string()),
            ("region", pa.string()),
            ("cold_start", pa.bool_()),
            ("download_claim", pa.bool_()),
            ("waveforms", pa.list_(pa.string())),
            ("sweep_ends", pa.list_(pa.float64())),
            ("noise", pa.string()),
            ("spec_hash", pa.string()),
        ]
    )


def tone_fields(spec: ToneSpec | None) -> dict[str, Any]:
    """The tone columns of a request's event from its spec (all null without one).

    ``waveforms``, ``sweep_ends`` and ``noise`` stay null for what every older event was
    (sines, no sweep, no noise), so the boards' common case reads almost nothing more.
    """
    if spec is None:
        return {}
    partials = spec.frequencies
    waveforms = [p.waveform for p in partials]
    sweep_ends = [p.freq_end for p in partials]
    return {
        "frequencies": [p.freq for p in partials],
        "duration_s": spec.duration,
        "sample_rate": spec.sample_rate,
        "bits_per_sample": 32 if spec.bits_per_sample == "float32" else spec.bits_per_sample,
        "channels": spec.number_of_channels,
        "volume": spec.volume,
        "waveforms": None if all(w == "sine" for w in waveforms) else waveforms,
        "sweep_ends": None if all(e is None for e in sweep_ends) else sweep_ends,
        "noise": spec.noise.color if spec.noise is not None else None,
        "spec_hash": spec.spec_hash,
    }


DOWNLOAD_ROUTE_MARKERS = ("/download", "/chunks/", "/wavebuilder/delivery")


def download_claim_field(route: str, spec: ToneSpec | None, claimed: bool | None) -> bool | None:
    """``download_claim`` of an event: never null on new events, except where it must be.

    A download route says whether it took the claim (``claimed``); without that, or
    without the spec, the event is left null, so the specs board counts it the older
    way (its request id, the spec looked up). Every other route is false.
    """
    if not any(marker in route for marker in DOWNLOAD_ROUTE_MARKERS):
        return False
    return None if claimed is None or spec is None else bool(claimed)


def events_table(events: Iterable[RequestEvent]) -> pa.Table:
    """Events as an Arrow table with the contract schema.

    Built column by column from the attributes: a dict per event (``to_record``, which
    deep-copies) and ``from_pylist`` cost 30-80 us an event, held the GIL in the service's
    flush thread and were a quarter of a ``POST /waves`` (ADR 0007); this is ~3 us.
    """
    pa = _pyarrow()
    rows = list(events)
    schema = arrow_schema()
    columns = [pa.array([getattr(e, f.name) for e in rows], type=f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def partition_dir(lake: str | os.PathLike[str], day: dt.date) -> Path:
    return Path(lake) / f"{PARTITION_COLUMN}={day.strftime(PARTITION_FORMAT)}"


def write_lake_partitions(
    table: pa.Table, lake: str | os.PathLike[str], basename: str | None = None
) -> list[Path]:
    """Write a table of events into ``lake/dt=YYYY-MM-DD/<basename>.parquet``, one file per day.

    Each file is written under a temporary name and renamed, so readers never see a
    half-written file. The ``dt`` column itself is not stored (it is the directory).
    """
    pa = _pyarrow()
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return []
    basename = basename or f"events-{uuid.uuid4().hex}"
    # UTC day number from the integer timestamp: formatting a date string per row took a
    # third of the synthetic-traffic generator's time.
    millis = pc.cast(table["ts"], pa.int64())
    days = pc.divide(pc.subtract(millis, pc.if_else(pc.less(millis, 0), 86_399_999, 0)), 86_400_000)
    written = []
    for day_number in pc.unique(days).to_pylist():
        part = table.filter(pc.equal(days, day_number))
        day = dt.date(1970, 1, 1) + dt.timedelta(days=day_number)
        directory = partition_dir(lake, day)
        directory.mkdir(parents=True, exist_ok=True)
        written.append(_write_file(part, directory / f"{basename}.parquet"))
    return written


def _write_file(table: pa.Table, target: Path) -> Path:
    """One lake file in the lake's layout (:data:`SORT_KEYS`), written whole (atomic rename).

    ``ts`` is delta-encoded (dictionary encoding gave up on it and stored 8 bytes a row,
    the costliest column a board reads); every other column keeps dictionary encoding.
    """
    pa = _pyarrow()
    table = table.sort_by(list(SORT_KEYS))
    temporary = target.with_name(f".{target.stem}.parquet.tmp")
    pa.parquet.write_table(
        table,
        temporary,
        compression="zstd",
        use_dictionary=[name for name in table.column_names if name != "ts"],
        column_encoding={"ts": "DELTA_BINARY_PACKED"},
        sorting_columns=[
            pa.parquet.SortingColumn(table.column_names.index(name)) for name, _ in SORT_KEYS
        ],
    )
    os.replace(temporary, target)
    return target


def _has_every_column(path: Path) -> bool:
    """Whether a lake file has every column of the contract (older ones lack newer ones)."""
    pa = _pyarrow()
    return set(pa.parquet.read_schema(path).names) >= set(EVENT_COLUMNS)


@dataclass(frozen=True)
class Compaction:
    """What :func:`compact_lake` did: days rewritten, files before and after, seconds."""

    days: int
    files_before: int
    files_after: int
    seconds: float


def compact_lake(
    lake: str | os.PathLike[str],
    now: dt.datetime | None = None,
    grace: dt.timedelta = COMPACT_GRACE,
) -> Compaction:
    """Merge each closed day's files into one (``compacted-<id>.parquet``), in the lake's layout.

    A service's sink writes a small file every few seconds (17,000 a day at one flush
    per 5 s); every query pays for each file it opens, so a closed day (one that ended
    ``grace`` ago) is rewritten as one sorted file, with every column of the contract
    (a day written before a column existed gets it, as nulls). Days with one such file
    are left alone, so running it again is cheap; a late file is merged next time.
    The new file is in place before the old ones go: a reader listing the day in that
    instant may count it twice, so run it where the queries run (the service does, just
    before each leaderboard refresh). On AWS, Firehose's buffering (up to 128 MB or 15
    minutes per file) plays this part.
    """
    import time

    pa = _pyarrow()
    started = time.perf_counter()
    cutoff = (now or utc_now()) - grace
    days = files_before = files_after = 0
    for directory in sorted(Path(lake).glob(f"{PARTITION_COLUMN}=*")):
        try:
            day = dt.datetime.strptime(directory.name.split("=", 1)[1], PARTITION_FORMAT)
        except ValueError:
            continue
        if day.replace(tzinfo=dt.UTC) + dt.timedelta(days=1) > cutoff:
            continue
        files = sorted(directory.glob("*.parquet"))
        if not files or (len(files) == 1 and _has_every_column(files[0])):
            continue
        table = pa.concat_tables(
            [pa.parquet.read_table(f, schema=arrow_schema(), partitioning=None) for f in files]
        )
        _write_file(table, directory / f"compacted-{uuid.uuid4().hex}.parquet")
        for old in files:
            old.unlink()
        days += 1
        files_before += len(files)
        files_after += 1
    return Compaction(days, files_before, files_after, time.perf_counter() - started)


def read_lake(lake: str | os.PathLike[str], days: Sequence[dt.date] | None = None) -> pa.Table:
    """Read events back (all days, or only ``days``) — for tests and small tools."""
    pa = _pyarrow()
    root = Path(lake)
    files = sorted(root.glob(f"{PARTITION_COLUMN}=*/*.parquet"))
    if days is not None:
        wanted = {f"{PARTITION_COLUMN}={d.strftime(PARTITION_FORMAT)}" for d in days}
        files = [f for f in files if f.parent.name in wanted]
    if not files:
        return arrow_schema().empty_table()
    return pa.concat_tables([pa.parquet.read_table(f, schema=arrow_schema()) for f in files])
