"""Execute every notebook in notebooks/ on the sample study (parameters cell replaced)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.notebooks

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def study_dirs(sample_raw, sample_processed, tmp_path_factory) -> dict[str, Path]:
    """The shared sample study (read-only) and a folder of the notebooks' own for a report."""
    return {"raw": sample_raw, "processed": sample_processed, "reports": tmp_path_factory.mktemp("nb") / "reports"}


def _parameters(dirs: dict[str, Path]) -> str:
    return (
        "from pathlib import Path\n"
        "YEAR = 2021\n"
        f"RAW_DIR = Path({str(dirs['raw'] / '2021')!r})\n"
        f"PROCESSED_DIR = Path({str(dirs['processed'] / '2021')!r})\n"
        f"PREVIOUS_DIR = Path({str(dirs['processed'] / '2020')!r})\n"
        f"REPORT_DIR = Path({str(dirs['reports'] / '2021')!r})\n"
    )


def test_notebooks_exist():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, study_dirs):
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        f"{path.name} is committed with outputs; strip them"
    )
    tagged = [c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
    tagged[0].source = _parameters(study_dirs)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
