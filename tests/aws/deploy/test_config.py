"""DeployConfig's limits are the template's, and a bad option is a DeployConfigError
naming it (a ValueError, so the CLI exits 2); the bundle interpreter comes from Settings."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from wavekit import deploy as d
from wavekit.deploy.bundle import python312
from wavekit.deploy.config import LOG_RETENTION_DAYS, MAX_DURATION_RANGE_S, MINIMUMS, STAGE_RE
from wavekit.errors import DeployConfigError, DeployError
from wavekit.settings import Settings

FIELDS = {  # template parameter -> DeployConfig field
    "MaxDurationS": "max_duration_s",
    "ApiConcurrency": "api_concurrency",
    "WorkerConcurrency": "worker_concurrency",
    "LogRetentionDays": "log_retention_days",
    "WavesExpireDays": "waves_expire_days",
    "AthenaBytesCutoff": "athena_bytes_cutoff",
}


@pytest.fixture(scope="module")
def parameters() -> dict[str, Any]:
    return dict(d.load_template()["Parameters"])


def test_every_limit_of_the_template_is_checked_with_the_same_bounds(
    parameters: dict[str, Any],
) -> None:
    constrained = {
        name
        for name, spec in parameters.items()
        if {"MinValue", "MaxValue", "AllowedValues"} & set(spec)
    }
    assert constrained == set(FIELDS)
    assert parameters["MaxDurationS"]["MinValue"] == MAX_DURATION_RANGE_S[0]
    assert parameters["MaxDurationS"]["MaxValue"] == MAX_DURATION_RANGE_S[1]
    assert set(parameters["LogRetentionDays"]["AllowedValues"]) == LOG_RETENTION_DAYS
    for name, field in FIELDS.items():
        if field in MINIMUMS:
            assert parameters[name]["MinValue"] == MINIMUMS[field], name
    assert parameters["Stage"]["AllowedPattern"] == STAGE_RE.pattern


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stage", "Bad-Stage"),
        ("allowed_origins", ("app.example.com/path",)),
        ("max_duration_s", 0.5),
        ("max_duration_s", 601.0),
        ("api_concurrency", 0),
        ("worker_concurrency", 1),
        ("log_retention_days", 2),
        ("waves_expire_days", 2),
        ("athena_bytes_cutoff", 9_999_999),
    ],
)
def test_a_bad_option_names_itself(field: str, value: Any) -> None:
    with pytest.raises(DeployConfigError, match=rf"^{field}: ") as caught:
        d.DeployConfig(**{field: value})
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, DeployError)


def test_the_bounds_themselves_are_accepted() -> None:
    low, high = MAX_DURATION_RANGE_S
    for duration in (low, high):
        assert d.DeployConfig(max_duration_s=duration).parameters("b", "a", "r")["MaxDurationS"]
    config = d.DeployConfig(**MINIMUMS)
    assert config.worker_concurrency == MINIMUMS["worker_concurrency"]
    with pytest.raises(DeployConfigError, match="max_duration_s"):
        d.with_overrides(config, max_duration_s=0)


def test_a_bad_request_id_is_a_config_error() -> None:
    with pytest.raises(DeployConfigError, match=r"^request_id: "):
        d.gather_logs('x" OR "', {"api": "/wk/api"})


def test_the_default_region_is_the_shared_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert d.default_region() == "us-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert d.default_region() == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert d.default_region() == "eu-central-1"


def fake_python(path: Path, answer: str) -> Path:
    path.write_text(f"#!/bin/sh\necho {answer}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_the_bundle_interpreter_comes_from_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = fake_python(tmp_path / "py312", "cpython 3 12")
    monkeypatch.setenv("WAVEKIT_BUNDLE_PYTHON", str(good))
    assert python312() == str(good)
    other = fake_python(tmp_path / "other", "cpython 3 12")
    assert python312(Settings(bundle_python=str(other))) == str(other)
    wrong = fake_python(tmp_path / "py311", "cpython 3 11")
    monkeypatch.setenv("WAVEKIT_BUNDLE_PYTHON", str(wrong))
    assert python312() != str(wrong)
