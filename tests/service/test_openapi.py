"""``/openapi.json`` is the contract: every route documents each status it can answer,
each with a schema, and what the service really answers matches the documented schema.

The first test reads the document; the second drives every route into every status it
can answer (faults come from ports that fail, as a backend outage or a bug would) and
validates each body against the schema the document gives for that route and status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.service.test_wavebuilder import WAVEBUILDER_CONTRACT, drive_wavebuilder_contract
from wavekit.analytics import RefreshReport, generate_traffic
from wavekit.errors import BackendError
from wavekit.ports import JobStatus
from wavekit.runtime import Runtime
from wavekit.service import api
from wavekit.service.leaderboards import LeaderboardService
from wavekit.settings import Settings

TOKEN = "contract-admin-token"
SPEC = {"frequencies": [440], "duration": 0.05, "sample_rate": 8000}
JSON = "application/json"

CONTRACT: dict[tuple[str, str], set[int]] = {
    ("post", "/waves"): {202, 400, 409, 413, 422, 429, 500, 503},
    ("get", "/waves/{request_id}"): {200, 404, 422, 500, 503},
    ("get", "/waves/{request_id}/download"): {303, 404, 409, 410, 422, 500, 503},
    ("get", "/files/{token}"): {200, 404, 410, 422, 500, 503},
    ("get", "/waves/{request_id}/chunks/{offset_num}"): {200, 404, 409, 410, 416, 422, 500, 503},
    ("get", "/leaderboards/{board}"): {200, 404, 422, 500, 503},
    ("post", "/leaderboards/refresh"): {200, 202, 401, 403, 413, 422, 500, 503},
    ("get", "/health"): {200, 500, 503},
    **WAVEBUILDER_CONTRACT,
}
"""docs/design.md §4: each operation and every status it answers (500 is a bug's answer)."""

NOT_REACHABLE = {("get", "/files/{token}"): {422}}
"""Documented because the route has a parameter (so FastAPI would otherwise document its
own 422 body), but a free-text token never fails validation."""


def test_every_operation_documents_each_status_with_a_schema(tmp_path: Path) -> None:
    spec = _app(Settings(data_dir=tmp_path, worker_threads=0)).openapi()
    operations = {
        (method, path): operation
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    }
    assert set(operations) == set(CONTRACT)
    for key, operation in operations.items():
        responses = operation["responses"]
        assert {int(status) for status in responses} == CONTRACT[key], key
        for status, response in responses.items():
            code = int(status)
            if code == 303:
                assert "Location" in response["headers"], key
                continue
            content = response["content"]
            if code >= 400:
                assert content == {JSON: {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
            elif key == ("get", "/files/{token}"):
                assert content["audio/wav"]["schema"]["format"] == "binary"
            else:
                assert content[JSON]["schema"].get("$ref", "").startswith("#/components/schemas/")
            if code in (429, 503):
                assert "Retry-After" in response["headers"], (key, code)
    error_body = spec["components"]["schemas"]["ErrorBody"]
    assert set(error_body["required"]) == {"error", "message"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # ours replaces it


class Broken:
    """A port whose every call fails with ``error``: a backend outage or a bug."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return fail


class StartsInBackground(LeaderboardService):
    """Boards refreshed elsewhere, as on AWS (where the refresh function is started)."""

    runs_in_background = True

    def refresh(self, now: dt.datetime | None = None) -> RefreshReport:
        started = dt.datetime.now(dt.UTC)
        return RefreshReport((), started, started)


class Contract:
    """Calls the app and checks each answer against ``/openapi.json``."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.spec = client.get("/openapi.json").json()
        self.seen: dict[tuple[str, str], set[int]] = {key: set() for key in CONTRACT}

    def call(self, method: str, template: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method.upper(), url, follow_redirects=False, **kwargs)
        key = (method, template)
        documented = self.spec["paths"][template][method]["responses"]
        assert str(response.status_code) in documented, (key, response.status_code, response.text)
        self.seen[key].add(response.status_code)
        content = documented[str(response.status_code)].get("content", {})
        if response.status_code == 303:
            assert response.headers["location"]
        elif JSON in content:
            assert response.headers["content-type"].startswith(JSON)
            schema = {**content[JSON]["schema"], "components": self.spec["components"]}
            jsonschema.Draft202012Validator(schema).validate(response.json())
        else:
            assert response.headers["content-type"] == "audio/wav"
            assert response.content[:4] == b"RIFF"
        if response.status_code in (429, 503):
            assert int(response.headers["retry-after"]) >= 1
        return response


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(
        data_dir=tmp_path,
        worker_threads=0,
        admin_token=TOKEN,
        rate_limit_per_s=0.001,
        rate_limit_burst=20,
    )
    end = dt.datetime.now(dt.UTC)
    generate_traffic(300, 20, settings.lake_dir, seed=5, end=end)
    made = Runtime.local(settings)
    yield made
    made.close()


def _app(settings: Settings) -> FastAPI:
    return api.create_app(Runtime.local(settings))


def test_every_answer_is_documented_with_the_schema_it_follows(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(api.create_app(runtime), raise_server_exceptions=False) as client:
        contract = Contract(client)
        call = contract.call
        service = runtime.service

        def outage(port: str, method: str, template: str, url: str, **kwargs: Any) -> None:
            """503 when the port's backend is down, 500 when it has a bug."""
            for error, status in ((BackendError("down"), 503), (RuntimeError("bug"), 500)):
                with monkeypatch.context() as patched:
                    patched.setattr(service, port, Broken(error))
                    assert call(method, template, url, **kwargs).status_code == status

        # -- POST /waves
        waves = "/waves"
        accepted = call("post", waves, waves, json=SPEC).json()
        assert (
            call("post", waves, waves, content=b"{oops", headers={"content-type": JSON}).status_code
            == 400
        )
        assert call("post", waves, waves, json={**SPEC, "sample_rate": 1}).status_code == 422
        assert (
            call(
                "post", waves, waves, content=b" " * 70_000, headers={"content-type": JSON}
            ).status_code
            == 413
        )
        key = {"idempotency-key": "k-1"}
        call("post", waves, waves, json=SPEC, headers=key)
        assert (
            call("post", waves, waves, json={**SPEC, "duration": 0.06}, headers=key).status_code
            == 409
        )
        statuses = [
            call("post", waves, waves, json=SPEC, headers={"x-client-id": "greedy"}).status_code
            for _ in range(21)
        ]
        assert statuses == [202] * 20 + [429]
        outage("jobs", "post", waves, waves, json={**SPEC, "duration": 0.07})

        # -- GET /waves/{request_id}
        status_of = "/waves/{request_id}"
        request_id = accepted["request_id"]
        assert call("get", status_of, f"/waves/{request_id}").json()["status"] == "in_progress"
        assert call("get", status_of, "/waves/nope").status_code == 404
        assert call("get", status_of, "/waves/a.b").status_code == 422
        outage("jobs", "get", status_of, f"/waves/{request_id}")

        # -- GET /waves/{request_id}/download, then GET /files/{token}
        download = "/waves/{request_id}/download"
        assert call("get", download, f"/waves/{request_id}/download").status_code == 409
        while runtime.worker.run_once(max_messages=10):
            pass
        link = call("get", download, f"/waves/{request_id}/download").headers["location"]
        assert call("get", download, f"/waves/{request_id}/download").status_code == 410
        assert call("get", download, "/waves/nope/download").status_code == 404
        assert call("get", download, "/waves/a.b/download").status_code == 422
        outage("jobs", "get", download, f"/waves/{request_id}/download")

        files = "/files/{token}"
        assert call("get", files, link).status_code == 200
        assert call("get", files, "/files/abc.def").status_code == 410
        assert call("get", files, "/files/a%2Fb").status_code == 404
        outage("blobs", "get", files, link)

        # -- GET /waves/{request_id}/chunks/{offset_num}
        chunks = "/waves/{request_id}/chunks/{offset_num}"
        waiting = call("post", waves, waves, json={**SPEC, "duration": 0.08}).json()["request_id"]
        failed = call("post", waves, waves, json={**SPEC, "duration": 0.09}).json()["request_id"]
        assert call("get", chunks, f"/waves/{waiting}/chunks/0").json()["is_last"] is False
        service.jobs.transition(failed, [JobStatus.IN_PROGRESS], JobStatus.FAILED, error="boom")
        assert call("get", chunks, f"/waves/{failed}/chunks/0").status_code == 409
        assert call("get", status_of, f"/waves/{failed}").json()["error"] == "boom"
        while runtime.worker.run_once(max_messages=10):
            pass
        assert call("get", chunks, f"/waves/{waiting}/chunks/99").status_code == 416
        assert call("get", chunks, f"/waves/{waiting}/chunks/0").json()["is_last"] is True
        assert call("get", chunks, f"/waves/{waiting}/chunks/0").status_code == 410
        assert call("get", chunks, "/waves/nope/chunks/0").status_code == 404
        assert call("get", chunks, f"/waves/{waiting}/chunks/-1").status_code == 422
        outage("jobs", "get", chunks, f"/waves/{waiting}/chunks/0")

        # -- GET /leaderboards/{board} and POST /leaderboards/refresh
        board, refresh = "/leaderboards/{board}", "/leaderboards/refresh"
        url = "/leaderboards/frequencies_by_requests"
        admin = {"authorization": f"Bearer {TOKEN}"}
        assert call("get", board, url).json()["error"] == "not_computed"
        assert call("get", board, "/leaderboards/loudest").json()["error"] == "unknown_board"
        assert call("get", board, f"{url}?window=decade").status_code == 422
        assert call("post", refresh, refresh).status_code == 401
        assert (
            call("post", refresh, refresh, headers={"authorization": "x" * 600}).status_code == 422
        )
        assert (
            call("post", refresh, refresh, content=b" " * 70_000, headers=admin).status_code == 413
        )
        assert call("post", refresh, refresh, headers=admin).json()["status"] == "done"
        assert call("get", board, url).json()["board"] == "frequencies_by_requests"
        leaderboards = runtime.leaderboards
        assert leaderboards is not None
        with monkeypatch.context() as patched:
            patched.setattr(runtime, "leaderboards", StartsInBackground(leaderboards.cache, dict))
            assert call("post", refresh, refresh, headers=admin).status_code == 202
            patched.setattr(runtime, "leaderboards", None)  # no analytics extra
            assert call("get", board, url).status_code == 503
            assert call("post", refresh, refresh, headers=admin).status_code == 503
            patched.setattr(leaderboards, "cache", Broken(RuntimeError("bug")))
            patched.setattr(runtime, "leaderboards", leaderboards)
            assert call("get", board, url).status_code == 500
            assert call("post", refresh, refresh, headers=admin).status_code == 500
            patched.setattr(
                runtime, "settings", runtime.settings.model_copy(update={"admin_token": None})
            )
            assert call("post", refresh, refresh, headers=admin).status_code == 403

        drive_wavebuilder_contract(call, runtime, outage)

        # -- GET /health
        assert call("get", "/health", "/health").json()["status"] == "ok"
        outage("queue", "get", "/health", "/health")

    expected = {key: CONTRACT[key] - NOT_REACHABLE.get(key, set()) for key in CONTRACT}
    assert contract.seen == expected
