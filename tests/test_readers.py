"""Issue 15: a report Japanese readers open without friction (CSV BOM, workbook, page, figures)."""

from __future__ import annotations

import pandas as pd
from conftest import all_answers, write_self_assessment

from analysis.ingest import ingest
from analysis.study import load_study

BOM = b"\xef\xbb\xbf"


def test_processed_csvs_start_with_one_bom_and_read_back(tmp_path, codebook):
    write_self_assessment(tmp_path / "raw" / "a.xlsx", codebook, "U07", "令和3年度", all_answers(codebook, 4),
                          industry="製造業")
    (tmp_path / "raw" / "bad.xlsx").write_bytes(b"not a workbook")  # so that issues.csv has a row
    ingest(tmp_path / "raw", tmp_path / "out", fiscal_year=2021)
    csvs = sorted((tmp_path / "out").glob("*.csv"))
    assert {"issues.csv", "files.csv", "respondents.csv"} <= {p.name for p in csvs}
    for path in csvs:
        data = path.read_bytes()
        assert data.startswith(BOM) and not data.startswith(BOM * 2), path.name
        assert not pd.read_csv(path, encoding="utf-8-sig").columns[0].startswith("\ufeff"), path.name
    study = load_study(tmp_path / "out")
    assert "\ufeff" not in "".join(map(str, study.issues.columns))
    assert list(study.issues.columns)[0] == pd.read_csv(tmp_path / "out" / "issues.csv").columns[0]
