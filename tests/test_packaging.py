"""Repository hygiene: dependency lists agree, the public API is what __all__ says."""

from __future__ import annotations

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
