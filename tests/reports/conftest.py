from __future__ import annotations

import datetime as dt
from pathlib import Path

import nbformat
import pytest

from wavekit.analytics import generate_traffic

END = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def report_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("report") / "lake"
    generate_traffic(30_000, 40, lake, seed=11, end=END)
    return lake


@pytest.fixture(scope="session")
def without_ipywidgets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that, first on ``PYTHONPATH``, makes ``import ipywidgets`` fail.

    ``make demo`` installs the service, analytics and reports extras, not the studio's
    ipywidgets; a kernel there is what renders the report. In such a kernel anything
    that imports ``tqdm.auto`` prints a red "TqdmWarning: IProgress not found".
    """
    shadow = tmp_path_factory.mktemp("without-ipywidgets")
    (shadow / "ipywidgets").mkdir()
    (shadow / "ipywidgets" / "__init__.py").write_text(
        'raise ImportError("ipywidgets is not installed (as in a `make demo` venv)")\n'
    )
    return shadow


@pytest.fixture
def tiny_notebook(tmp_path: Path) -> Path:
    """A fast notebook with parameters; ``fail=True`` makes its second cell raise."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "start = None\nend = None\nfail = False\ntables_dir = None",
            metadata={"tags": ["parameters"]},
        ),
        nbformat.v4.new_markdown_cell("## Tiny section"),
        nbformat.v4.new_code_cell(
            "if fail:\n    raise ValueError('engine: must be local or athena')\n"
            "print('window', start, end)"
        ),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}  # fmt: skip
    path = tmp_path / "07_tiny.ipynb"
    nbformat.write(notebook, path)
    return path
