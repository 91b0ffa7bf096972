"""The shared AWS helper: botocore errors become BackendErrors (throttling transient),
and a missing boto3 names the extra that installs it."""

from __future__ import annotations

import sys

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from wavekit.backends import aws
from wavekit.errors import BackendError, MissingExtraError


def test_botocore_errors_become_backend_errors() -> None:
    throttled = ClientError(
        {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "PutItem",
    )
    denied = ClientError(
        {
            "Error": {"Code": "AccessDeniedException", "Message": "no"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "PutItem",
    )
    assert aws.backend_error(throttled, "put").transient
    assert not aws.backend_error(denied, "put").transient
    assert "AccessDeniedException: no" in str(aws.backend_error(denied, "put"))
    assert aws.backend_error(EndpointConnectionError(endpoint_url="https://x"), "get").transient
    with pytest.raises(BackendError) as caught, aws.translated("dynamodb get"):
        raise throttled
    assert caught.value.transient


def test_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(MissingExtraError, match=r"wavekit\[aws\]"):
        aws.S3BlobStore("bucket").client  # noqa: B018 - the lazy client is built here


def test_a_quota_hit_is_not_retried_by_the_control_plane_policy() -> None:
    from botocore.exceptions import ClientError

    from wavekit.backends.aws.clients import is_retryable

    def client_error(code: str, message: str = "") -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message}}, "CreateStack")

    assert is_retryable(client_error("Throttling"))
    assert is_retryable(client_error("InternalFailure"))
    assert not is_retryable(client_error("LimitExceededException", "Limit on stacks reached"))
    assert not is_retryable(client_error("ValidationError", "Template format error"))
    iam_lag = "The role defined for the function cannot be assumed by Lambda."
    assert is_retryable(client_error("InvalidParameterValueException", iam_lag))
