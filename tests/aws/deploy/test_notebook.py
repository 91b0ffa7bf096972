"""notebooks/03_deploy.ipynb runs headless under papermill as a dry run (no AWS)."""

from __future__ import annotations

import json
from pathlib import Path

import papermill
import pytest

NOTEBOOK = Path(__file__).resolve().parents[3] / "notebooks" / "03_deploy.ipynb"


@pytest.mark.slow
def test_deploy_notebook_dry_run_shows_plan_and_cost(
    tmp_path: Path, python_kernel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "run.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"stage": "nb", "requests_per_month": 3_000_000},
        kernel_name=python_kernel,
        cwd=str(tmp_path),
        progress_bar=False,
    )
    cells = json.loads(out.read_text())["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join("".join(o.get("text", "")) for o in outputs)
    assert "stack wavekit-nb in us-east-1" in text
    assert "4 x AWS::Lambda::Function" in text
    assert "a month for 3,000,000 API requests" in text
    assert "dry run: nothing was built or deployed" in text
    tables = "".join(
        "".join(o["data"]["text/html"]) for o in outputs if "text/html" in o.get("data", {})
    )
    assert "API Gateway HTTP API" in tables
    assert "3.0" in tables  # $1 per million HTTP API requests
    assert not list(tmp_path.glob("build"))  # nothing built in a dry run
