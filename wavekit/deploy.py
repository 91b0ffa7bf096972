"""Deploy wavekit to AWS: Lambda bundles, CloudFormation change sets, the static page.

::

    build_bundle ──► upload_bundle (artefact bucket, key = content hash)
                          │
    DeployConfig ──► deploy: change set ─► show ─► execute ─► wait (events) ─► outputs
                                                                └─► publish_site (CloudFront)
    destroy: empty the stack's buckets, delete the stack      status / outputs / gather_logs

Every parameter of ``deploy/template.yaml`` comes from one :class:`DeployConfig`. The
template is read with CloudFormation's short tags (``!Ref`` ...) in their long JSON form
and sent as compact, key-sorted JSON, so an unchanged deploy is recognised byte for byte
and is a no-op. AWS calls go through :class:`AwsRetry` (tenacity): throttling and IAM's
eventual consistency (a new role not yet assumable) are retried with backoff, anything
else fails at once. boto3 is imported lazily and sessions are injected.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from wavekit.errors import BundleTooLargeError, DeployError, MissingExtraError

TEMPLATE_NAME = "template.yaml"
PROJECT_TAG = "wavekit:project"
STAGE_TAG = "wavekit:stage"
ARCHITECTURE = "arm64"
PYTHON_VERSION = "3.12"
SDK_PANDAS_ACCOUNT = "336392948345"
SDK_PANDAS_LAYER_VERSION = 17
"""Version of the AWS SDK for pandas layer (awswrangler's managed layer); check the
awswrangler docs for the latest in your region."""

LAMBDA_ZIP_LIMIT = 50 * 1024**2
"""Direct-upload limit; bundles go through S3, but a small zip deploys faster."""
LAMBDA_UNZIPPED_LIMIT = 250 * 1024**2
"""Function code plus layers, unzipped."""
SDK_PANDAS_LAYER_BUDGET = 180 * 1024**2
"""Room left for the AWS SDK for pandas layer next to the refresh bundle."""

API_REQUIREMENTS: tuple[str, ...] = (
    "fastapi>=0.110",
    "mangum>=0.17",
    "numpy>=1.26",
    "pydantic>=2.7",
    "pydantic-settings>=2.3",
    "soundfile>=0.12.1",
    "tqdm>=4.66",
)
"""The API/worker/cleaner bundle. boto3 is in the Lambda runtime; pyarrow, pandas and
duckdb are not needed (events go to Firehose as JSON)."""
REFRESH_REQUIREMENTS: tuple[str, ...] = (
    "pydantic>=2.7",
    "pydantic-settings>=2.3",
    "soundfile>=0.12.1",
    "tqdm>=4.66",
)
"""The refresh bundle: numpy, pandas, pyarrow and awswrangler come from the AWS SDK for
pandas layer, which keeps both under Lambda's 250 MB."""
LAYER_PROVIDED: tuple[str, ...] = ("numpy", "numpy.libs", "numpy-*.dist-info")
"""Removed from the refresh bundle: the layer has them (one numpy, the layer's)."""
PRUNED_DIRS = frozenset({"__pycache__", "tests", "testing"})
PRUNED_SUFFIXES = (".pyc", ".pyi", ".c", ".h", ".pxd", ".pyx")
TERMINAL_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"}
TERMINAL_FAILED = {
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "UPDATE_FAILED",
    "DELETE_FAILED",
    "IMPORT_ROLLBACK_COMPLETE",
    "IMPORT_ROLLBACK_FAILED",
}
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "ServiceUnavailable",
        "InternalFailure",
    }
)
IAM_PROPAGATION = re.compile(
    r"cannot be assumed|role defined for the function|not authorized to perform: sts:AssumeRole"
    r"|The role .* does not have permissions|execution role does not have permissions",
    re.IGNORECASE,
)
NO_CHANGES = re.compile(r"didn't contain changes|No updates are to be performed", re.IGNORECASE)

Echo = Callable[[str], None]


# -- template ----------------------------------------------------------------------------------


def template_path() -> Path:
    """``deploy/template.yaml`` of the source tree, or the copy inside the wheel."""
    source = Path(__file__).resolve().parents[1] / "deploy" / TEMPLATE_NAME
    if source.is_file():
        return source
    return Path(str(resources.files("wavekit") / "deploy_files" / TEMPLATE_NAME))


def _loader() -> Any:
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtraError("pyyaml", "aws") from exc

    loader: Any = type("CfnLoader", (yaml.SafeLoader,), {})

    def construct(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "Condition":
            return {"Condition": value}
        if suffix == "GetAtt" and isinstance(value, str):
            return {"Fn::GetAtt": value.split(".", 1)}
        return {f"Fn::{suffix}": value}

    loader.add_multi_constructor("!", construct)
    return loader


def load_template(path: Path | None = None) -> dict[str, Any]:
    """The template as a dict, intrinsic functions in their ``Fn::`` form."""
    import yaml

    text = (path or template_path()).read_text()
    loaded: dict[str, Any] = yaml.load(text, Loader=_loader())  # a SafeLoader subclass
    return loaded


def template_json(path: Path | None = None) -> str:
    """Compact, key-sorted JSON of the template: the body sent to CloudFormation."""
    return json.dumps(load_template(path), sort_keys=True, separators=(",", ":"))


# -- configuration -----------------------------------------------------------------------------

STAGE_RE = re.compile(r"^[a-z][a-z0-9]{0,11}$")


@dataclass(frozen=True)
class DeployConfig:
    """Every name and limit of a deployment, in one place (the template's parameters).

    Parameters
    ----------
    stage
        Short lowercase name (``dev``, ``prod``); the stack is ``wavekit-<stage>``.
    region
        AWS region.
    allowed_origins
        Browser origins allowed by CORS besides the CloudFront page.
    max_duration_s
        Longest tone the service makes.
    api_throttle_rate, api_throttle_burst
        API Gateway stage throttling (requests per second, burst).
    api_concurrency, worker_concurrency
        Reserved concurrency of the API and worker functions.
    log_retention_days
        CloudWatch retention of every log group.
    waves_expire_days
        S3 lifecycle backstop for WAV files (the cleaner deletes them after 2 days).
    athena_bytes_cutoff
        Athena's per-query scan limit in the workgroup.
    sdk_pandas_layer_arn
        The awswrangler layer of the refresh function; the region's managed one if None.
    """

    stage: str = "dev"
    region: str = "us-east-1"
    allowed_origins: tuple[str, ...] = ()
    max_duration_s: float = 60.0
    api_throttle_rate: int = 50
    api_throttle_burst: int = 100
    api_concurrency: int = 20
    worker_concurrency: int = 10
    log_retention_days: int = 30
    waves_expire_days: int = 7
    athena_bytes_cutoff: int = 10 * 1024**3
    sdk_pandas_layer_arn: str | None = None

    def __post_init__(self) -> None:
        if not STAGE_RE.match(self.stage):
            raise DeployError(
                f"stage: must be 1-12 lowercase letters/digits starting with a letter, "
                f"got {self.stage!r}"
            )
        for origin in self.allowed_origins:
            if not re.match(r"^https?://[^/,\s]+$", origin):
                raise DeployError(f"allowed_origins: {origin!r} is not an origin (scheme://host)")

    @property
    def stack_name(self) -> str:
        return f"wavekit-{self.stage}"

    @property
    def layer_arn(self) -> str:
        return self.sdk_pandas_layer_arn or (
            f"arn:aws:lambda:{self.region}:{SDK_PANDAS_ACCOUNT}:layer:"
            f"AWSSDKPandas-Python312-Arm64:{SDK_PANDAS_LAYER_VERSION}"
        )

    def parameters(self, code_bucket: str, api_key: str, refresh_key: str) -> dict[str, str]:
        """The template's parameters (all of them, as CloudFormation strings)."""
        return {
            "Stage": self.stage,
            "AllowedOrigins": ",".join(self.allowed_origins),
            "CodeBucket": code_bucket,
            "ApiCodeKey": api_key,
            "RefreshCodeKey": refresh_key,
            "SdkPandasLayerArn": self.layer_arn,
            "MaxDurationS": f"{self.max_duration_s:g}",
            "ApiThrottleRate": str(self.api_throttle_rate),
            "ApiThrottleBurst": str(self.api_throttle_burst),
            "ApiConcurrency": str(self.api_concurrency),
            "WorkerConcurrency": str(self.worker_concurrency),
            "LogRetentionDays": str(self.log_retention_days),
            "WavesExpireDays": str(self.waves_expire_days),
            "AthenaBytesCutoff": str(self.athena_bytes_cutoff),
        }

    def tags(self) -> list[dict[str, str]]:
        return [{"Key": PROJECT_TAG, "Value": "wavekit"}, {"Key": STAGE_TAG, "Value": self.stage}]


# -- retries -----------------------------------------------------------------------------------


def aws_error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def is_retryable(exc: BaseException) -> bool:
    """Throttling, or IAM not yet consistent (a role created seconds ago)."""
    code = aws_error_code(exc)
    if code in THROTTLING_CODES:
        return True
    return bool(code) and bool(IAM_PROPAGATION.search(str(exc)))


@dataclass(frozen=True)
class AwsRetry:
    """Call AWS with exponential backoff (tenacity) on :func:`is_retryable` errors.

    Parameters
    ----------
    attempts
        Tries in all.
    initial_s, max_s
        First wait and the cap (jittered exponential backoff).
    sleep
        How to wait (tests pass a recorder).
    """

    attempts: int = 8
    initial_s: float = 0.5
    max_s: float = 20.0
    sleep: Callable[[float], None] = time.sleep

    def __call__(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import tenacity

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=tenacity.wait_exponential(multiplier=self.initial_s, max=self.max_s)
            + tenacity.wait_random(0, self.initial_s),
            retry=tenacity.retry_if_exception(is_retryable),
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(call, *args, **kwargs)


DEFAULT_RETRY = AwsRetry()


def _session(session: Any, region: str | None) -> Any:
    if session is not None:
        return session
    try:
        import boto3
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtraError("boto3", "aws") from exc
    return boto3.Session(region_name=region)


# -- bundles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    """A zipped Lambda bundle and what it weighs."""

    name: str
    path: Path
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int

    @property
    def key(self) -> str:
        """Artefact key: the content hash, so an identical bundle is never re-uploaded."""
        return f"bundles/{self.name}-{self.sha256[:20]}.zip"


def platform_tags(architecture: str = ARCHITECTURE) -> list[str]:
    """pip ``--platform`` values Lambda's python3.12 (Amazon Linux 2023) accepts."""
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[architecture]
    return [f"manylinux2014_{machine}", f"manylinux_2_28_{machine}"]


def _project_root() -> Path:
    root = Path(__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file():
        raise DeployError("building a bundle needs the wavekit source tree (pyproject.toml)")
    return root


def _tree_hash(root: Path, patterns: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(command: Sequence[str], echo: Echo) -> None:
    echo("$ " + " ".join(command))
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DeployError(f"{command[2] if len(command) > 2 else command[0]} failed:\n"
                          f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}")  # fmt: skip


def _prune(site: Path) -> None:
    for path in sorted(site.rglob("*"), reverse=True):
        if path.is_dir() and path.name in PRUNED_DIRS and "dist-info" not in str(path.parent):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and path.name.endswith(PRUNED_SUFFIXES):
            path.unlink()


def _zip(site: Path, target: Path) -> tuple[int, int]:
    """A reproducible zip (sorted entries, fixed times and modes); (files, unzipped bytes)."""
    files = sorted(p for p in site.rglob("*") if p.is_file())
    total = 0
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            info = zipfile.ZipInfo(str(path.relative_to(site)), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            total += len(data)
            archive.writestr(info, data, compresslevel=9)
    tmp.replace(target)
    return len(files), total


def build_bundle(
    name: str,
    requirements: Sequence[str],
    build_dir: Path = Path("build/lambda"),
    *,
    architecture: str = ARCHITECTURE,
    unzipped_limit: int = LAMBDA_UNZIPPED_LIMIT,
    exclude: Sequence[str] = (),
    echo: Echo = print,
) -> Bundle:
    """Our package plus ``requirements`` as manylinux wheels for CPython 3.12, zipped.

    The dependencies are installed once per (requirements, architecture) and kept under
    ``build_dir`` (a stamp records what is there), so rebuilding after a code change
    downloads nothing. Our package is built as a wheel (``pip wheel``) and installed
    without its dependencies (typer, tqdm... are not all needed in Lambda); top-level
    names matching ``exclude`` (provided by a layer) are left out.

    Raises
    ------
    BundleTooLargeError
        If the unzipped bundle is over ``unzipped_limit`` (or the zip over 50 MB).
    """
    root = _project_root()
    work = Path(build_dir) / f"{name}-{architecture}"
    deps, site = work / "deps", work / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    wanted = json.dumps([sorted(requirements), architecture, PYTHON_VERSION])
    stamp = work / "deps.stamp"
    if not stamp.is_file() or stamp.read_text() != wanted:
        shutil.rmtree(deps, ignore_errors=True)
        platforms = [arg for tag in platform_tags(architecture) for arg in ("--platform", tag)]
        _run(
            [*pip, "install", "--quiet", "--target", str(deps), *platforms,
             "--only-binary=:all:", "--python-version", PYTHON_VERSION,
             "--implementation", "cp", *requirements],
            echo,
        )  # fmt: skip
        stamp.write_text(wanted)
    source_hash = _tree_hash(root, ["pyproject.toml", "wavekit/**/*", "athena/*.sql", "deploy/*"])
    wheels = work / "wheels"
    own_stamp = work / "wheel.stamp"
    if not own_stamp.is_file() or own_stamp.read_text() != source_hash:
        shutil.rmtree(wheels, ignore_errors=True)
        _run([*pip, "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(root)], echo)
        own_stamp.write_text(source_hash)
    (wheel,) = wheels.glob("wavekit-*.whl")
    target = work.parent / f"{name}-{architecture}.zip"
    zip_stamp = work / "zip.stamp"
    inputs = json.dumps([wanted, source_hash, sorted(exclude)])
    if target.is_file() and zip_stamp.is_file() and zip_stamp.read_text().startswith(inputs):
        return _checked(_described(name, target, site), unzipped_limit, echo)
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(deps, site)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    _prune(site)
    for pattern in exclude:  # provided by a layer
        for path in site.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    compiled = _precompile(site, echo)
    _zip(site, target)
    zip_stamp.write_text(inputs + ("+pyc" if compiled else ""))
    return _checked(_described(name, target, site), unzipped_limit, echo)


def python312() -> str | None:
    """A CPython 3.12 interpreter (``$WAVEKIT_BUNDLE_PYTHON`` or ``python3.12``), if any."""
    for candidate in (os.environ.get("WAVEKIT_BUNDLE_PYTHON"), shutil.which("python3.12")):
        if not candidate:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.implementation.name, *sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.split() == ["cpython", "3", "12"]:
            return candidate
    return None


def _precompile(site: Path, echo: Echo) -> bool:
    """Byte-compile the bundle with CPython 3.12 when one is installed: Lambda's code
    directory is read-only, so without .pyc files every cold start compiles the sources
    again (about twice the import time, measured). ``unchecked-hash`` pycs and a fixed
    hash seed keep the zip reproducible."""
    interpreter = python312()
    if interpreter is None:
        echo("no CPython 3.12 here: the bundle ships sources only (slower cold imports)")
        return False
    done = subprocess.run(
        [interpreter, "-m", "compileall", "-q", "-j", "0",
         "--invalidation-mode", "unchecked-hash", str(site)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )  # fmt: skip
    return done.returncode == 0


def _described(name: str, target: Path, site: Path) -> Bundle:
    with zipfile.ZipFile(target) as archive:
        entries = archive.infolist()
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    unzipped = sum(e.file_size for e in entries)
    return Bundle(name, target, digest, target.stat().st_size, unzipped, len(entries))


def _checked(bundle: Bundle, unzipped_limit: int, echo: Echo) -> Bundle:
    """Echo the bundle's size; raise if it is over Lambda's limits."""
    mib = 1024**2
    echo(
        f"bundle {bundle.name}: {bundle.files} files, {bundle.unzipped_bytes / mib:.1f} MB "
        f"unzipped, {bundle.zipped_bytes / mib:.1f} MB zipped, sha256 {bundle.sha256[:12]}"
    )
    if bundle.unzipped_bytes > unzipped_limit or bundle.zipped_bytes > LAMBDA_ZIP_LIMIT:
        raise BundleTooLargeError(
            f"bundle {bundle.name} is {bundle.unzipped_bytes / mib:.1f} MB unzipped / "
            f"{bundle.zipped_bytes / mib:.1f} MB zipped; limits {unzipped_limit / mib:.0f} MB "
            f"unzipped, {LAMBDA_ZIP_LIMIT / mib:.0f} MB zipped"
        )
    return bundle


def build_bundles(build_dir: Path = Path("build/lambda"), echo: Echo = print) -> dict[str, Bundle]:
    """The two bundles a deploy uploads: ``api`` (API, worker, cleaner) and ``refresh``."""
    return {
        "api": build_bundle("api", API_REQUIREMENTS, build_dir, echo=echo),
        "refresh": build_bundle(
            "refresh",
            REFRESH_REQUIREMENTS,
            build_dir,
            unzipped_limit=LAMBDA_UNZIPPED_LIMIT - SDK_PANDAS_LAYER_BUDGET,
            exclude=LAYER_PROVIDED,
            echo=echo,
        ),
    }


# -- artefacts ---------------------------------------------------------------------------------


def artifact_bucket_name(account: str, region: str) -> str:
    return f"wavekit-artifacts-{account}-{region}"


def ensure_artifact_bucket(
    session: Any, region: str, retry: AwsRetry = DEFAULT_RETRY, echo: Echo = print
) -> str:
    """The account's artefact bucket (private, encrypted, TLS only), created once."""
    account = retry(session.client("sts").get_caller_identity)["Account"]
    name = artifact_bucket_name(account, region)
    s3 = session.client("s3", region_name=region)
    try:
        retry(s3.head_bucket, Bucket=name)
        return name
    except Exception as exc:
        if aws_error_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
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
                    "Expiration": {"Days": 90},
                }
            ]
        },
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    retry(s3.put_bucket_policy, Bucket=name, Policy=json.dumps(policy))
    return name


def upload_bundle(
    session: Any, bucket: str, bundle: Bundle, retry: AwsRetry = DEFAULT_RETRY, echo: Echo = print
) -> str:
    """Upload under the content-hash key unless it is there already; return the key."""
    s3 = session.client("s3")
    try:
        retry(s3.head_object, Bucket=bucket, Key=bundle.key)
        echo(f"bundle {bundle.name} already uploaded ({bundle.key})")
        return bundle.key
    except Exception as exc:
        if aws_error_code(exc) not in {"404", "NoSuchKey", "NotFound"}:
            raise
    echo(f"uploading {bundle.name} ({bundle.zipped_bytes / 1024**2:.1f} MB) to {bundle.key}")
    checksum = base64.b64encode(hashlib.sha256(bundle.path.read_bytes()).digest()).decode()
    retry(
        s3.put_object,
        Bucket=bucket,
        Key=bundle.key,
        Body=bundle.path.read_bytes(),
        ChecksumSHA256=checksum,
    )
    return bundle.key


# -- stacks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    action: str
    logical_id: str
    resource_type: str
    replacement: str = ""

    def __str__(self) -> str:
        replace_note = f" (replacement: {self.replacement})" if self.replacement else ""
        return f"{self.action:<7} {self.resource_type:<40} {self.logical_id}{replace_note}"


@dataclass
class DeployResult:
    stack_name: str
    status: str
    changes: list[Change] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    no_op: bool = False
    site_files_uploaded: int = 0


def describe_stack(cfn: Any, name: str, retry: AwsRetry = DEFAULT_RETRY) -> dict[str, Any] | None:
    """The stack, or None if it does not exist (or only as an empty change-set shell)."""
    try:
        stacks = retry(cfn.describe_stacks, StackName=name)["Stacks"]
    except Exception as exc:
        if "does not exist" in str(exc):
            return None
        raise
    stack: dict[str, Any] = stacks[0]
    if stack["StackStatus"] in {"DELETE_COMPLETE"}:
        return None
    return stack


def stack_outputs(cfn: Any, name: str, retry: AwsRetry = DEFAULT_RETRY) -> dict[str, str]:
    stack = describe_stack(cfn, name, retry)
    if stack is None:
        raise DeployError(f"stack {name} does not exist; run wavekit deploy")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _current_template(cfn: Any, name: str, retry: AwsRetry) -> Any:
    body = retry(cfn.get_template, StackName=name, TemplateStage="Original")["TemplateBody"]
    return json.loads(body) if isinstance(body, str) else body


def is_current(
    cfn: Any,
    stack: Mapping[str, Any],
    body: str,
    parameters: Mapping[str, str],
    tags: Sequence[Mapping[str, str]],
    retry: AwsRetry = DEFAULT_RETRY,
) -> bool:
    """Whether the deployed stack already has this template, these parameters and tags."""
    if stack["StackStatus"] not in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}:
        return False
    deployed = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    deployed_tags = sorted((t["Key"], t["Value"]) for t in stack.get("Tags", []))
    if deployed != dict(parameters) or deployed_tags != sorted(
        (t["Key"], t["Value"]) for t in tags
    ):
        return False
    return bool(_current_template(cfn, stack["StackName"], retry) == json.loads(body))


def _wait_change_set(cfn: Any, arn: str, retry: AwsRetry, poll_s: float) -> dict[str, Any]:
    while True:
        described: dict[str, Any] = retry(cfn.describe_change_set, ChangeSetName=arn)
        if described["Status"] in {"CREATE_COMPLETE", "FAILED"}:
            return described
        time.sleep(poll_s)


def _changes(described: Mapping[str, Any]) -> list[Change]:
    found = []
    for change in described.get("Changes", []):
        rc = change.get("ResourceChange", {})
        found.append(
            Change(
                rc.get("Action", "?"),
                rc.get("LogicalResourceId", "?"),
                rc.get("ResourceType", "?"),
                rc.get("Replacement", "") if rc.get("Action") == "Modify" else "",
            )
        )
    return found


def wait_for_stack(
    cfn: Any,
    name: str,
    *,
    retry: AwsRetry = DEFAULT_RETRY,
    echo: Echo = print,
    poll_s: float = 5.0,
    since: dt.datetime | None = None,
) -> str:
    """Poll until the stack settles, echoing each new stack event; return its status."""
    seen: set[str] = set()
    since = since or dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    while True:
        stack = describe_stack(cfn, name, retry)
        status = "DELETE_COMPLETE" if stack is None else str(stack["StackStatus"])
        try:
            events = retry(cfn.describe_stack_events, StackName=name)["StackEvents"]
        except Exception:  # the stack is gone (delete finished)
            events = []
        for event in reversed(events):
            when = event["Timestamp"]
            if event["EventId"] in seen or (isinstance(when, dt.datetime) and when < since):
                continue
            seen.add(event["EventId"])
            reason = (
                f"  {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
            )
            stamp = when.strftime("%H:%M:%S") if isinstance(when, dt.datetime) else str(when)
            echo(
                f"{stamp} {event['ResourceStatus']:<28} {event['ResourceType']:<36} "
                f"{event['LogicalResourceId']}{reason}"
            )
        if status in TERMINAL_OK or status in TERMINAL_FAILED:
            return status
        time.sleep(poll_s)


def _failure_reasons(cfn: Any, name: str, retry: AwsRetry) -> list[str]:
    try:
        events = retry(cfn.describe_stack_events, StackName=name)["StackEvents"]
    except Exception:
        return []
    return [
        f"{e['LogicalResourceId']}: {e['ResourceStatusReason']}"
        for e in events
        if e.get("ResourceStatus", "").endswith("FAILED") and e.get("ResourceStatusReason")
    ]


def apply_stack(
    session: Any,
    config: DeployConfig,
    parameters: Mapping[str, str],
    *,
    body: str | None = None,
    retry: AwsRetry = DEFAULT_RETRY,
    echo: Echo = print,
    confirm: Callable[[list[Change]], bool] | None = None,
    poll_s: float = 5.0,
) -> DeployResult:
    """Create or update the stack through a change set; a no-op when nothing changed.

    Shows the change set, asks ``confirm`` (if given), executes it and waits, echoing
    the stack events. A stack left in ``ROLLBACK_COMPLETE`` by a failed first create is
    deleted first (CloudFormation cannot update it).
    """
    cfn = session.client("cloudformation", region_name=config.region)
    body = body or template_json()
    name = config.stack_name
    stack = describe_stack(cfn, name, retry)
    if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        echo(f"{name} is ROLLBACK_COMPLETE after a failed create; deleting it first")
        retry(cfn.delete_stack, StackName=name)
        wait_for_stack(cfn, name, retry=retry, echo=echo, poll_s=poll_s)
        stack = None
    if stack is not None and is_current(cfn, stack, body, parameters, config.tags(), retry):
        echo(f"{name}: no changes")
        outputs = stack_outputs(cfn, name, retry)
        return DeployResult(name, stack["StackStatus"], outputs=outputs, no_op=True)
    kind = "CREATE" if stack is None else "UPDATE"
    change_set_name = f"wavekit-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}"
    created = retry(
        cfn.create_change_set,
        StackName=name,
        ChangeSetName=change_set_name,
        ChangeSetType=kind,
        TemplateBody=body,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
        Tags=config.tags(),
        Description=f"wavekit deploy of stage {config.stage}",
    )
    described = _wait_change_set(cfn, created["Id"], retry, poll_s)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        retry(cfn.delete_change_set, ChangeSetName=created["Id"])
        if NO_CHANGES.search(reason):
            echo(f"{name}: no changes")
            return DeployResult(name, str(stack and stack["StackStatus"]), no_op=True,
                                outputs=stack_outputs(cfn, name, retry))  # fmt: skip
        raise DeployError(f"change set failed: {reason}")
    changes = _changes(described)
    echo(f"change set {change_set_name} ({kind.lower()} {name}): {len(changes)} change(s)")
    for change in changes:
        echo(f"  {change}")
    if confirm is not None and not confirm(changes):
        retry(cfn.delete_change_set, ChangeSetName=created["Id"])
        echo("not applied")
        return DeployResult(name, "NOT_APPLIED", changes=changes)
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    retry(cfn.execute_change_set, ChangeSetName=created["Id"])
    status = wait_for_stack(cfn, name, retry=retry, echo=echo, poll_s=poll_s, since=started)
    if status not in TERMINAL_OK:
        reasons = _failure_reasons(cfn, name, retry)
        hint = (
            " (IAM had not caught up with a new role: deploy again)"
            if any(IAM_PROPAGATION.search(r) for r in reasons)
            else ""
        )
        raise DeployError(f"{name} ended {status}{hint}:\n  " + "\n  ".join(reasons[:10]))
    return DeployResult(name, status, changes=changes, outputs=stack_outputs(cfn, name, retry))


# -- the static page ---------------------------------------------------------------------------


def build_web_site(
    out_dir: Path, api_url: str, region: str, bucket: str, config: DeployConfig
) -> Path:
    """The page (``wavekit.web.build_site``) with the API URL injected; presigned
    downloads come from the WAV bucket's origin, which the page's CSP must allow."""
    from wavekit.web import build_site

    connect = [f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region}.amazonaws.com"]
    shutil.rmtree(out_dir, ignore_errors=True)
    build_site(out_dir, api_url, "url", max_duration_s=config.max_duration_s, connect=connect)
    return out_dir


def _content_type(path: Path) -> str:
    try:
        from wavekit.web import media_type

        return media_type(path)
    except ImportError:  # pragma: no cover - the web page ships with wavekit
        return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def publish_site(
    session: Any,
    bucket: str,
    site_dir: Path,
    *,
    distribution_id: str | None = None,
    retry: AwsRetry = DEFAULT_RETRY,
    echo: Echo = print,
) -> int:
    """Sync ``site_dir`` to the page bucket: upload changed files (by MD5), delete stale
    ones, invalidate CloudFront if anything changed. Returns the files uploaded."""
    s3 = session.client("s3")
    present: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            present[entry["Key"]] = entry["ETag"].strip('"')
    wanted = {str(p.relative_to(site_dir)): p for p in sorted(site_dir.rglob("*")) if p.is_file()}
    uploaded = 0
    for key, path in wanted.items():
        data = path.read_bytes()
        if present.get(key) == hashlib.md5(data, usedforsecurity=False).hexdigest():
            continue
        cache = "no-cache" if key in {"index.html", "config.js"} else "public, max-age=300"
        retry(
            s3.put_object,
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=_content_type(path),
            CacheControl=cache,
        )
        uploaded += 1
    stale = [k for k in present if k not in wanted]
    for start in range(0, len(stale), 1000):
        objects = [{"Key": k} for k in stale[start : start + 1000]]
        retry(s3.delete_objects, Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    changed = uploaded + len(stale)
    echo(f"page: {uploaded} file(s) uploaded, {len(stale)} removed")
    if changed and distribution_id:
        retry(
            session.client("cloudfront").create_invalidation,
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                "CallerReference": f"wavekit-{time.time_ns()}",
            },
        )
    return uploaded


# -- the whole deploy --------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What a deploy would do (the dry run): stack, parameters, resources, cost."""

    config: DeployConfig
    resources: dict[str, int]
    parameters: dict[str, str]
    template_bytes: int

    def lines(self) -> list[str]:
        return [
            f"stack {self.config.stack_name} in {self.config.region} "
            f"(template {self.template_bytes:,} bytes as JSON)",
            "parameters:",
            *(f"  {k} = {v}" for k, v in self.parameters.items()),
            f"resources ({sum(self.resources.values())}):",
            *(f"  {n:>2} x {t}" for t, n in sorted(self.resources.items())),
        ]


def plan(config: DeployConfig, bundles: Mapping[str, Bundle] | None = None) -> Plan:
    """The dry run: no AWS call. Bundle keys are placeholders unless ``bundles`` is given."""
    template = load_template()
    counts: dict[str, int] = {}
    for resource in template["Resources"].values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    api_key = bundles["api"].key if bundles else "bundles/api-<content hash>.zip"
    refresh_key = bundles["refresh"].key if bundles else "bundles/refresh-<content hash>.zip"
    parameters = config.parameters("wavekit-artifacts-<account>-<region>", api_key, refresh_key)
    return Plan(config, counts, parameters, len(template_json()))


def cost_lines(requests_per_month: int) -> list[str]:
    """The estimated monthly bill for ``requests_per_month`` API requests, as text."""
    from wavekit.analytics.costs import Workload, estimate_monthly_cost

    estimate = estimate_monthly_cost(Workload(requests_per_month))
    total = sum(line.usd for line in estimate)
    rows = [f"  {c.item:<24} {c.quantity:<40} ${c.usd:>10,.2f}" for c in estimate]
    return [
        f"estimated monthly cost for {requests_per_month:,} API requests "
        "(us-east-1 list prices, arm64, no free tier; wavekit/analytics/costs.py):",
        *rows,
        f"  {'total':<65} ${total:>10,.2f}",
    ]


def deploy(
    config: DeployConfig,
    *,
    session: Any = None,
    bundles: Mapping[str, Bundle] | None = None,
    build_dir: Path = Path("build/lambda"),
    site_dir: Path | None = None,
    publish_page: bool = True,
    template_body: str | None = None,
    retry: AwsRetry = DEFAULT_RETRY,
    echo: Echo = print,
    confirm: Callable[[list[Change]], bool] | None = None,
    poll_s: float = 5.0,
) -> DeployResult:
    """Build (unless ``bundles``) and upload the bundles, apply the stack, publish the page.

    Parameters
    ----------
    config
        Names and limits of the deployment.
    session
        boto3 session (default: boto3's credentials chain, ``config.region``).
    bundles
        Prebuilt bundles (``api`` and ``refresh``); built with :func:`build_bundles` if None.
    site_dir
        Where the page is built before upload (``build/site-<stage>`` by default).
    publish_page
        Build the page with the API URL and sync it to its bucket.
    template_body
        Another template (JSON) taking the same parameters; ``deploy/template.yaml`` if None.
    retry, echo, confirm, poll_s
        Backoff policy, progress output, change-set approval, polling interval.

    Returns
    -------
    DeployResult
        Stack status, the change set's changes, outputs, whether it was a no-op.
    """
    session = _session(session, config.region)
    bundles = bundles or build_bundles(build_dir, echo)
    bucket = ensure_artifact_bucket(session, config.region, retry, echo)
    keys = {name: upload_bundle(session, bucket, b, retry, echo) for name, b in bundles.items()}
    parameters = config.parameters(bucket, keys["api"], keys["refresh"])
    result = apply_stack(
        session,
        config,
        parameters,
        body=template_body,
        retry=retry,
        echo=echo,
        confirm=confirm,
        poll_s=poll_s,
    )
    if result.status == "NOT_APPLIED":
        return result
    if publish_page and "WebBucketName" in result.outputs:
        out = site_dir or build_dir.parent / f"site-{config.stage}"
        page = build_web_site(
            out, result.outputs["ApiUrl"], config.region, result.outputs["WavesBucketName"], config
        )
        result.site_files_uploaded = publish_site(
            session,
            result.outputs["WebBucketName"],
            page,
            distribution_id=result.outputs.get("WebDistributionId"),
            retry=retry,
            echo=echo,
        )
    for key, value in sorted(result.outputs.items()):
        echo(f"{key:<22} {value}")
    return result


def empty_bucket(session: Any, bucket: str, retry: AwsRetry = DEFAULT_RETRY) -> int:
    """Delete every object version and delete marker; return how many were removed."""
    s3 = session.client("s3")
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        entries = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        for start in range(0, len(entries), 1000):
            chunk = entries[start : start + 1000]
            retry(s3.delete_objects, Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
            removed += len(chunk)
    return removed


def destroy(
    config: DeployConfig,
    *,
    session: Any = None,
    retry: AwsRetry = DEFAULT_RETRY,
    echo: Echo = print,
    poll_s: float = 5.0,
) -> bool:
    """Empty the stack's buckets and delete the stack (the artefact bucket stays).

    Returns False if there was no such stack.
    """
    session = _session(session, config.region)
    cfn = session.client("cloudformation", region_name=config.region)
    name = config.stack_name
    if describe_stack(cfn, name, retry) is None:
        echo(f"{name}: no such stack")
        return False
    resources_ = retry(cfn.describe_stack_resources, StackName=name)["StackResources"]
    for resource in resources_:
        is_bucket = resource.get("ResourceType") == "AWS::S3::Bucket"
        if is_bucket and resource.get("PhysicalResourceId"):
            bucket = resource["PhysicalResourceId"]
            try:
                removed = empty_bucket(session, bucket, retry)
            except Exception as exc:
                if aws_error_code(exc) != "NoSuchBucket":
                    raise
                continue
            echo(f"emptied {bucket} ({removed} object(s))")
    retry(cfn.delete_stack, StackName=name)
    status = wait_for_stack(cfn, name, retry=retry, echo=echo, poll_s=poll_s)
    if status != "DELETE_COMPLETE":
        raise DeployError(
            f"{name} ended {status}: " + "; ".join(_failure_reasons(cfn, name, retry))
        )
    echo(f"{name} deleted")
    return True


@dataclass(frozen=True)
class StackSummary:
    name: str
    stage: str
    status: str
    updated: dt.datetime | None


def project_stacks(
    session: Any = None, region: str | None = None, retry: AwsRetry = DEFAULT_RETRY
) -> list[StackSummary]:
    """Stacks tagged as this project's, any stage."""
    session = _session(session, region)
    cfn = session.client("cloudformation", region_name=region)
    found = []
    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
            if tags.get(PROJECT_TAG) != "wavekit" or stack["StackStatus"] == "DELETE_COMPLETE":
                continue
            found.append(
                StackSummary(
                    stack["StackName"],
                    tags.get(STAGE_TAG, "?"),
                    stack["StackStatus"],
                    stack.get("LastUpdatedTime") or stack.get("CreationTime"),
                )
            )
    return sorted(found, key=lambda s: s.name)


# -- logs --------------------------------------------------------------------------------------

LOG_GROUP_OUTPUTS = {
    "api": "ApiLogGroupName",
    "worker": "WorkerLogGroupName",
    "cleaner": "CleanerLogGroupName",
    "refresh": "RefreshLogGroupName",
    "access": "AccessLogGroupName",
}


@dataclass(frozen=True)
class LogLine:
    timestamp: dt.datetime
    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S.%f}"[:-3] + f" {self.source:<8} {self.message}"


def gather_logs(
    request_id: str,
    log_groups: Mapping[str, str],
    *,
    session: Any = None,
    region: str | None = None,
    since: dt.timedelta = dt.timedelta(days=3),
    retry: AwsRetry = DEFAULT_RETRY,
) -> list[LogLine]:
    """Every log line that mentions ``request_id`` in the given groups, oldest first.

    The handlers log JSON lines with a ``request_id`` field (and the job service names the
    id in its messages), so a quoted-term filter finds a request's lines in the API,
    worker and cleaner functions alike.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", request_id):
        raise DeployError(f"request_id: {request_id!r} is not a request id")
    session = _session(session, region)
    logs = session.client("logs", region_name=region)
    start = int((dt.datetime.now(dt.UTC) - since).timestamp() * 1000)
    found = []
    for source, group in log_groups.items():
        paginator = logs.get_paginator("filter_log_events")
        pages = paginator.paginate(
            logGroupName=group, filterPattern=f'"{request_id}"', startTime=start
        )
        try:
            for page in pages:
                for event in page.get("events", []):
                    when = dt.datetime.fromtimestamp(event["timestamp"] / 1000, dt.UTC)
                    found.append(LogLine(when, source, event["message"].rstrip("\n")))
        except Exception as exc:
            if aws_error_code(exc) != "ResourceNotFoundException":
                raise
    return sorted(found, key=lambda line: (line.timestamp, line.source))


def stack_log_groups(config: DeployConfig, session: Any = None) -> dict[str, str]:
    """The log groups of a deployed stack, by function (from its outputs)."""
    session = _session(session, config.region)
    outputs = stack_outputs(session.client("cloudformation", region_name=config.region),
                            config.stack_name)  # fmt: skip
    return {src: outputs[key] for src, key in LOG_GROUP_OUTPUTS.items() if key in outputs}


def with_overrides(config: DeployConfig, **changes: Any) -> DeployConfig:
    """``config`` with the non-None ``changes`` applied (CLI options)."""
    return replace(config, **{k: v for k, v in changes.items() if v is not None})


def default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


ArchitectureName = Literal["arm64", "x86_64"]
