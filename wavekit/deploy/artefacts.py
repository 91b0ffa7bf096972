"""The account's artefact bucket and the bundles in it.

CloudFormation reads Lambda code from S3, so each region gets one private bucket,
``wavekit-artifacts-<account>-<region>``, made on the first deploy and kept by
``destroy`` (the stacks of every stage share it). Bundles are keyed by content hash, so
an upload happens only when the code changed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

from wavekit.backends.aws.clients import DEFAULT_RETRY, AwsRetry, error_code
from wavekit.deploy.bundle import Bundle
from wavekit.deploy.config import Echo
from wavekit.errors import DeployError

if TYPE_CHECKING:
    from boto3.session import Session

NO_BUCKET_CODES = frozenset({"404", "NoSuchBucket", "NotFound"})
NO_KEY_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
BUNDLES_KEPT_DAYS = 90


def artifact_bucket_name(account: str, region: str) -> str:
    return f"wavekit-artifacts-{account}-{region}"


def _tls_only_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def ensure_artifact_bucket(
    session: Session, region: str, retry: AwsRetry = DEFAULT_RETRY, echo: Echo = print
) -> str:
    """The account's artefact bucket (private, encrypted, TLS only), created once."""
    account = retry(session.client("sts").get_caller_identity)["Account"]
    name = artifact_bucket_name(account, region)
    s3 = session.client("s3", region_name=region)
    try:
        retry(s3.head_bucket, Bucket=name)
        return name
    except Exception as exc:
        if error_code(exc) not in NO_BUCKET_CODES:
            raise DeployError(f"artefact bucket {name}: {exc}") from exc
    echo(f"creating artefact bucket {name}")
    arguments: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    retry(s3.create_bucket, **arguments)
    retry(
        s3.put_public_access_block,
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    retry(
        s3.put_bucket_encryption,
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    retry(
        s3.put_bucket_lifecycle_configuration,
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "old-bundles",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "bundles/"},
                    "Expiration": {"Days": BUNDLES_KEPT_DAYS},
                }
            ]
        },
    )
    retry(s3.put_bucket_policy, Bucket=name, Policy=_tls_only_policy(name))
    return name


def upload_bundle(
    session: Session,
    bucket: str,
    bundle: Bundle,
    retry: AwsRetry = DEFAULT_RETRY,
    echo: Echo = print,
) -> str:
    """Upload under the content-hash key unless it is there already; return the key."""
    s3 = session.client("s3")
    try:
        retry(s3.head_object, Bucket=bucket, Key=bundle.key)
        echo(f"bundle {bundle.name} already uploaded ({bundle.key})")
        return bundle.key
    except Exception as exc:
        if error_code(exc) not in NO_KEY_CODES:
            raise
    echo(f"uploading {bundle.name} ({bundle.zipped_bytes / 1024**2:.1f} MB) to {bundle.key}")
    data = bundle.path.read_bytes()
    checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
    retry(s3.put_object, Bucket=bucket, Key=bundle.key, Body=data, ChecksumSHA256=checksum)
    return bundle.key
