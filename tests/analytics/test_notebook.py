"""notebooks/04_athena_analyst.ipynb runs headless (papermill) on a generated lake."""

from __future__ import annotations

import json
from pathlib import Path

import papermill
import pytest

from wavekit.analytics import BOARDS, USAGE_QUERIES, compute_leaderboard
from wavekit.backends.local import DuckDBWarehouse

from .conftest import END

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "04_athena_analyst.ipynb"


@pytest.mark.slow
@pytest.mark.usefixtures("python_kernel")
def test_the_analyst_notebook_runs_locally_and_exports_what_the_library_computes(
    tmp_path: Path, lake: Path
) -> None:
    out = tmp_path / "run.ipynb"
    export = tmp_path / "export"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "engine": "local",
            "lake": str(lake),
            "window": "month",
            "n": 5,
            "now": END.isoformat(),
            "generate_if_missing": False,
            "export_dir": str(export),
        },
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    executed = json.loads(out.read_text())
    outputs = [o for c in executed["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    tables = [o for o in outputs if "text/html" in o.get("data", {})]
    assert len(images) == 2
    assert len(tables) >= len(BOARDS) + len(USAGE_QUERIES)

    assert {p.name for p in export.iterdir()} == {
        *(f"{b}.{x}" for b in BOARDS for x in ("csv", "json")),
        *(f"usage_{u}.{x}" for u in USAGE_QUERIES for x in ("csv", "json")),
    }
    with DuckDBWarehouse(lake) as warehouse:
        board = compute_leaderboard(warehouse, "chords_by_requests", "month", n=5, now=END)
    exported = json.loads((export / "chords_by_requests.json").read_text())
    assert exported["entries"] == json.loads(board.to_json())["entries"]
