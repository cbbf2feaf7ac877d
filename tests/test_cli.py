"""The ``survey`` command end to end on the sample study, as a researcher runs it."""

from __future__ import annotations

import argparse
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import add_limit_arguments, limits_from_args, main, year_folders
from analysis.ingest.safety import DEFAULT_LIMITS


def _survey(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis.cli", *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    assert main(["sample", "--out", str(root / "data" / "raw")]) == 0
    return root


@pytest.mark.slow
def test_run_builds_every_year(project):
    proc = _survey("run", cwd=project)
    assert proc.returncode == 0, proc.stderr
    for year in (2020, 2021):
        processed = project / "data" / "processed" / str(year)
        assert (processed / "self_assessment.parquet").is_file() and (processed / "maturity.csv").is_file()
        assert (project / "reports" / str(year) / "index.html").is_file()
        issues = pd.read_csv(processed / "issues.csv", encoding="utf-8-sig")
        # The sample is clean but for one planted answer against its filter (2021, a warning).
        expected = ["answered_against_filter"] if year == 2021 else []
        assert list(issues["code"]) == expected and not (issues["severity"] == "error").any()
    assert (project / "data" / "processed" / "study.duckdb").is_file()  # the run ends with survey db
    assert (
        (project / "reports" / "2021" / "findings.csv")
        .read_text(encoding="utf-8-sig")
        .startswith("finding,holds,evidence")
    )


@pytest.mark.slow
def test_names_never_leave_the_workbooks(project):
    # Every sample company and organisation name carries the mark (架空); none may be output.
    outputs = [p for p in (project / "data" / "processed").rglob("*") if p.suffix in (".csv", ".json")]
    outputs += [p for p in (project / "reports").rglob("*") if p.suffix in (".csv", ".md", ".html", ".svg")]
    assert outputs
    for path in outputs:
        assert "架空" not in path.read_text(encoding="utf-8"), path
    for book in (project / "reports").rglob("tables.xlsx"):
        with zipfile.ZipFile(book) as package:
            for name in package.namelist():
                assert "架空".encode() not in package.read(name), (book, name)


def test_year_folders(tmp_path):
    for name in ("2021", "fy2020", "notes", "2019x"):
        (tmp_path / name).mkdir()
    assert [y for y, _ in year_folders(tmp_path)] == [2020, 2021]


def test_run_without_year_folders_says_what_to_do(tmp_path):
    (tmp_path / "data" / "raw").mkdir(parents=True)
    proc = _survey("run", cwd=tmp_path)
    assert proc.returncode == 2 and "no year folders" in proc.stderr


def test_template_command(tmp_path):
    proc = _survey("template", "--out", str(tmp_path / "t"), cwd=tmp_path)
    assert proc.returncode == 0
    assert len(list((tmp_path / "t").glob("*_2021.xlsx"))) == 7


def test_command_line_options_raise_limits():
    parser = argparse.ArgumentParser()
    add_limit_arguments(parser)
    args = parser.parse_args(
        ["--max-cells", "20000000", "--max-uncompressed-mb", "1024", "--timeout", "5", "--workers", "3"]
    )
    limits = limits_from_args(args)
    assert (limits.max_cells, limits.max_uncompressed_mb, limits.timeout_s) == (20_000_000, 1024, 5)
    assert limits.max_member_mb == DEFAULT_LIMITS.max_member_mb and args.workers == 3
    assert limits_from_args(parser.parse_args([])) == DEFAULT_LIMITS
