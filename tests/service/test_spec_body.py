"""``POST /waves`` validates a good body once (ADR 0007, third round): the spec it builds
must be the very ``ToneSpec`` that ``ToneSpec.model_validate_json`` builds, and a bad
body must still fail as before."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.routing import Match

from wavekit.audio.spec import ToneSpec
from wavekit.ports import Job, JobStatus
from wavekit.runtime import Runtime
from wavekit.service import api
from wavekit.service.api.routes import waves
from wavekit.service.api.schemas import WaveAccepted
from wavekit.service.api.spec_body import _VALIDATE_ONCE
from wavekit.settings import Settings

GOOD = [
    b'{"frequencies":[440.25],"duration":0.05}',
    b'{"frequencies":["A4","C#5+15c","midi:60","1.5kHz"],"volume":"-6dB"}',
    b'{"frequencies":[{"freq":220,"amplitude":0.5,"waveform":"square","channel":1}],'
    b'"number_of_channels":2,"bits_per_sample":"float32","fade_in":0,"dither":false}',
    b'{"frequencies":[{"freq":100,"freq_end":1000,"sweep":"log"}],"sample_rate":8000,'
    b'"bits_per_sample":24}',
    b'{"frequencies":[],"noise":{"color":"pink","amplitude":0.2},"duration":1}',
    b'{"frequencies":[440],"bits_per_sample":8,"dither":true,"fade_out":0.5}',
]
BAD = [
    b'{"frequencies":[-1]}',
    b'{"frequencies":[440],"volume":"+3dB"}',
    b'{"frequencies":[440],"sample_rate":1}',
    b'{"frequencies":[{"freq":440,"channel":5}],"number_of_channels":2}',
    b'{"frequencies":"A4"',
    b"[]",
]


@pytest.mark.parametrize("body", GOOD)
def test_a_good_body_gives_the_same_spec_as_the_model(body: bytes) -> None:
    once = _VALIDATE_ONCE.validate_json(body)
    model = ToneSpec.model_validate_json(body)
    assert type(once) is ToneSpec
    assert once == model
    assert once.model_fields_set == model.model_fields_set
    assert once.canonical_json() == model.canonical_json()
    assert once.spec_hash == model.spec_hash


@pytest.mark.parametrize("body", BAD)
def test_a_bad_body_fails_both_ways(body: bytes) -> None:
    with pytest.raises(ValidationError):
        _VALIDATE_ONCE.validate_json(body)
    with pytest.raises(ValidationError):
        ToneSpec.model_validate_json(body)


def test_post_waves_is_served_by_the_documented_endpoint(tmp_path: Path) -> None:
    """``POST /waves`` is served by a Starlette route ahead of FastAPI's (ADR 0007, fourth
    round): it must be the first match and call the very function the OpenAPI operation
    documents, so what is served is what is documented."""
    runtime = Runtime.local(Settings(data_dir=tmp_path, worker_threads=0))
    try:
        app = api.create_app(runtime)
        scope = {"type": "http", "method": "POST", "path": "/waves", "root_path": ""}
        served = next(r for r in app.router.routes if r.matches(scope)[0] is Match.FULL)
        documented = next(
            r for r in waves.router.routes if isinstance(r, APIRoute) and r.path == "/waves"
        )
        assert not isinstance(served, APIRoute)
        assert served.endpoint is documented.endpoint  # type: ignore[attr-defined]
        operation = app.openapi()["paths"]["/waves"]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ToneSpec"
        }
    finally:
        runtime.close()


@pytest.mark.parametrize("status", [JobStatus.IN_PROGRESS, JobStatus.READY])
def test_the_202_body_is_the_documented_answer_with_the_job_links(status: JobStatus) -> None:
    """The 202 is formatted by hand on the hot path (ADR 0007); it must stay byte for byte
    what FastAPI would send for ``WaveAccepted`` with the links ``GET /waves/{id}`` gives."""
    now = dt.datetime.now(dt.UTC)
    job = Job(os.urandom(16).hex(), os.urandom(32).hex(), status, "{}", "c", now, now)
    documented = WaveAccepted(
        request_id=job.request_id,
        file_id=job.file_id,
        status=job.status,
        links=waves._links(job.request_id),  # type: ignore[arg-type]
    )
    assert waves._accepted_body(job) == JSONResponse(documented.model_dump(mode="json")).body
