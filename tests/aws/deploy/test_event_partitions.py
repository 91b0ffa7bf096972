"""Event-time partitions on AWS, as locally (issue 13).

Firehose used to partition by arrival time (``!{timestamp:...}``), the local lake by the
event's UTC day, so day-level usage differed between the two near midnight. Now the
stream's dynamic partitioning takes ``dt`` from the event's ``ts`` with a JQ query. The
query is taken from the template and run (the ``jq`` package: the JQ library Firehose's
``JQ-1.6`` engine is) on events as :func:`event_to_json` sends them, a second (and a
millisecond) either side of midnight UTC, and compared with the local lake's layout.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jq
import pytest

from wavekit import deploy as d
from wavekit.backends.aws.firehose import event_to_json
from wavekit.events import RequestEvent, events_table, read_lake, write_lake_partitions

UTC = dt.UTC
MIDNIGHTS = [
    dt.datetime(2026, 1, 1, tzinfo=UTC),  # a new year
    dt.datetime(2028, 2, 29, tzinfo=UTC),  # a leap day
    dt.datetime(2026, 3, 29, tzinfo=UTC),  # Europe's clocks change that night; UTC does not
]
OFFSETS = [
    dt.timedelta(seconds=-1),
    dt.timedelta(milliseconds=-1),
    dt.timedelta(0),
    dt.timedelta(seconds=1),
]


@pytest.fixture(scope="module")
def destination() -> dict[str, Any]:
    stream = d.load_template()["Resources"]["EventsStream"]["Properties"]
    config: dict[str, Any] = stream["ExtendedS3DestinationConfiguration"]
    return config


def query_of(destination: dict[str, Any]) -> str:
    (processor,) = destination["ProcessingConfiguration"]["Processors"]
    assert processor["Type"] == "MetadataExtraction"
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
    assert parameters["JsonParsingEngine"] == "JQ-1.6"
    query: str = parameters["MetadataExtractionQuery"]
    return query


def firehose_prefix(destination: dict[str, Any], record: bytes) -> str:
    """The S3 prefix Firehose gives ``record``: the template's query run on it, its keys
    put into the template's prefix."""
    keys = jq.compile(query_of(destination)).input_text(record.decode()).first()
    prefix: str = destination["Prefix"]
    for name, value in keys.items():
        prefix = prefix.replace(f"!{{partitionKeyFromQuery:{name}}}", value)
    assert "!{" not in prefix, prefix
    return prefix


def event_at(ts: dt.datetime) -> RequestEvent:
    return RequestEvent(route="POST /waves", method="POST", status_code=202, latency_ms=3.0, ts=ts)


def test_the_stream_partitions_by_event_time_and_still_writes_parquet(
    destination: dict[str, Any],
) -> None:
    assert destination["DynamicPartitioningConfiguration"]["Enabled"] is True
    assert destination["Prefix"] == "events/dt=!{partitionKeyFromQuery:dt}/"
    assert "!{timestamp:" not in destination["Prefix"]  # not by arrival any more
    # records that cannot be partitioned go to the error prefix, which names the error type
    assert destination["ErrorOutputPrefix"].startswith("errors/!{firehose:error-output-type}/")
    conversion = destination["DataFormatConversionConfiguration"]
    assert conversion["Enabled"] is True
    assert "ParquetSerDe" in conversion["OutputFormatConfiguration"]["Serializer"]
    # Firehose wants at least 64 MB of buffer with dynamic partitioning
    assert destination["BufferingHints"]["SizeInMBs"] >= 64
    # and cannot switch it on in an existing stream: a changed name (a property whose
    # update requires replacement) makes CloudFormation replace a stream made before
    stream = d.load_template()["Resources"]["EventsStream"]["Properties"]
    assert stream["DeliveryStreamName"] == {"Fn::Sub": "wavekit-${Stage}-events"}


@pytest.mark.parametrize("midnight", MIDNIGHTS, ids=lambda m: m.date().isoformat())
def test_events_either_side_of_midnight_land_in_their_own_utc_day(
    destination: dict[str, Any], midnight: dt.datetime, tmp_path: Path
) -> None:
    events = [event_at(midnight + offset) for offset in OFFSETS]
    before, after = (midnight - dt.timedelta(days=1)).date(), midnight.date()
    on_aws = {e.event_id: firehose_prefix(destination, event_to_json(e)) for e in events}
    assert [on_aws[e.event_id] for e in events] == [
        f"events/dt={before:%Y-%m-%d}/",
        f"events/dt={before:%Y-%m-%d}/",
        f"events/dt={after:%Y-%m-%d}/",
        f"events/dt={after:%Y-%m-%d}/",
    ]
    # the local lake puts each of them in the same day
    lake = tmp_path / "events"
    write_lake_partitions(events_table(events), lake)
    for day in (before, after):
        local = set(read_lake(lake, [day]).column("event_id").to_pylist())
        assert local == {i for i, prefix in on_aws.items() if f"dt={day:%Y-%m-%d}/" in prefix}


def test_the_query_reads_ts_as_event_to_json_writes_it(destination: dict[str, Any]) -> None:
    """``ts`` is epoch milliseconds (what the Hive JSON SerDe reads as ``millis``); the
    query must not treat it as seconds, nor depend on the machine's time zone."""
    late = dt.datetime(2026, 6, 30, 23, 59, 59, 999_000, tzinfo=UTC)
    record = event_to_json(event_at(late))
    assert json.loads(record)["ts"] == 1_782_863_999_999
    assert firehose_prefix(destination, record) == "events/dt=2026-06-30/"
