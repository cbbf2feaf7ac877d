"""``survey audit`` and publish mode's own audit, on files as a reader holds them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.cli import main


@pytest.fixture(scope="module")
def published_years(sample_published):
    """The bundled sample study, both years, published as the CLI publishes them (2021, 2020)."""
    return sample_published / "2021", sample_published / "2020"


def test_the_published_sample_passes_its_own_audit_for_one_and_two_years(published_years, tmp_path, capsys):
    current, previous = published_years
    for report in (current, previous):
        audit = pd.read_csv(report / "audit.csv", encoding="utf-8-sig")
        assert list(audit.columns) == ["report", "table", "row", "column", "lo", "hi", "method", "protected"]
        assert len(audit) > 100 and audit["protected"].all()
        spec = json.loads((report / "publication.json").read_text(encoding="utf-8"))
        assert spec["rule"] == {"k": 5, "interval": 1, "share": 0.0}
        assert "value" not in json.dumps(spec)
    out = tmp_path / "audit.csv"
    assert main(["audit", str(current), str(previous), "--out", str(out)]) == 0
    assert "0 narrowed" in capsys.readouterr().out
    both = pd.read_csv(out, encoding="utf-8-sig")
    assert set(both["report"]) == {"r0", "r1"} and both["protected"].all()


def test_the_level_distribution_is_hidden_everywhere_or_nowhere(published_years):
    current, _ = published_years
    levels = pd.read_csv(current / "tables" / "maturity_levels.csv", dtype="str", encoding="utf-8-sig")
    crosstab = pd.read_csv(current / "tables" / "presurvey_q1_1_by_maturity.csv", dtype="str", encoding="utf-8-sig")
    yoy = pd.read_csv(current / "tables" / "yoy_maturity_levels.csv", dtype="str", encoding="utf-8-sig")
    counts = levels.iloc[:, 1].tolist()  # A, B, C, unclassified, total
    margin = [v for c, v in crosstab.iloc[-1].items() if c.endswith(" n")]
    assert margin == counts
    assert yoy.iloc[:, 3].tolist() == counts


def test_audit_fails_on_a_report_that_pins_a_hidden_cell(tmp_path, capsys):
    folder = tmp_path / "report"
    (folder / "tables").mkdir(parents=True)
    (folder / "tables" / "t.csv").write_text("label,n\na,x\nb,5\ntotal,7\n", encoding="utf-8")
    layout = {"total_row": 2, "part_columns": []}
    spec = {
        "rule": {"k": 5, "interval": 1, "share": 0.0},
        "marker": "x",
        "tables": [
            {
                "name": "t",
                "file": "tables/t.csv",
                "columns": ["label", "n"],
                "offset": 0,
                "counts": ["n"],
                "n_rows": 3,
                "layout": layout,
            }
        ],
    }
    (folder / "publication.json").write_text(json.dumps(spec), encoding="utf-8")
    assert main(["audit", str(folder)]) == 1
    assert "t[0, n]: 2..2" in capsys.readouterr().out
    assert main(["audit", str(tmp_path / "nowhere")]) == 2
