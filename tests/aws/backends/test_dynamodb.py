"""The DynamoDB job table beyond the shared port contract: removed fields, guarded
updates, attempts on a missing job."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.aws.resources import BackendResources, new_session
from wavekit.backends import aws


def test_transitions_remove_fields_set_to_none(stack: BackendResources) -> None:
    from wavekit.ports import Job, JobStatus

    table = aws.DynamoJobTable(stack.table, boto3_session=new_session())
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    table.create(
        Job("r1", "f1", JobStatus.IN_PROGRESS, "{}", "c", now, now, error="first try failed")
    )
    done = table.transition("r1", [JobStatus.IN_PROGRESS], JobStatus.READY, bytes=10, error=None)
    assert done is not None
    assert (done.status, done.bytes, done.error) == (JobStatus.READY, 10, None)
    with pytest.raises(ValueError, match="spec_json"):
        table.transition("r1", [JobStatus.READY], JobStatus.FAILED, spec_json="{}")
    assert table.add_attempt("missing") == 0
