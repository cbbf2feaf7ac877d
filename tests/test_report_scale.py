"""The report at scale (issue 16): stage times recorded beside the report, per-company artefacts
only on request, aggregated figures by default, figures streamed to disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.cli import main


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    """The sample study (both years) ingested once for this module."""
    root = tmp_path_factory.mktemp("scale")
    assert main(["sample", "--out", str(root / "raw")]) == 0
    for year in ("2020", "2021"):
        assert main(["ingest", str(root / "raw" / year), "--out", str(root / "processed" / year), "--quiet"]) in (0, 1)
    return root / "processed" / "2021"


@pytest.fixture(scope="module")
def default_report(processed, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("default") / "report"
    assert main(["report", str(processed), "--out", str(out)]) == 0
    return out


def test_stage_times_are_recorded_beside_the_report_not_in_it(default_report):
    record = json.loads((default_report / "report.json").read_text(encoding="utf-8"))
    timings = record["timings"]
    for stage in ("load", "builder:maturity", "figures", "tables", "workbook", "page"):
        assert isinstance(timings[stage], float) and timings[stage] >= 0, stage
    # A record of the run: no table, and not a file the page or the workbook points at.
    assert not (default_report / "tables" / "report.csv").exists()
    assert "report.json" not in (default_report / "index.html").read_text(encoding="utf-8")


def test_publish_records_publication_and_audit_times(processed, tmp_path):
    out = tmp_path / "published"
    assert main(["report", str(processed), "--out", str(out), "--publish"]) == 0
    timings = json.loads((out / "report.json").read_text(encoding="utf-8"))["timings"]
    assert {"publication", "audit"} <= set(timings)
    spec = json.loads((out / "publication.json").read_text(encoding="utf-8"))
    assert "report.json" not in json.dumps(spec)
