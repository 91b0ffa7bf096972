"""Repository hygiene: dependency lists agree, the public API is what __all__ says, and
``import wavekit`` (and the API Lambda handler's import) stays light."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

import wavekit

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> str:
    return requirement.replace(" ", "").lower().replace("_", "-")


def test_environment_yml_lists_the_same_dependencies_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(map(_normalise, project["dependencies"]))
    for extra in project["optional-dependencies"].values():
        declared |= {_normalise(r) for r in extra if not r.startswith("wavekit[")}

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_normalise(r) for r in pip_section if not r.startswith("-e")}

    assert listed - declared == set(), "in environment.yml but not in pyproject.toml"
    assert declared - listed == set(), "in pyproject.toml but not in environment.yml"


def test_public_api_is_exported_and_sorted() -> None:
    assert wavekit.__all__ == sorted(wavekit.__all__)
    for name in wavekit.__all__:
        assert hasattr(wavekit, name), name


def _modules_after(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; what it prints as JSON (``loaded`` is filled
    with the heavy modules it left in ``sys.modules``)."""
    script = (
        "import json, sys\n"
        f"{code}\n"
        "result['loaded'] = sorted(m for m in HEAVY if m in sys.modules)\n"
        "print(json.dumps(result))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\nresult = {{}}\n{script}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    loaded: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


HEAVY = ("numpy", "soundfile", "pydantic", "fastapi")


def test_import_wavekit_loads_neither_numpy_nor_soundfile() -> None:
    light = _modules_after("import wavekit")
    assert light["loaded"] == []
    resolved = _modules_after(
        "import wavekit\n"
        "result['missing'] = [n for n in wavekit.__all__ if getattr(wavekit, n, None) is None]\n"
        "ns = {}\n"
        "exec('from wavekit import *', ns)\n"
        "result['star'] = sorted(n for n in ns if not n.startswith('__') or n == '__version__')"
    )
    assert resolved["missing"] == []
    assert resolved["star"] == sorted(wavekit.__all__)
    assert {"numpy", "soundfile"} <= set(resolved["loaded"])  # really loaded on first use


def test_the_api_handler_imports_without_numpy_or_soundfile() -> None:
    """The Lambda init phase: the handler module, and nothing of the API yet."""
    assert _modules_after("import wavekit.handlers.api")["loaded"] == []


def test_errors_share_one_root() -> None:
    for name in ("InvalidSpecError", "AudioFormatError", "MissingExtraError"):
        assert issubclass(getattr(wavekit, name), wavekit.WavekitError)
    assert issubclass(wavekit.InvalidSpecError, ValueError)


def test_package_is_typed() -> None:
    assert (Path(wavekit.__file__).parent / "py.typed").is_file()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test\n" in readme
    assert ci.rstrip().splitlines()[-1] == "make test"
