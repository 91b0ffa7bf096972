"""The Lambda bundles, really built from PyPI wheels (slow the first time, then cached
under build/lambda): manylinux CPython 3.12 aarch64 wheels, aarch64 machine code, our
handler modules, and every import the handlers make resolvable inside the bundle.

We cannot run aarch64 Python 3.12 here, so the imports are resolved statically: from each
handler's module-level imports and the imports inside the handler functions, through our
package's module-level imports, to a top-level name that is in the zip, in the standard
library, or provided by Lambda (boto3) or by the AWS SDK for pandas layer (refresh)."""

from __future__ import annotations

import ast
import re
import struct
import sys
import zipfile
from pathlib import Path

import pytest

from wavekit import deploy as d

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
RUNTIME = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}
LAYER = {"awswrangler", "pandas", "pyarrow", "numpy"}
EM_AARCH64 = 183
HANDLER_ENTRY = {  # bundle -> handler module -> what runs at invocation (lazy imports too)
    "api": {
        "wavekit.handlers.api": [
            "handler",
            "_build",
            "_admin_token",
            "AsyncLeaderboardRefresh",
            "refresh",
        ],
        "wavekit.handlers.worker": ["handler", "_build", "process_record"],
        "wavekit.handlers.cleaner": ["handler", "_build"],
    },
    "refresh": {"wavekit.handlers.refresh": ["handler", "_build"]},
}


@pytest.fixture(scope="module")
def bundles() -> dict[str, d.Bundle]:
    return d.build_bundles(ROOT / "build" / "lambda", echo=lambda line: None)


def names(bundle: d.Bundle) -> set[str]:
    with zipfile.ZipFile(bundle.path) as archive:
        return set(archive.namelist())


def top_level(entries: set[str]) -> set[str]:
    found = set()
    for entry in entries:
        head = entry.split("/", 1)[0]
        found.add(re.sub(r"(\.cpython-[^.]+)?\.(py|so)$", "", head))
    return found


def test_sizes_are_within_lambdas_limits(bundles: dict[str, d.Bundle]) -> None:
    api, refresh = bundles["api"], bundles["refresh"]
    assert api.unzipped_bytes < d.LAMBDA_UNZIPPED_LIMIT
    assert refresh.unzipped_bytes + d.SDK_PANDAS_LAYER_BUDGET < d.LAMBDA_UNZIPPED_LIMIT
    assert max(api.zipped_bytes, refresh.zipped_bytes) < d.LAMBDA_ZIP_LIMIT
    assert api.key == f"bundles/api-{api.sha256[:20]}.zip"


def test_wheels_are_manylinux_cpython312_aarch64(bundles: dict[str, d.Bundle]) -> None:
    for bundle in bundles.values():
        with zipfile.ZipFile(bundle.path) as archive:
            wheels = [n for n in archive.namelist() if n.endswith(".dist-info/WHEEL")]
            assert len(wheels) > 5
            for wheel in wheels:
                tags = re.findall(r"^Tag: (\S+)$", archive.read(wheel).decode(), re.M)
                assert tags, wheel
                for tag in tags:
                    python, abi, platform = tag.split("-")
                    if platform == "any":
                        assert python.startswith(("py3", "py2.py3")), (wheel, tag)
                        continue
                    assert "aarch64" in platform, (wheel, tag)
                    assert platform.startswith("manylinux"), (wheel, tag)
                    # cp312, the stable ABI, or a py3 wheel carrying a C library (soundfile)
                    assert python == "cp312" or abi in {"abi3", "none"}, (wheel, tag)
            shared = [n for n in archive.namelist() if re.search(r"\.so(\.\d+)*$", n)]
            assert shared
            for name in shared:
                header = archive.read(name)[:20]
                assert header[:4] == b"\x7fELF", name
                assert struct.unpack("<H", header[18:20])[0] == EM_AARCH64, name
                if "cpython-" in name:
                    assert "cpython-312-aarch64" in name, name


def test_the_bundles_hold_what_each_function_needs_and_nothing_heavy(
    bundles: dict[str, d.Bundle],
) -> None:
    api = names(bundles["api"])
    for needed in (
        "wavekit/handlers/api.py",
        "wavekit/handlers/worker.py",
        "wavekit/handlers/cleaner.py",
        "wavekit/service/api/app.py",
        "wavekit/backends/aws/__init__.py",
        "wavekit/athena_sql/table_events.sql",
    ):
        assert needed in api
    assert {"mangum", "fastapi", "starlette", "numpy", "pydantic_core", "soundfile"} <= top_level(
        api
    )
    assert "aws_lambda_powertools" in top_level(api)
    assert not {"boto3", "botocore", "pandas", "pyarrow", "duckdb", "uvicorn", "typer"} & (
        top_level(api)
    )
    refresh = names(bundles["refresh"])
    assert "wavekit/backends/aws/athena.py" in refresh
    assert "wavekit/handlers/refresh.py" in refresh
    assert "aws_lambda_powertools" in top_level(refresh)
    assert not (LAYER | RUNTIME) & top_level(refresh)  # the layer's numpy, not a second one


def _imports(tree: ast.AST, only: set[str] | None = None) -> set[str]:
    """Absolute imports: at module level (not under TYPE_CHECKING), or in the functions
    named ``only``."""
    found: set[str] = set()

    def visit(node: ast.AST, inside: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import) and inside:
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and inside and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if only is None or node.name not in only:
                return
            inside = True
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, only is None)
    return found


def test_every_import_of_the_handlers_resolves_in_the_bundle(
    bundles: dict[str, d.Bundle],
) -> None:
    stdlib = set(sys.stdlib_module_names)
    for name, bundle in bundles.items():
        with zipfile.ZipFile(bundle.path) as archive:
            entries = set(archive.namelist())
            available = (
                top_level(entries) | stdlib | RUNTIME | (LAYER if name == "refresh" else set())
            )

            def source(module: str, archive: zipfile.ZipFile = archive) -> str | None:
                path = module.replace(".", "/")
                for candidate in (f"{path}.py", f"{path}/__init__.py"):
                    if candidate in archive.NameToInfo:
                        return archive.read(candidate).decode()
                return None

            todo: set[str] = set()
            for module, entry in HANDLER_ENTRY[name].items():
                text = source(module)
                assert text is not None, f"{name} bundle: {module} is not in it"
                handler = ast.parse(text)
                todo |= _imports(handler) | _imports(handler, set(entry))
            seen: set[str] = set()
            while todo:
                module = todo.pop()
                if module in seen:
                    continue
                seen.add(module)
                top = module.split(".")[0]
                assert top in available, f"{name} bundle: {module} is not in it"
                if top != "wavekit":
                    continue
                parts = module.split(".")
                for depth in range(1, len(parts) + 1):
                    text = source(".".join(parts[:depth]))
                    if text is not None:
                        todo |= _imports(ast.parse(text)) - seen
                    elif depth == len(parts):  # a name imported from a module, not a module
                        assert source(".".join(parts[:-1])) is not None, module
            assert "mangum" in seen if name == "api" else "wavekit.analytics" in seen
