"""Deploy wavekit to AWS: Lambda bundles, CloudFormation change sets, the static page.

One job per module:

- :mod:`~wavekit.deploy.config`: :class:`DeployConfig`, every name and limit (the
  template's parameters, the stack's tags, the pandas layer of each region);
- :mod:`~wavekit.deploy.limits`: Lambda's limits met: the worker sized from the duration
  cap, reserved concurrency only where the account allows it;
- :mod:`~wavekit.deploy.template`: ``deploy/template.yaml`` read (cfn-flip) and sent as JSON;
- :mod:`~wavekit.deploy.bundle`: the Lambda bundles (pip, prune, precompile, zip, sizes);
- :mod:`~wavekit.deploy.artefacts`: the artefact bucket and the bundles in it;
- :mod:`~wavekit.deploy.stack`: describe, change sets, waiting with events, failures;
- :mod:`~wavekit.deploy.site`: the static page, built and synced;
- :mod:`~wavekit.deploy.logs`: one request's log lines across the functions;
- :mod:`~wavekit.deploy.deployer`: the flows, :func:`plan`, :func:`deploy`, :func:`destroy`.

boto3 is imported only when AWS is called (the dry run imports no SDK), and sessions
are injected (tests pass moto-backed ones). The AWS plumbing (sessions, region fallback,
retry policy) is shared with the adapters: :mod:`wavekit.backends.aws.clients`.
"""

from wavekit.backends.aws.clients import DEFAULT_RETRY, AwsRetry
from wavekit.deploy.artefacts import artifact_bucket_name, ensure_artifact_bucket, upload_bundle
from wavekit.deploy.bundle import (
    API_REQUIREMENTS,
    LAMBDA_UNZIPPED_LIMIT,
    LAMBDA_ZIP_LIMIT,
    LAYER_PROVIDED,
    REFRESH_REQUIREMENTS,
    SDK_PANDAS_LAYER_BUDGET,
    Bundle,
    build_bundle,
    build_bundles,
    platform_tags,
    python312,
)
from wavekit.deploy.config import (
    ARCHITECTURE,
    PROJECT_TAG,
    PYTHON_VERSION,
    SDK_PANDAS_LAYERS,
    SDK_PANDAS_RELEASE,
    STAGE_TAG,
    UNDECIDED,
    ArchitectureName,
    DeployConfig,
    Echo,
    default_region,
    sdk_pandas_layer,
    with_overrides,
)
from wavekit.deploy.deployer import Plan, cost_lines, deploy, destroy, empty_bucket, plan
from wavekit.deploy.limits import (
    AccountConcurrency,
    ConcurrencyDecision,
    WorkerSizing,
    decide_concurrency,
    read_account_concurrency,
    size_worker,
)
from wavekit.deploy.logs import LOG_GROUP_OUTPUTS, LogLine, gather_logs, stack_log_groups
from wavekit.deploy.site import build_web_site, publish_site
from wavekit.deploy.stack import (
    Change,
    DeployResult,
    StackSummary,
    apply_stack,
    describe_stack,
    is_current,
    project_stacks,
    stack_outputs,
    wait_for_stack,
)
from wavekit.deploy.template import load_template, template_json, template_path
from wavekit.errors import BundleTooLargeError, DeployConfigError, DeployError

__all__ = [
    "API_REQUIREMENTS",
    "ARCHITECTURE",
    "DEFAULT_RETRY",
    "LAMBDA_UNZIPPED_LIMIT",
    "LAMBDA_ZIP_LIMIT",
    "LAYER_PROVIDED",
    "LOG_GROUP_OUTPUTS",
    "PROJECT_TAG",
    "PYTHON_VERSION",
    "REFRESH_REQUIREMENTS",
    "SDK_PANDAS_LAYERS",
    "SDK_PANDAS_LAYER_BUDGET",
    "SDK_PANDAS_RELEASE",
    "STAGE_TAG",
    "UNDECIDED",
    "AccountConcurrency",
    "ArchitectureName",
    "AwsRetry",
    "Bundle",
    "BundleTooLargeError",
    "Change",
    "ConcurrencyDecision",
    "DeployConfig",
    "DeployConfigError",
    "DeployError",
    "DeployResult",
    "Echo",
    "LogLine",
    "Plan",
    "StackSummary",
    "WorkerSizing",
    "apply_stack",
    "artifact_bucket_name",
    "build_bundle",
    "build_bundles",
    "build_web_site",
    "cost_lines",
    "decide_concurrency",
    "default_region",
    "deploy",
    "describe_stack",
    "destroy",
    "empty_bucket",
    "ensure_artifact_bucket",
    "gather_logs",
    "is_current",
    "load_template",
    "plan",
    "platform_tags",
    "project_stacks",
    "publish_site",
    "python312",
    "read_account_concurrency",
    "sdk_pandas_layer",
    "size_worker",
    "stack_log_groups",
    "stack_outputs",
    "template_json",
    "template_path",
    "upload_bundle",
    "wait_for_stack",
    "with_overrides",
]
