"""The backend's AWS resources under moto, shaped by ``deploy/template.yaml``.

The table's keys, index and TTL and the queues' FIFO settings are read from the
template, so the contract tests exercise the same shapes CloudFormation creates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from wavekit.deploy import load_template

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass
class BackendResources:
    session: Any
    bucket: str
    table: str
    queue_url: str
    dlq_url: str
    stream: str
    lake_bucket: str


def _properties(name: str) -> dict[str, Any]:
    resource: dict[str, Any] = load_template()["Resources"][name]
    return dict(resource["Properties"])


def create_backend_resources(
    session: Any, prefix: str = "wk", visibility_timeout_s: int | None = None
) -> BackendResources:
    """Bucket, table (template's keys/GSI/TTL), FIFO queue + DLQ, delivery stream."""
    s3 = session.client("s3")
    bucket, lake = f"{prefix}-waves", f"{prefix}-lake"
    for name in (bucket, lake):
        s3.create_bucket(Bucket=name)

    table_props = _properties("JobsTable")
    dynamodb = session.client("dynamodb")
    table = f"{prefix}-jobs"
    dynamodb.create_table(
        TableName=table,
        BillingMode=table_props["BillingMode"],
        AttributeDefinitions=table_props["AttributeDefinitions"],
        KeySchema=table_props["KeySchema"],
        GlobalSecondaryIndexes=table_props["GlobalSecondaryIndexes"],
    )
    ttl = table_props["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
    )

    sqs = session.client("sqs")
    queue_props = _properties("JobsQueue")
    visibility = queue_props["VisibilityTimeout"]
    if isinstance(visibility, dict):  # a parameter, sized from the duration cap by deploy
        from wavekit.deploy import DeployConfig

        visibility = DeployConfig().parameters("b", "a", "r")[visibility["Ref"]]
    dlq_url = sqs.create_queue(
        QueueName=f"{prefix}-jobs-dlq.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attributes = {
        "FifoQueue": "true",
        "ContentBasedDeduplication": str(queue_props["ContentBasedDeduplication"]).lower(),
        "DeduplicationScope": queue_props["DeduplicationScope"],
        "FifoThroughputLimit": queue_props["FifoThroughputLimit"],
        "VisibilityTimeout": str(visibility_timeout_s or visibility),
        "RedrivePolicy": json.dumps(
            {
                "deadLetterTargetArn": dlq_arn,
                "maxReceiveCount": queue_props["RedrivePolicy"]["maxReceiveCount"],
            }
        ),
    }
    queue_url = sqs.create_queue(QueueName=f"{prefix}-jobs.fifo", Attributes=attributes)["QueueUrl"]

    iam = session.client("iam")
    role = iam.create_role(
        RoleName=f"{prefix}-firehose",
        AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*"}]}
        ),
    )["Role"]["Arn"]
    stream = f"{prefix}-events"
    session.client("firehose").create_delivery_stream(
        DeliveryStreamName=stream,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": role,
            "BucketARN": f"arn:aws:s3:::{lake}",
            "Prefix": "events/",
            "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 64},
        },
    )
    return BackendResources(session, bucket, table, queue_url, dlq_url, stream, lake)


def delivered_lines(session: Any, bucket: str, prefix: str = "events/") -> list[bytes]:
    """Every record line the delivery stream wrote (moto writes them to S3 at once)."""
    s3 = session.client("s3")
    lines: list[bytes] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
            lines.extend(line for line in body.splitlines() if line.strip())
    return lines


def new_session() -> Any:
    return boto3.Session(region_name=REGION)


def moto_compatible_template() -> str:
    """``deploy/template.yaml`` without the resource types moto's CloudFormation does not
    model (API Gateway v2, CloudFront, Firehose, Glue, Athena, ...), their references
    replaced by placeholders: what the deploy tests can create under moto. The full
    template is checked by cfn-lint and checkov instead."""
    import re as regex

    from moto.cloudformation.parsing import get_model_map

    from wavekit.deploy import load_template

    template = load_template()
    supported = get_model_map()
    dropped = {n for n, r in template["Resources"].items() if r["Type"] not in supported}

    def scrub(node: Any) -> Any:
        if isinstance(node, dict):
            if "Ref" in node and node["Ref"] in dropped:
                return f"moto-skipped-{node['Ref']}"
            if "Fn::GetAtt" in node and node["Fn::GetAtt"][0] in dropped:
                return "arn:aws:moto:us-east-1:123456789012:skipped/" + "-".join(node["Fn::GetAtt"])
            return {k: scrub(v) for k, v in node.items()}
        if isinstance(node, list):
            return [scrub(v) for v in node]
        if isinstance(node, str) and dropped:
            pattern = r"\$\{(" + "|".join(sorted(dropped)) + r")(\.[A-Za-z]+)?\}"
            return regex.sub(pattern, lambda m: f"moto-skipped-{m.group(1)}", node)
        return node

    resources = {n: scrub(r) for n, r in template["Resources"].items() if n not in dropped}
    template["Resources"] = resources
    template["Outputs"] = scrub(template["Outputs"])
    return json.dumps(template, sort_keys=True, separators=(",", ":"))
