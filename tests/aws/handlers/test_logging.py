"""The handlers' log lines: one JSON object each (powertools' formatter), with the job's
request id and the Lambda request id, so ``wavekit logs REQUEST_ID`` finds them."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from tests.aws.conftest import LambdaContext, http_event
from tests.aws.handlers.support import SPEC
from tests.aws.resources import BackendResources
from wavekit.handlers import api, common
from wavekit.handlers.common import logger


@pytest.fixture
def lambda_log(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What the handlers write to the function's log (powertools' handler, redirected)."""
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    monkeypatch.setattr(logging.getLogger("wavekit"), "level", logging.getLogger("wavekit").level)
    return stream


def test_json_log_lines_carry_the_request_id() -> None:
    record = logging.LogRecord("wavekit.lambdas", logging.INFO, __file__, 1, "processed", (), None)
    record.request_id = "abc123"
    record.outcome = "done"
    line = json.loads(logger.registered_formatter.format(record))
    assert line["request_id"] == "abc123"
    assert (line["level"], line["message"], line["outcome"]) == ("INFO", "processed", "done")
    assert dt.datetime.fromisoformat(line["timestamp"]).tzinfo is not None


def test_logging_becomes_json_lines_in_lambda(
    monkeypatch: pytest.MonkeyPatch, lambda_log: io.StringIO
) -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    monkeypatch.setattr(root, "handlers", [handler])
    monkeypatch.setattr(root, "level", logging.WARNING)
    common.configure_logging(common.settings())  # someone else's set-up stays
    assert not isinstance(handler.formatter, LambdaPowertoolsFormatter)
    logging.getLogger("wavekit.test").info("processed", extra={"request_id": "r1"})
    line = json.loads(lambda_log.getvalue())
    assert (line["message"], line["request_id"]) == ("processed", "r1")


def test_every_line_of_an_invocation_carries_the_lambda_request_id(
    stack: BackendResources, lambda_log: io.StringIO
) -> None:
    context = LambdaContext()
    response = api.handler(http_event("POST", "/waves", SPEC), context)
    assert response["statusCode"] == 202
    lines = [json.loads(text) for text in lambda_log.getvalue().splitlines()]
    assert lines
    assert {line["function_request_id"] for line in lines} == {context.aws_request_id}
    (access,) = [line for line in lines if line["message"] == "request"]
    assert access["request_id"] == json.loads(response["body"])["request_id"]
    assert (access["route"], access["status_code"], access["cold_start"]) == (
        "POST /waves",
        202,
        True,
    )
