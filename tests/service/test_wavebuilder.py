"""The WaveBuilder compatibility routes, driven by a client written only from seed 000
(``wavebuilder_client.py``) over real HTTP against ``wavekit serve``; the file it gets is
read by soundfile and by SoX and its tone measured with scipy.

``drive_wavebuilder_contract`` is called by ``test_openapi.py``: it drives both routes
into every status they document and checks each body against ``/openapi.json``.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.signal import find_peaks, periodogram

from tests.service.conftest import LiveServer
from tests.service.wavebuilder_client import (
    DeliveryRefusedError,
    Requested,
    WaveBuilderClient,
    wav_specs,
)
from wavekit.ports import JobStatus
from wavekit.runtime import Runtime

MAIN, DELIVERY = "/wavebuilder/main", "/wavebuilder/delivery"


def seed_client(server: LiveServer, http: httpx.Client | None = None) -> WaveBuilderClient:
    return WaveBuilderClient(
        http or httpx.Client(timeout=30), server.url + MAIN, server.url + DELIVERY
    )


def _peaks_hz(samples: np.ndarray, rate: int, count: int) -> list[float]:
    """The ``count`` strongest spectral peaks of the first channel, in Hz."""
    freqs, power = periodogram(samples[:, 0], fs=rate)
    found, _ = find_peaks(power, distance=max(1, int(2 / (freqs[1] - freqs[0]))))
    strongest = found[np.argsort(power[found])[-count:]]
    return sorted(float(freqs[i]) for i in strongest)


def test_a_seed_client_downloads_a_20_s_stereo_24_bit_file(
    live_server: LiveServer, tmp_path: Path
) -> None:
    client = seed_client(live_server)
    specs = wav_specs(
        [440, 445], 20.0, volume=0.5, sample_rate=44_100, number_of_channels=2, bits_per_sample=24
    )
    requested = client.request(specs)  # as a text/plain string, nested: as the seed's frontend
    assert re.fullmatch(r"[0-9a-f]{32}", requested.request_id)
    data = client.download(requested)
    path = tmp_path / "wavebuilder.wav"
    path.write_bytes(data)

    info = sf.info(str(path))
    assert (info.frames, info.channels, info.samplerate) == (20 * 44_100, 2, 44_100)
    assert info.subtype == "PCM_24"
    samples, rate = sf.read(str(path), always_2d=True)
    assert np.allclose(samples[:, 0], samples[:, 1])
    assert 0.45 < np.abs(samples).max() <= 0.5 + 1e-6  # volume is the peak of the mix
    # 20 s resolve 0.05 Hz: both partials of the seed's "440 and 445 at the same time"
    assert _peaks_hz(samples, rate, 2) == pytest.approx([440.0, 445.0], abs=0.1)

    sox_info = subprocess.run(["sox", "--i", str(path)], capture_output=True, text=True, check=True)
    assert re.search(r"Channels\s*:\s*2\b", sox_info.stdout)
    assert re.search(r"Sample Rate\s*:\s*44100\b", sox_info.stdout)
    assert re.search(r"Precision\s*:\s*24-bit", sox_info.stdout)
    assert re.search(r"Duration\s*:\s*00:00:20\.00 = 882000 samples", sox_info.stdout)
    stat = subprocess.run(
        ["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True
    ).stderr
    fields = dict(re.findall(r"^(.+?):\s+(\S+)$", stat, re.MULTILINE))
    assert int(fields["Samples read"]) == 2 * 20 * 44_100
    assert float(fields["Maximum amplitude"]) == pytest.approx(0.5, abs=0.01)

    # download-once: the same client asking again is told, with 410
    again = client.deliver(requested, 0)
    assert again.status_code == 410
    assert again.json()["error"] == "gone"
    assert "already downloaded" in again.json()["message"]


def test_every_body_shape_names_the_same_file(live_server: LiveServer) -> None:
    """Flat or nested, JSON or text/plain, or the JSON sent as a JSON string: one spec,
    one file (``file_id`` is the spec's hash)."""
    client = seed_client(live_server)
    nested = wav_specs([523.25], 0.2, sample_rate=8000, number_of_channels=2)
    flat = {**nested["wav_data"], **nested["wav_spec"]}
    ids = [
        client.request(nested).file_id,
        client.request(nested, as_string=False).file_id,
        client.request(flat).file_id,
        client.request(flat, as_string=False).file_id,
        client.http.post(client.main_url, json=json.dumps(nested)).json()["file_id"],
        client.http.post(client.main_url, content=json.dumps(flat)).json()["file_id"],
    ]
    assert len(set(ids)) == 1
    # and it is the file POST /waves names for that spec
    waves = httpx.post(live_server.url + "/waves", json=flat).json()
    assert waves["file_id"] == ids[0]
    data = client.download(client.request(nested))
    assert sf.info(io.BytesIO(data)).channels == 2


def test_bad_input_gets_a_4xx_naming_the_field_and_the_limit(live_server: LiveServer) -> None:
    post = seed_client(live_server).http.post
    url = live_server.url + MAIN
    text = {"content-type": "text/plain"}

    bad_depth = wav_specs([440], 1.0, bits_per_sample=12)
    response = post(url, content=json.dumps(bad_depth), headers=text)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_spec"
    assert response.json()["detail"][0]["field"] == "wav_spec.bits_per_sample"

    too_long = wav_specs([440], 600.0)
    detail = post(url, content=json.dumps(too_long), headers=text).json()["detail"]
    assert detail == [
        {"field": "wav_data.duration", "message": "must be at most 60 s in the service (got 600)"}
    ]
    above_nyquist = {"frequencies": [5000], "sample_rate": 8000, "duration": 1}
    problem = post(url, json=above_nyquist).json()["detail"][0]
    assert problem["field"] == "frequencies[0].freq"
    assert "4000" in problem["message"]

    twice = {**wav_specs([440], 1.0), "duration": 2}
    response = post(url, json=twice)
    assert (response.status_code, response.json()["detail"][0]["field"]) == (
        422,
        "wav_data.duration",
    )
    missing = {"wav_data": {"duration": 1}}
    assert post(url, json=missing).json()["detail"][0]["field"] == "wav_data.frequencies"
    unknown = wav_specs([440], 1.0)
    unknown["wav_spec"]["bit_depth"] = 16
    assert post(url, json=unknown).json()["detail"][0] == {
        "field": "wav_spec.bit_depth",
        "message": "is not a known field",
    }
    for body in (b"{oops", b"\xff\xfe", b"[1, 2]", b'"not a spec"', b"[" * 60_000):
        response = post(url, content=body, headers=text)
        assert response.status_code in (400, 422), body
        assert response.json()["detail"][0]["field"] == "body", body
    assert post(url, content=b" " * 70_000, headers=text).status_code == 413


def test_unknown_requests_and_wrong_file_ids_are_404(live_server: LiveServer) -> None:
    client = seed_client(live_server)
    requested = client.request(wav_specs([440], 0.1, sample_rate=8000))
    wrong = client.deliver(Requested(requested.request_id, "0" * 64), 0)
    assert wrong.status_code == 404
    assert wrong.json()["message"].startswith("file_id:")
    unknown = client.deliver(Requested("f" * 32, requested.file_id), 0)
    assert unknown.status_code == 404
    assert unknown.json()["message"].startswith("request_id:")
    missing = client.http.get(live_server.url + DELIVERY, params={"file_id": "x"})
    assert missing.status_code == 422
    assert "request_id" in missing.json()["detail"][0]["field"]
    # the right pair still downloads: a wrong guess claims nothing
    assert client.download(requested)[:4] == b"RIFF"


def test_parallel_clients_racing_for_one_file_get_it_once(live_server: LiveServer) -> None:
    """Racers from distinct addresses (127.0.0.2 ...), seed clients without X-Client-Id:
    each claim is bound to the caller's client id, so exactly one gets the whole file and
    the others are told it is gone, whoever asks for which chunk first."""
    racers = 6
    for trial in range(3):
        owner = seed_client(live_server)
        # 1 s stereo 24-bit at 44.1 kHz: ~265 kB, 5 chunks of 64 KiB on this server
        requested = owner.request(
            wav_specs([440 + trial], 1.0, number_of_channels=2, bits_per_sample=24)
        )
        deadline = time.monotonic() + 60
        while httpx.get(f"{live_server.url}/waves/{requested.request_id}").json()["status"] != (
            "ready"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        clients = [
            seed_client(
                live_server,
                httpx.Client(
                    timeout=30,
                    transport=httpx.HTTPTransport(local_address=f"127.0.0.{2 + i}"),
                ),
            )
            for i in range(racers)
        ]
        results = _race(clients, requested)
        files = [r for r in results if isinstance(r, bytes)]
        refused = [r for r in results if isinstance(r, DeliveryRefusedError)]
        assert len(files) == 1, (trial, results)
        assert sf.info(io.BytesIO(files[0])).frames == 44_100
        assert [r.status_code for r in refused] == [410] * (racers - 1)
        assert [r.offset_num for r in refused] == [0] * (racers - 1)  # not one part leaked
        assert all(r.body["error"] == "gone" for r in refused)


def _race(
    clients: list[WaveBuilderClient], requested: Requested
) -> list[bytes | DeliveryRefusedError]:
    """Every client downloads ``requested`` at once (released together by a barrier)."""
    start = threading.Barrier(len(clients))
    results: list[bytes | DeliveryRefusedError] = [DeliveryRefusedError(0, None)] * len(clients)

    def race(i: int) -> None:
        start.wait()
        try:
            results[i] = clients[i].download(requested)
        except DeliveryRefusedError as refused:
            results[i] = refused

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_the_documented_body_accepts_both_shapes_and_says_text_is_fine(tmp_path: Path) -> None:
    """The request body in /openapi.json (the route reads it itself): both content types,
    and its JSON schema, references resolved, accepts the seed's shapes."""
    import jsonschema

    from wavekit.service import api
    from wavekit.settings import Settings

    runtime = Runtime.local(Settings(data_dir=tmp_path, worker_threads=0))
    try:
        document = api.create_app(runtime).openapi()
    finally:
        runtime.close()
    body = document["paths"][MAIN]["post"]["requestBody"]
    assert set(body["content"]) == {"application/json", "text/plain"}
    schema = {**body["content"]["application/json"]["schema"], **document}
    validator = jsonschema.Draft202012Validator(schema)
    # partials as objects: ToneSpec's documented schema lists only those (the model also
    # takes numbers and note names, which its JSON schema does not say)
    partials: list[Any] = [{"freq": 440}, {"freq": 445}]
    nested = wav_specs(partials, 2.0, number_of_channels=2, bits_per_sample=24)
    validator.validate(nested)
    validator.validate({**nested["wav_data"], **nested["wav_spec"]})
    assert not validator.is_valid(wav_specs([440], 2.0, bits_per_sample=12))
    assert not validator.is_valid({"wav_spec": {"sample_rate": 8000}})  # no wav_data


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
nested_like = st.fixed_dictionaries(
    {},
    optional={
        "wav_data": json_values
        | st.fixed_dictionaries(
            {}, optional=dict.fromkeys(("volume", "duration", "frequencies"), json_values)
        ),
        "wav_spec": json_values
        | st.fixed_dictionaries(
            {},
            optional=dict.fromkeys(
                ("sample_rate", "number_of_channels", "bits_per_sample"), json_values
            ),
        ),
        "duration": json_values,
    },
)


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from wavekit.service import api
    from wavekit.settings import Settings

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("wb-fuzz"),
        worker_threads=0,
        max_duration_s=0.5,
        rate_limit_per_s=100_000,
        rate_limit_burst=100_000,
    )
    runtime = Runtime.local(settings)
    with TestClient(api.create_app(runtime), raise_server_exceptions=False) as client:
        yield client
    runtime.close()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=json_values | nested_like | st.binary(max_size=100),
    content_type=st.sampled_from(["text/plain", "application/json", "text/plain;charset=UTF-8"]),
)
def test_random_bodies_get_a_4xx_naming_the_field(
    in_process: TestClient, body: object, content_type: str
) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = in_process.post(MAIN, content=content, headers={"content-type": content_type})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        payload = response.json()
        assert payload["error"] in {"invalid_spec", "malformed_json"}, payload
        assert payload["detail"], payload
        assert all(problem["field"] and problem["message"] for problem in payload["detail"])


# -- the OpenAPI contract (called by test_openapi.py) ---------------------------------------

WAVEBUILDER_CONTRACT: dict[tuple[str, str], set[int]] = {
    ("post", MAIN): {200, 400, 413, 422, 429, 500, 503},
    ("get", DELIVERY): {200, 404, 409, 410, 416, 422, 500, 503},
}

Call = Callable[..., httpx.Response]


def drive_wavebuilder_contract(call: Call, runtime: Runtime, outage: Callable[..., None]) -> None:
    """Each status of both routes, each body validated by ``call`` against the document.

    ``runtime`` has no worker threads (jobs run when this says so) and allows 20 POSTs per
    client; ``outage(port, method, template, url)`` breaks a port for one call.
    """
    nested = wav_specs([441], 0.05, sample_rate=8000)
    text = {"content-type": "text/plain"}

    def ids_of(spec: dict[str, Any], **extra: Any) -> dict[str, str]:
        body = call("post", MAIN, MAIN, content=json.dumps(spec), headers=text, **extra).json()
        assert set(body) == {"request_id", "file_id"}
        return dict(body)

    def url(ids: dict[str, str], **query: Any) -> str:
        return f"{DELIVERY}?{urlencode({**ids, **query})}"

    # -- POST /wavebuilder/main
    accepted = ids_of(nested)
    assert call("post", MAIN, MAIN, content=b"{oops", headers=text).status_code == 400
    bad = {**nested, "wav_spec": {"sample_rate": 1}}
    assert call("post", MAIN, MAIN, json=bad).status_code == 422
    assert call("post", MAIN, MAIN, content=b" " * 70_000, headers=text).status_code == 413
    greedy = {"x-client-id": "greedy-wavebuilder"}
    statuses = [
        call("post", MAIN, MAIN, json=nested, headers=greedy).status_code for _ in range(21)
    ]
    assert statuses == [200] * 20 + [429]
    outage("jobs", "post", MAIN, MAIN, json=wav_specs([441], 0.07, sample_rate=8000))

    # -- GET /wavebuilder/delivery
    assert call("get", DELIVERY, url(accepted, offset_num=0)).json() == {"status": "in_progress"}
    assert call("get", DELIVERY, url({**accepted, "file_id": "f" * 64})).status_code == 404
    assert call("get", DELIVERY, url({**accepted, "request_id": "nope"})).status_code == 404
    assert call("get", DELIVERY, url({"request_id": accepted["request_id"]})).status_code == 422
    assert call("get", DELIVERY, url(accepted, offset_num=-1)).status_code == 422
    failed = ids_of(wav_specs([441], 0.09, sample_rate=8000))
    runtime.service.jobs.transition(
        failed["request_id"], [JobStatus.IN_PROGRESS], JobStatus.FAILED, error="boom"
    )
    assert call("get", DELIVERY, url(failed)).json()["error"] == "job_failed"
    while runtime.worker.run_once(max_messages=10):
        pass
    assert call("get", DELIVERY, url(accepted, offset_num=99)).status_code == 416
    ready = call("get", DELIVERY, url(accepted, offset_num=0)).json()
    assert (ready["status"], ready["isLast"], ready["offset_num"]) == ("ready", True, 0)
    assert call("get", DELIVERY, url(accepted, offset_num=0)).status_code == 410
    outage("jobs", "get", DELIVERY, url(accepted))
