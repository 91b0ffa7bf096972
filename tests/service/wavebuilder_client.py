"""A WaveBuilder frontend's protocol, written only from seed 000 ("A Serverless Sky"):
no wavekit import, nothing the seed does not describe.

1. POST the wav specification to the main function; the body is the metadata as a
   string (the frontend sent it as text; an API gateway turned it into JSON).
2. The answer is JSON with ``request_id`` and ``file_id``.
3. GET the wave delivery function with the query parameters ``request_id``, ``file_id``
   and ``offset_num`` (the number of parts already downloaded).
4. The answer is JSON with ``status``: ``in_progress`` (ask again), or ``ready`` with
   ``file`` (a base64 string of one part) and ``isLast``; keep the parts in a buffer
   array and ask for the next one until ``isLast``, then make one file of the array.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Requested:
    request_id: str
    file_id: str


class DeliveryRefusedError(Exception):
    """The delivery function answered something other than in progress or ready."""

    def __init__(self, status_code: int, body: Any, offset_num: int = 0) -> None:
        super().__init__(f"{status_code} at offset_num {offset_num}: {body}")
        self.status_code = status_code
        self.body = body
        self.offset_num = offset_num
        """The part asked for: as many parts had been received before."""


def wav_specs(
    frequencies: list[Any],
    duration: float,
    *,
    volume: float = 0.5,
    sample_rate: int = 44_100,
    number_of_channels: int = 1,
    bits_per_sample: int = 16,
) -> dict[str, Any]:
    """The specification as the seed's database record nests it."""
    return {
        "wav_data": {"volume": volume, "duration": duration, "frequencies": frequencies},
        "wav_spec": {
            "sample_rate": sample_rate,
            "number_of_channels": number_of_channels,
            "bits_per_sample": bits_per_sample,
        },
    }


class WaveBuilderClient:
    """The frontend's App component: talks to the main and the delivery functions."""

    def __init__(self, http: httpx.Client, main_url: str, delivery_url: str) -> None:
        self.http = http
        self.main_url = main_url
        self.delivery_url = delivery_url

    def request(self, specs: dict[str, Any], *, as_string: bool = True) -> Requested:
        """Step 1-2. ``as_string``: the metadata as a text body, as the seed's frontend."""
        if as_string:
            response = self.http.post(
                self.main_url,
                content=json.dumps(specs),
                headers={"content-type": "text/plain;charset=UTF-8"},
            )
        else:
            response = self.http.post(self.main_url, json=specs)
        response.raise_for_status()
        answer = response.json()
        return Requested(str(answer["request_id"]), str(answer["file_id"]))

    def deliver(self, requested: Requested, offset_num: int) -> httpx.Response:
        """Step 3: one GET of the delivery function."""
        return self.http.get(
            self.delivery_url,
            params={
                "request_id": requested.request_id,
                "file_id": requested.file_id,
                "offset_num": offset_num,
            },
        )

    def download(
        self, requested: Requested, *, poll_s: float = 0.1, timeout_s: float = 120.0
    ) -> bytes:
        """Steps 3-4: busy-wait while in progress, then collect the parts until ``isLast``."""
        buffers: list[bytes] = []
        offset_num = 0
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            response = self.deliver(requested, offset_num)
            answer = response.json()
            if response.status_code != 200:
                raise DeliveryRefusedError(response.status_code, answer, offset_num)
            if answer["status"] == "in_progress":
                time.sleep(poll_s)
                continue
            if answer["status"] != "ready":
                raise DeliveryRefusedError(response.status_code, answer, offset_num)
            buffers.append(base64.b64decode(answer["file"]))
            if answer["isLast"]:
                return b"".join(buffers)
            offset_num += 1
        raise TimeoutError(f"no file after {timeout_s} s")
