"""Helpers of the handler tests: call the API function, read what landed in DynamoDB/S3."""

from __future__ import annotations

import json
from typing import Any

from tests.aws.conftest import LambdaContext
from tests.aws.resources import BackendResources, new_session
from wavekit.handlers import api

SPEC = {"frequencies": [440, 445], "duration": 0.5, "sample_rate": 8000}


def call_api(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = api.handler(event, LambdaContext())
    body = response.get("body") or ""
    parsed = json.loads(body) if body and body.lstrip().startswith("{") else body
    return response["statusCode"], response.get("headers", {}), parsed


def item(stack: BackendResources, request_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (
        new_session()
        .client("dynamodb")
        .get_item(TableName=stack.table, Key={"pk": {"S": request_id}}, ConsistentRead=True)["Item"]
    )
    return found


def s3_keys(stack: BackendResources) -> list[str]:
    listed = new_session().client("s3").list_objects_v2(Bucket=stack.bucket)
    return [o["Key"] for o in listed.get("Contents", [])]
