"""The AWS adapters: S3, DynamoDB, SQS, Firehose and Athena behind the ports."""

from wavekit.backends.aws.adapters import *  # noqa: F403  (split per service in this redesign)
from wavekit.backends.aws.clients import backend_error, translated  # noqa: F401
