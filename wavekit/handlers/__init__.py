"""AWS Lambda entry points, one module per function (the ``Handler:`` lines of
``deploy/template.yaml`` name ``wavekit.handlers.<module>.handler``):

- :mod:`.api`: the FastAPI app behind API Gateway HTTP API (payload 2.0) through Mangum;
- :mod:`.worker`: SQS-triggered; makes the files and reports partial batch failures;
- :mod:`.cleaner`: EventBridge-scheduled; fails dead-lettered jobs, expires, deletes and
  re-queues lost jobs;
- :mod:`.refresh`: EventBridge-scheduled (or started by the API); leaderboards from
  Athena into the DynamoDB cache.

Importing a handler module loads nothing heavy (the Lambda init phase stays short);
each builds its runtime from :mod:`wavekit.runtime` on its first invocation and keeps
it for the warm ones (:mod:`.common`). Logging, batch processing and event parsing come
from aws-lambda-powertools.
"""

from wavekit.handlers.common import reset

__all__ = ["reset"]
