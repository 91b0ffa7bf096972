"""The Lambda bundles: our wheel plus manylinux CPython 3.12 wheels, pruned and zipped.

Built with pip alone (``--platform manylinux… --only-binary=:all:``), so an arm64 bundle
is made on any machine without Docker or an arm64 build host. Each step is cached under
the build directory behind a stamp of its inputs (dependencies, our sources, exclusions),
and the zip is reproducible (sorted entries, fixed times and modes): an unchanged bundle
has the same content hash, hence the same artefact key, and is never uploaded twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from wavekit.deploy.config import ARCHITECTURE, PYTHON_VERSION, Echo
from wavekit.errors import BundleTooLargeError, DeployError
from wavekit.settings import Settings

LAMBDA_ZIP_LIMIT = 50 * 1024**2
"""Direct-upload limit; bundles go through S3, but a small zip deploys faster."""
LAMBDA_UNZIPPED_LIMIT = 250 * 1024**2
"""Function code plus layers, unzipped."""
SDK_PANDAS_LAYER_BUDGET = 180 * 1024**2
"""Room left for the AWS SDK for pandas layer next to the refresh bundle."""

API_REQUIREMENTS: tuple[str, ...] = (
    "aws-lambda-powertools>=3.0",
    "fastapi>=0.110",
    "mangum>=0.17",
    "numpy>=1.26",
    "pydantic>=2.7",
    "pydantic-settings>=2.3",
    "soundfile>=0.12.1",
    "tqdm>=4.66",
)
"""The API/worker/cleaner bundle (the handlers log and batch with powertools). boto3 is
in the Lambda runtime; pyarrow, pandas and duckdb are not needed (events go to Firehose
as JSON)."""
REFRESH_REQUIREMENTS: tuple[str, ...] = (
    "aws-lambda-powertools>=3.0",
    "pydantic>=2.7",
    "pydantic-settings>=2.3",
    "soundfile>=0.12.1",
    "tqdm>=4.66",
)
"""The refresh bundle: numpy, pandas, pyarrow and awswrangler come from the AWS SDK for
pandas layer, which keeps both under Lambda's 250 MB."""
LAYER_PROVIDED: tuple[str, ...] = (
    "numpy",
    "numpy.libs",
    "numpy-*.dist-info",
    "jmespath",
    "jmespath-*.dist-info",
)
"""Removed from the refresh bundle: the layer has numpy (one numpy, the layer's) and the
runtime has jmespath (boto3's; powertools pulls it in)."""
PRUNED_DIRS = frozenset({"__pycache__", "tests", "testing"})
PRUNED_SUFFIXES = (".pyc", ".pyi", ".c", ".h", ".pxd", ".pyx")
SOURCE_PATTERNS = ("pyproject.toml", "wavekit/**/*", "athena/*.sql", "deploy/*")
"""What our wheel is built from: a change here rebuilds it."""


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
    root = Path(__file__).resolve().parents[2]
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


def zip_directory(site: Path, target: Path) -> tuple[int, int]:
    """Zip ``site`` reproducibly (sorted entries, fixed times and modes) into ``target``.

    Returns
    -------
    tuple[int, int]
        Files written and their total size unzipped.
    """
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


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """One build at a time per bundle and build directory: two deploys (or parallel test
    workers) would otherwise delete each other's half-made files. The second waits, then
    finds the first one's stamps and reuses its work."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows has no flock; builds are unguarded
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
    DeployError
        If pip fails, or there is no source tree to build from.
    """
    root = _project_root()
    work = Path(build_dir) / f"{name}-{architecture}"
    with _exclusive(work.parent / f"{name}-{architecture}.lock"):
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
        source_hash = _tree_hash(root, SOURCE_PATTERNS)
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
            return _checked(_described(name, target), unzipped_limit, echo)
        shutil.rmtree(site, ignore_errors=True)
        shutil.copytree(deps, site)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
        _prune(site)
        for pattern in exclude:  # provided by a layer
            for path in site.glob(pattern):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        compiled = _precompile(site, echo)
        zip_directory(site, target)
        zip_stamp.write_text(inputs + ("+pyc" if compiled else ""))
        return _checked(_described(name, target), unzipped_limit, echo)


def python312(settings: Settings | None = None) -> str | None:
    """A CPython 3.12 interpreter (``WAVEKIT_BUNDLE_PYTHON`` or ``python3.12``), if any."""
    configured = (settings or Settings()).bundle_python
    for candidate in (configured, shutil.which("python3.12")):
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


def _described(name: str, target: Path) -> Bundle:
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
