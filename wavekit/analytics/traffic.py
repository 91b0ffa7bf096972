"""Synthetic request-log traffic, written straight into the Parquet lake.

Realistic enough to make the boards and usage reports interesting: tone specs and
clients follow Zipf-like popularity, traffic has a diurnal and a weekly rhythm, each
accepted ``POST /waves`` is followed by status polls and usually one download (by the
same client, seconds later, with ``bytes_out`` equal to the WAV the spec implies, and
carrying that spec as the service logs it), and every route has its own latency
distribution, error codes and rare cold starts.

Everything is vectorised with numpy and pyarrow (no per-event Python), one batch per
day, so tens of millions of events take seconds; the same seed gives the same lake.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from wavekit.errors import MissingExtraError, ParameterError

if TYPE_CHECKING:
    import pyarrow as pa

POST_WAVES = "POST /waves"
GET_STATUS = "GET /waves/{request_id}"
GET_DOWNLOAD = "GET /waves/{request_id}/download"
GET_CHUNK = "GET /waves/{request_id}/chunks/{offset_num}"
GET_HEALTH = "GET /health"
GET_LEADERBOARD = "GET /leaderboards/{board}"

SHARE_POST, SHARE_POLL, SHARE_DOWNLOAD = 0.40, 0.30, 0.18
"""Shares of all events; health checks and leaderboard reads make up the rest."""
CHUNK_LIMIT = 4 * 1024 * 1024
WAV_HEADER_BYTES = 44 + 512  # RIFF/fmt/data headers + the LIST/INFO chunk carrying the spec
ORIGINS = ("https://studio.wavekit.example", "http://localhost:8888", None)
REGION = "us-east-1"
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_MS_PER_DAY = 86_400_000
_MS_PER_HOUR = 3_600_000


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.compute
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtraError("pyarrow", "analytics") from exc
    return pyarrow


@dataclass(frozen=True)
class TrafficSummary:
    """What :func:`generate_traffic` wrote."""

    events: int
    files: int
    start: dt.datetime
    end: dt.datetime
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


def zipf_weights(count: int, exponent: float) -> np.ndarray:
    """Probabilities ∝ 1 / rank**exponent: a few items get most of the traffic."""
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def uuid4_array(rng: np.random.Generator, count: int) -> pa.Array:
    """``count`` random RFC 4122 version-4 UUID strings, built without a Python loop."""
    pa = _pyarrow()
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.empty((count, 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 0x0F]
    text = np.full((count, 36), ord("-"), dtype=np.uint8)
    for target, source in ((0, 0), (9, 8), (14, 12), (19, 16), (24, 20)):
        width = {0: 8, 24: 12}.get(target, 4)
        text[:, target : target + width] = digits[:, source : source + width]
    offsets = np.arange(0, 36 * (count + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text.tobytes()))


@dataclass(frozen=True)
class _Catalog:
    """The tone specs and clients traffic is drawn from (fixed by the seed)."""

    frequencies: Any  # pa.ListArray, one list per spec
    waveforms: Any  # pa.ListArray of strings (null: all sines)
    sweep_ends: Any  # pa.ListArray of doubles (null: no sweep)
    noise: Any  # pa.StringArray (null: none)
    spec_hash: Any  # pa.StringArray, one sha256 hex per spec
    duration_s: np.ndarray
    sample_rate: np.ndarray
    bits: np.ndarray
    channels: np.ndarray
    volume: np.ndarray
    audio_bytes: np.ndarray
    spec_p: np.ndarray
    clients: Any  # pa.StringArray
    client_p: np.ndarray


def _catalog(rng: np.random.Generator, specs: int, clients: int) -> _Catalog:
    pa = _pyarrow()
    keys = np.arange(0, 76)  # piano keys A0 .. C7: below Nyquist at every sample rate
    notes = 440.0 * 2.0 ** ((keys - 48) / 12.0)
    favourites = [48, 39, 43, 46, 41, 44, 50, 36, 51, 55, 34, 31]  # A4 C4 E4 G4 D4 F4 B4 ...
    others = rng.permutation(np.setdiff1d(keys, favourites))
    note_order = notes[np.concatenate([favourites, others])]
    note_p = zipf_weights(len(note_order), 1.1)

    sizes = rng.choice([1, 2, 3, 4], size=specs, p=[0.5, 0.2, 0.2, 0.1])
    values = note_order[rng.choice(len(note_order), size=int(sizes.sum()), p=note_p)]
    # Issue 14's kinds: a spec in 20 is a log sweep (20 Hz .. 20 kHz, or an octave from a
    # note), one in 50 is noise alone; of the rest, one in five has a non-sine partial and
    # one in ten has noise mixed in. Rare enough that the popular specs stay sines.
    kind = rng.choice(3, size=specs, p=[0.93, 0.05, 0.02])  # tone, sweep, noise alone
    sizes = np.where(kind == 0, sizes, np.where(kind == 1, 1, 0))
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
    values = values[: int(sizes.sum())]
    wave_names = np.array(["sine", "square", "triangle", "sawtooth"])
    waves = wave_names[rng.choice(4, size=len(values), p=[0.55, 0.25, 0.1, 0.1])]
    shaped = (kind == 0) & (rng.random(specs) < 0.2)
    waveforms, sweep_ends, frequency_lists = [], [], []
    for index in range(specs):
        own = slice(starts[index], starts[index + 1])
        freqs = [float(f) for f in values[own]]
        if kind[index] == 1 and rng.random() < 0.6:
            freqs, ends = [20.0], [20_000.0]
        else:
            ends = [2.0 * f for f in freqs]
        frequency_lists.append(freqs)
        sweep_ends.append(ends if kind[index] == 1 else None)
        shapes = [str(w) for w in waves[own]] if shaped[index] else []
        waveforms.append(shapes if any(w != "sine" for w in shapes) else None)
    frequencies = pa.array(frequency_lists, pa.list_(pa.float64()))
    colours = np.array(["white", "pink", "brown"])[rng.choice(3, size=specs, p=[0.3, 0.5, 0.2])]
    noisy = (kind == 2) | ((kind == 0) & (rng.random(specs) < 0.1))

    duration = rng.choice([0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0], size=specs,
                          p=[0.1, 0.25, 0.2, 0.15, 0.12, 0.1, 0.05, 0.03])  # fmt: skip
    rate = rng.choice([8000, 22050, 44100, 48000, 96000], size=specs,
                      p=[0.05, 0.1, 0.5, 0.3, 0.05])  # fmt: skip
    bits = rng.choice([8, 16, 24, 32], size=specs, p=[0.05, 0.6, 0.25, 0.1])
    channels = rng.choice([1, 2], size=specs, p=[0.55, 0.45])
    volume = rng.choice([0.25, 0.5, 0.8, 1.0], size=specs, p=[0.2, 0.4, 0.3, 0.1])
    audio = np.round(duration * rate).astype(np.int64) * channels * (bits // 8)

    names = np.char.add("client-", np.char.zfill(np.arange(1, clients + 1).astype(str), 5))
    seed_text = str(rng.integers(0, 2**62))  # spec hashes differ between seeds
    return _Catalog(
        frequencies=frequencies,
        waveforms=pa.array(waveforms, pa.list_(pa.string())),
        sweep_ends=pa.array(  # below Nyquist at the spec's own rate
            [
                None if e is None else [min(x, 0.45 * float(r)) for x in e]
                for e, r in zip(sweep_ends, rate, strict=True)
            ],
            pa.list_(pa.float64()),
        ),
        noise=pa.array([str(c) if n else None for c, n in zip(colours, noisy, strict=True)]),
        spec_hash=pa.array(
            [hashlib.sha256(f"{seed_text}/{index}".encode()).hexdigest() for index in range(specs)]
        ),
        duration_s=duration,
        sample_rate=rate.astype(np.int32),
        bits=bits.astype(np.int32),
        channels=channels.astype(np.int32),
        volume=volume,
        audio_bytes=audio,
        spec_p=zipf_weights(specs, 1.2),
        clients=pa.array(names.tolist(), pa.string()),
        client_p=zipf_weights(clients, 1.1),
    )


def _diurnal_hours(rng: np.random.Generator, count: int, first_hour: int) -> np.ndarray:
    """Hour offsets 0..23 within a day batch, busiest around 15:00 UTC, quietest at 03:00."""
    utc_hour = (first_hour + np.arange(24)) % 24
    weights = 1.0 + 0.75 * np.cos(2 * np.pi * (utc_hour - 15) / 24)
    return rng.choice(24, size=count, p=weights / weights.sum())


def _strings(values: tuple[str | None, ...], indices: np.ndarray) -> pa.Array:
    pa = _pyarrow()
    dictionary = pa.array(list(values), pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), dictionary).cast(
        pa.string()
    )


def _lognormal_ms(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return np.asarray(rng.lognormal(np.log(median), sigma, size=n), dtype=np.float64)


def _part(columns: dict[str, Any], count: int) -> pa.Table:
    """A table with the contract's schema; columns not given are null."""
    pa = _pyarrow()
    from wavekit.events import arrow_schema

    schema = arrow_schema()
    arrays = []
    for item in schema:
        value = columns.get(item.name)
        if value is None:
            arrays.append(pa.nulls(count, item.type))
        elif isinstance(value, np.ndarray):
            arrays.append(pa.array(value, item.type))
        else:
            arrays.append(value.cast(item.type) if value.type != item.type else value)
    return pa.Table.from_arrays(arrays, schema=schema)


def _spec_columns(catalog: _Catalog, spec: pa.Array) -> dict[str, Any]:
    """The tone columns of the specs at ``spec`` (catalog indices; a null index, a null spec)."""
    pa = _pyarrow()
    columns = {
        "duration_s": catalog.duration_s,
        "sample_rate": catalog.sample_rate,
        "bits_per_sample": catalog.bits,
        "channels": catalog.channels,
        "volume": catalog.volume,
    }
    return {
        "frequencies": catalog.frequencies.take(spec),
        "waveforms": catalog.waveforms.take(spec),
        "sweep_ends": catalog.sweep_ends.take(spec),
        "noise": catalog.noise.take(spec),
        "spec_hash": catalog.spec_hash.take(spec),
        **{name: pa.array(values).take(spec) for name, values in columns.items()},
    }


def traffic_table(
    rng: np.random.Generator,
    count: int,
    start: dt.datetime,
    end: dt.datetime,
    catalog: _Catalog,
    *,
    specs_since: dt.datetime | None = None,
) -> pa.Table:
    """``count`` events in the day from ``start`` (none at or after ``end``), unordered.

    Successful downloads at or after ``specs_since`` (all when None) carry their spec.
    """
    pa = _pyarrow()
    pc = pa.compute
    start_ms = int(start.timestamp() * 1000)
    end_ms = int(end.timestamp() * 1000)
    specs_since_ms = -(2**62) if specs_since is None else int(specs_since.timestamp() * 1000)
    span_ms = min(_MS_PER_DAY, end_ms - start_ms)

    def stamps(n: int) -> np.ndarray:
        hours = _diurnal_hours(rng, n, start.hour)
        ms = start_ms + hours * _MS_PER_HOUR + rng.integers(0, _MS_PER_HOUR, size=n)
        return np.minimum(ms, start_ms + span_ms - 1)

    n_post = int(count * SHARE_POST)
    n_poll = int(count * SHARE_POLL)
    n_download = int(count * SHARE_DOWNLOAD)

    # POST /waves: the spec and the client follow Zipf-like popularity.
    post_ts = stamps(n_post)
    spec = rng.choice(len(catalog.spec_p), size=n_post, p=catalog.spec_p)
    client = rng.choice(len(catalog.client_p), size=n_post, p=catalog.client_p)
    outcome = rng.choice(4, size=n_post, p=[0.955, 0.03, 0.01, 0.005])
    post_status = np.array([202, 422, 429, 500], dtype=np.int32)[outcome]
    post_error = _strings((None, "invalid_spec", "throttled", "internal"), outcome)
    accepted = np.flatnonzero(outcome == 0)
    request_ids = uuid4_array(rng, n_post)
    request_ids = pc.if_else(pa.array(outcome == 0), request_ids, pa.nulls(n_post, pa.string()))
    origin_idx = rng.choice(3, size=n_post, p=[0.5, 0.3, 0.2])
    post_clients = catalog.clients.take(pa.array(client))
    posts = _part(
        {
            "ts": post_ts,
            "route": _strings((POST_WAVES,), np.zeros(n_post, dtype=np.int32)),
            "method": _strings(("POST",), np.zeros(n_post, dtype=np.int32)),
            "status_code": post_status,
            "latency_ms": _lognormal_ms(rng, 6.0, 0.5, n_post),
            "request_id": request_ids,
            "client_id": post_clients,
            "origin": _strings(ORIGINS, origin_idx),
            **_spec_columns(catalog, pa.array(spec)),
            "bytes_out": np.where(outcome == 0, 180 + rng.integers(0, 40, n_post), 120),
            "error_code": post_error,
        },
        n_post,
    )

    parts = [posts]
    if len(accepted):
        # Status polls: same client and request, within a second or two.
        parent = accepted[rng.integers(0, len(accepted), size=n_poll)]
        found = rng.random(n_poll) < 0.99
        polls = _part(
            {
                "ts": post_ts[parent] + 50 + rng.exponential(800, n_poll).astype(np.int64),
                "route": _strings((GET_STATUS,), np.zeros(n_poll, dtype=np.int32)),
                "method": _strings(("GET",), np.zeros(n_poll, dtype=np.int32)),
                "status_code": np.where(found, 200, 404).astype(np.int32),
                "latency_ms": _lognormal_ms(rng, 2.5, 0.4, n_poll),
                "request_id": request_ids.take(pa.array(parent)),
                "client_id": post_clients.take(pa.array(parent)),
                "origin": _strings(ORIGINS, origin_idx[parent]),
                "bytes_out": np.where(found, 260, 90),
                "error_code": _strings((None, "not_found"), (~found).astype(np.int32)),
            },
            n_poll,
        )
        parts.append(polls)

        # Downloads: at most one per accepted request, seconds after it. A successful one
        # carries the spec it downloads, as the service logs it (older events did not).
        n_download = min(n_download, len(accepted))
        parent = accepted[rng.permutation(len(accepted))[:n_download]]
        size = catalog.audio_bytes[spec[parent]] + WAV_HEADER_BYTES
        ok = rng.random(n_download) < 0.97
        chunked = (rng.random(n_download) < 0.3) & (size <= CHUNK_LIMIT)
        body = np.where(chunked, (size + 2) // 3 * 4 + 80, size)
        download_ts = post_ts[parent] + 200 + rng.exponential(20_000, n_download).astype(np.int64)
        carried = ok & (download_ts >= specs_since_ms)
        download_spec = pa.array(spec[parent], mask=~carried)
        downloads = _part(
            {
                **_spec_columns(catalog, download_spec),
                "ts": download_ts,
                "route": _strings((GET_DOWNLOAD, GET_CHUNK), chunked.astype(np.int32)),
                "method": _strings(("GET",), np.zeros(n_download, dtype=np.int32)),
                "status_code": np.where(ok, 200, 410).astype(np.int32),
                "latency_ms": 4.0 + body / 150_000.0 * _lognormal_ms(rng, 1.0, 0.2, n_download),
                "request_id": request_ids.take(pa.array(parent)),
                "client_id": post_clients.take(pa.array(parent)),
                "origin": _strings(ORIGINS, origin_idx[parent]),
                "bytes_out": np.where(ok, body, 90),
                "error_code": _strings((None, "expired"), (~ok).astype(np.int32)),
                # one download per request here, so each successful one claims it
                "download_claim": ok,
            },
            n_download,
        )
        parts.append(downloads)
    else:
        n_poll = n_download = 0

    # The rest: health checks (monitoring, no client) and leaderboard reads.
    n_misc = count - n_post - n_poll - n_download
    board = rng.random(n_misc) < 0.42
    missing = board & (rng.random(n_misc) < 0.02)
    misc_clients = catalog.clients.take(
        pa.array(rng.choice(len(catalog.client_p), size=n_misc, p=catalog.client_p))
    )
    misc = _part(
        {
            "ts": stamps(n_misc),
            "route": _strings((GET_HEALTH, GET_LEADERBOARD), board.astype(np.int32)),
            "method": _strings(("GET",), np.zeros(n_misc, dtype=np.int32)),
            "status_code": np.where(missing, 404, 200).astype(np.int32),
            "latency_ms": np.where(
                board, _lognormal_ms(rng, 1.5, 0.3, n_misc), _lognormal_ms(rng, 0.4, 0.3, n_misc)
            ),
            "client_id": pc.if_else(pa.array(board), misc_clients, pa.nulls(n_misc, pa.string())),
            "origin": _strings(ORIGINS, np.where(board, 0, 2)),
            "bytes_out": np.where(board, np.where(missing, 90, 1400), 40),
            "error_code": _strings((None, "unknown_board"), missing.astype(np.int32)),
        },
        n_misc,
    )
    parts.append(misc)

    table = pa.concat_tables(parts)
    # Every event: its own id, the region, and rare cold starts that cost ~0.25-0.9 s.
    cold = rng.random(count) < 0.004
    latency = table["latency_ms"].to_numpy() + np.where(cold, rng.uniform(250, 900, count), 0)
    ts = np.minimum(table["ts"].cast(pa.int64()).to_numpy(), end_ms - 1)
    table = table.set_column(1, "ts", pa.array(ts.astype("datetime64[ms]"), pa.timestamp("ms")))
    table = table.set_column(1, "ts", table["ts"].cast(pa.timestamp("ms", tz="UTC")))
    table = table.set_column(5, "latency_ms", pa.array(np.round(latency, 3)))
    table = table.set_column(0, "event_id", uuid4_array(rng, count))
    table = table.set_column(17, "region", pa.array(np.full(count, REGION), pa.string()))
    table = table.set_column(18, "cold_start", pa.array(cold))
    # download_claim is false on every other event, null on events from before it existed.
    claim = pc.fill_null(table["download_claim"], False)
    newer = pa.array(ts >= specs_since_ms)
    claim = pc.if_else(newer, claim, pa.nulls(count, pa.bool_()))
    # unordered: write_lake_partitions puts the events in the lake's order
    return table.set_column(table.schema.get_field_index("download_claim"), "download_claim", claim)


def pa_timestamp(moment: dt.datetime) -> pa.Scalar:
    """An aware datetime as an Arrow scalar of the events' ``ts`` type."""
    pa = _pyarrow()
    return pa.scalar(int(moment.timestamp() * 1000), pa.timestamp("ms", tz="UTC"))


def _day_weights(rng: np.random.Generator, first: dt.datetime, days: int) -> np.ndarray:
    """Weekends are quieter; traffic grows slowly; each day has some noise."""
    weekday = np.array([(first + dt.timedelta(days=i)).weekday() for i in range(days)])
    weights = np.where(weekday >= 5, 0.7, 1.0) * np.linspace(0.8, 1.2, days)
    weights *= rng.uniform(0.9, 1.1, days)
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def generate_traffic(
    events: int,
    days: int,
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    end: dt.datetime | None = None,
    specs: int = 500,
    clients: int | None = None,
    batch_events: int = 2_000_000,
    specs_on_downloads_since: dt.datetime | None = None,
) -> TrafficSummary:
    """Write ``events`` synthetic events spread over the ``days`` before ``end`` into a lake.

    Parameters
    ----------
    events
        Exact number of events to write.
    days
        How many days they span; the lake gets one ``dt=`` partition per UTC day.
    out
        The lake directory (created if needed).
    seed
        Same seed, same events.
    end
        Exclusive end of the traffic (aware); midnight UTC today when omitted.
    specs, clients
        Sizes of the tone-spec and client populations (clients default to events/200,
        between 50 and 20 000).
    batch_events
        Most events built in memory at once: a busier day is written in several parts
        (files), so 100 M events need no more memory than 2 M.
    specs_on_downloads_since
        Successful downloads from then on carry the spec they download (the service logs
        it since events gained it); earlier ones leave it null, like older lakes. None:
        all of them carry it.

    Returns
    -------
    TrafficSummary
        Counts, span and the time taken.
    """
    from wavekit.events import write_lake_partitions

    if events < 0 or days < 1 or batch_events < 1:
        raise ParameterError(
            f"need events >= 0, days >= 1 and batch_events >= 1, got events={events}, "
            f"days={days}, batch_events={batch_events}"
        )
    if end is None:
        end = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if end.tzinfo is None or end.utcoffset() is None:
        raise ParameterError(f"end {end.isoformat()} has no time zone; pass an aware one")
    end = end.astimezone(dt.UTC)
    start = end - dt.timedelta(days=days)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    population = clients if clients is not None else min(20_000, max(50, events // 200))
    catalog = _catalog(rng, specs, population)
    per_day = rng.multinomial(events, _day_weights(rng, start, days))
    files = 0
    Path(out).mkdir(parents=True, exist_ok=True)
    late: pa.Table | None = None  # events after midnight (downloads, polls): the next day's
    pc = _pyarrow().compute
    for index, count in enumerate(per_day):
        day_start = start + dt.timedelta(days=index)
        day_end = pa_timestamp(day_start + dt.timedelta(days=1))
        parts = max(1, -(-int(count) // batch_events))
        bounds = [int(count) * i // parts for i in range(parts + 1)]
        for part in range(parts):
            table = traffic_table(
                rng,
                bounds[part + 1] - bounds[part],
                day_start,
                end,
                catalog,
                specs_since=specs_on_downloads_since,
            )
            if late is not None:  # a day's events in one file per batch, as compacted
                table = _pyarrow().concat_tables([late, table])
            after = pc.greater_equal(table["ts"], day_end)
            late = table.filter(after)
            name = f"traffic-{seed}-{index:05d}" + (f"-{part:03d}" if parts > 1 else "")
            files += len(write_lake_partitions(table.filter(pc.invert(after)), out, name))
    if late is not None and late.num_rows:
        files += len(write_lake_partitions(late, out, f"traffic-{seed}-late"))
    return TrafficSummary(events, files, start, end, time.perf_counter() - started)
