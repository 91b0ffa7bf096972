"""Fuzzing the live service: schemathesis from /openapi.json, hypothesis on raw bodies.

The properties: no input gets a 5xx, every 4xx is JSON naming what was wrong, and every
answer is one the document promises (its status, content type, headers and body schema),
so a client generated from /openapi.json can read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.service.conftest import LiveServer


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(
        tmp_path_factory.mktemp("fuzz") / "data",
        env={
            "WAVEKIT_MAX_DURATION_S": "0.5",  # valid specs stay cheap to synthesise
            "WAVEKIT_RATE_LIMIT_PER_S": "100000",
            "WAVEKIT_RATE_LIMIT_BURST": "100000",
        },
    ).start()
    yield server
    server.stop()


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.mark.slow
def test_no_server_errors_from_schemathesis(fuzz_server: LiveServer) -> None:
    """Every operation of /openapi.json, fuzzed (schemathesis' pytest plugin does not load
    under pytest 9, so its strategies are driven by hypothesis directly); each answer is
    checked against the document too."""
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/waves", "/waves/{request_id}/chunks/{offset_num}"}
    for operation in operations:

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            response = case.call(base_url=fuzz_server.url)
            case.validate_response(response, checks=CHECKS)
            if 400 <= response.status_code < 500:
                body = response.json()
                assert body.get("message") or body.get("detail"), body

        fuzz()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
spec_like = st.fixed_dictionaries(
    {"frequencies": st.lists(json_values, max_size=4)},
    optional={
        "volume": json_values,
        "duration": json_values,
        "sample_rate": json_values,
        "bits_per_sample": json_values,
        "number_of_channels": json_values,
        "fade_in": json_values,
        "dither": json_values,
    },
)


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(json_values, spec_like) | st.binary(max_size=200).map(lambda b: b))
def test_random_bodies_get_4xx_naming_the_field(fuzz_server: LiveServer, body: object) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()  # NaN → "NaN"
    response = httpx.post(
        f"{fuzz_server.url}/waves", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        payload = response.json()
        assert "error" in payload, (response.status_code, payload)
        assert payload["error"] in {"invalid_spec", "malformed_json", "payload_too_large"}
        assert payload["detail"], payload
        for problem in payload["detail"]:
            assert problem["field"]
            assert problem["message"]


def test_data_dir_is_never_served(fuzz_server: LiveServer, tmp_path: Path) -> None:
    for path in ["/files/..%2f..%2fwavekit.sqlite3", "/files/x.y", "/files/%2e%2e"]:
        response = httpx.get(f"{fuzz_server.url}{path}")
        assert response.status_code in (404, 410), path


def test_forged_download_tokens_are_refused(fuzz_server: LiveServer) -> None:
    for token in ["abc.def", "ü.ö", "eyJrZXkiOiJ4In0.bad", "", "."]:
        response = httpx.get(f"{fuzz_server.url}/files/{token}")
        assert response.status_code in (404, 410), (token, response.text)
