"""The WaveBuilder routes and address pseudonyms on AWS: API Gateway v2 events (the
template's named routes, query strings in ``rawQueryString``) into the API function over
moto, the worker function in between, and what the template declares for both."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import soundfile as sf

from tests.aws.conftest import LambdaContext, http_event, sqs_event
from tests.aws.resources import BackendResources, delivered_lines, new_session
from tests.service.wavebuilder_client import wav_specs
from wavekit import handlers
from wavekit.backends.aws import event_from_json
from wavekit.deploy import load_template
from wavekit.handlers import api, worker

SOURCE_IP = "203.0.113.9"  # what http_event's requestContext carries
SALT = "a-deployment-salt-from-secrets-manager"
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024


def _routed(event: dict[str, Any], route_key: str) -> dict[str, Any]:
    """The event as the template's named route (not ``$default``) delivers it."""
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key
    return event


def _invoke(event: dict[str, Any]) -> tuple[int, dict[str, Any], int]:
    response = api.handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"]), len(json.dumps(response))


@pytest.fixture
def salt_secret(stack: BackendResources, monkeypatch: pytest.MonkeyPatch) -> str:
    arn = str(
        new_session()
        .client("secretsmanager")
        .create_secret(Name="wk-client-id-salt", SecretString=SALT)["ARN"]
    )
    monkeypatch.setenv("WAVEKIT_CLIENT_ID_SALT_SECRET", arn)
    return arn


def test_a_wavebuilder_download_through_api_gateway(
    stack: BackendResources, salt_secret: str
) -> None:
    specs = wav_specs(
        [440], 20.0, sample_rate=44_100, number_of_channels=2, bits_per_sample=24
    )  # 5.3 MB: two chunks of 4 MiB, the default (under the 6 MB response limit)
    posted = http_event("POST", "/wavebuilder/main", json.dumps(specs))
    posted["headers"]["content-type"] = "text/plain;charset=UTF-8"
    status, ids, _ = _invoke(_routed(posted, "POST /wavebuilder/main"))
    assert status == 200, ids

    def delivery(offset_num: int) -> tuple[int, dict[str, Any], int]:
        query = urlencode({**ids, "offset_num": offset_num})
        event = http_event("GET", "/wavebuilder/delivery", query=query)
        return _invoke(_routed(event, "GET /wavebuilder/delivery"))

    assert delivery(0)[:2] == (200, {"status": "in_progress"})
    session = new_session()
    assert worker.handler(sqs_event(session, stack.queue_url), LambdaContext()) == {
        "batchItemFailures": []
    }
    parts, sizes = [], []
    for offset_num in range(10):
        status, body, size = delivery(offset_num)
        assert (status, body["status"], body["offset_num"]) == (200, "ready", offset_num)
        parts.append(base64.b64decode(body["file"]))
        sizes.append(size)
        if body["isLast"]:
            break
    assert len(parts) == 2
    assert max(sizes) < LAMBDA_RESPONSE_LIMIT
    info = sf.info(io.BytesIO(b"".join(parts)))
    assert (info.frames, info.channels, info.subtype) == (20 * 44_100, 2, "PCM_24")
    status, body, _ = delivery(0)
    assert (status, body["error"]) == (410, "gone")

    events = [event_from_json(line) for line in delivered_lines(session, stack.lake_bucket)]
    routes = {(e.route, e.status_code) for e in events}
    assert ("POST /wavebuilder/main", 200) in routes
    assert ("GET /wavebuilder/delivery", 410) in routes
    posted_event = next(e for e in events if e.route == "POST /wavebuilder/main")
    assert (posted_event.request_id, posted_event.channels, posted_event.bits_per_sample) == (
        ids["request_id"],
        2,
        24,
    )
    downloads = [e for e in events if e.route.startswith("GET") and e.frequencies]
    assert {e.status_code for e in downloads} == {200}
    chunks = [e for e in downloads if e.bytes_out > 1024]  # polls answer a few bytes
    assert max(e.bytes_out for e in chunks) > 4 * 1024 * 1024  # base64 of 4 MiB
    assert len(chunks) == 2  # every answer carries its spec, the polls too (as /waves chunks)
    claims = [e for e in downloads if e.download_claim]
    # one claim, by the first (full, 4 MiB) chunk: what the specs board counts
    assert [e.bytes_out for e in claims] == [max(e.bytes_out for e in chunks)]


def test_callers_without_a_client_id_get_one_pseudonym_in_every_container(
    stack: BackendResources, salt_secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each container has its own /tmp (where a generated salt would differ); the secret
    makes the pseudonym of one address the same in all of them."""
    expected = "ip-" + hmac.new(SALT.encode(), SOURCE_IP.encode(), hashlib.sha256).hexdigest()[:12]
    session = new_session()
    ids = []
    for container in range(2):  # a new container: the salt comes from the secret again
        handlers.reset()
        monkeypatch.setenv("WAVEKIT_DATA_DIR", str(tmp_path / f"container-{container}"))
        status, body, _ = _invoke(
            http_event("POST", "/waves", {"frequencies": [440], "duration": 0.1})
        )
        assert status == 202, body
        ids.append(body["request_id"])
    named = _invoke(http_event("POST", "/waves", {"frequencies": [441]}, {"x-client-id": "me"}))
    events = [event_from_json(line) for line in delivered_lines(session, stack.lake_bucket)]
    by_request = {e.request_id: e.client_id for e in events}
    assert [by_request[i] for i in ids] == [expected, expected]
    assert by_request[named[1]["request_id"]] == "me"
    assert not any(SOURCE_IP in (e.client_id or "") for e in events)
    stored = session.client("dynamodb").get_item(
        TableName=stack.table, Key={"pk": {"S": ids[0]}}, ConsistentRead=True
    )["Item"]
    assert stored["client_id"]["S"] == expected  # the job table does not keep the address


def test_the_template_routes_and_salt(tmp_path: Path) -> None:
    from wavekit.runtime import Runtime
    from wavekit.service.api import create_app
    from wavekit.settings import Settings

    resources = load_template()["Resources"]
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
    }
    paths = create_app(Runtime.local(Settings(data_dir=tmp_path, worker_threads=0))).openapi()
    app_routes = {
        f"{method.upper()} {path}"
        for path, operations in paths["paths"].items()
        if path.startswith("/wavebuilder")
        for method in operations
    }
    assert app_routes == {"POST /wavebuilder/main", "GET /wavebuilder/delivery"}
    for key in app_routes:
        assert routes[key]["Target"] == {"Fn::Sub": "integrations/${ApiIntegration}"}
        assert routes[key]["ApiId"] == {"Ref": "HttpApi"}

    secret = resources["ClientIdSaltSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    env = resources["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert env["WAVEKIT_CLIENT_ID_SALT_SECRET"] == {"Ref": "ClientIdSaltSecret"}
    statements = resources["ApiRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    readable = [s["Resource"] for s in statements if s["Action"] == "secretsmanager:GetSecretValue"]
    assert readable == [[{"Ref": "AdminTokenSecret"}, {"Ref": "ClientIdSaltSecret"}]]
