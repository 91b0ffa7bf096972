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

PARTITION_COLUMN = "dt"
PARTITION_FORMAT = "%Y-%m-%d"


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
        ]
    )


def events_table(events: Iterable[RequestEvent]) -> pa.Table:
    """Events as an Arrow table with the contract schema."""
    pa = _pyarrow()
    return pa.Table.from_pylist([e.to_record() for e in events], schema=arrow_schema())


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
        target = directory / f"{basename}.parquet"
        temporary = directory / f".{basename}.parquet.tmp"
        pa.parquet.write_table(part, temporary, compression="zstd")
        os.replace(temporary, target)
        written.append(target)
    return written


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
