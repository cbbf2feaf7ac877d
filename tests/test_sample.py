from pathlib import Path

import pytest
import python_calamine

from analysis.collect.sample.generate import SYNTHETIC_NOTE, write_sample
from analysis.ingest.folder import ingest

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "data" / "raw"


def _cells(path: Path) -> dict[str, list]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    finally:
        book.close()


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    write_sample(out)
    return out


def _generated_listing(root: Path, years: list[str]) -> list[Path]:
    """Workbooks under ``root`` in the year folders the generator makes (a user's own years are not ours)."""
    return sorted(p.relative_to(root) for year in years for p in (root / year).rglob("*.xlsx"))


def test_generator_reproduces_committed_cells(regenerated):
    years = sorted(p.name for p in regenerated.iterdir() if p.is_dir())
    committed = _generated_listing(COMMITTED, years)
    fresh = _generated_listing(regenerated, years)
    assert years == ["2020", "2021"]
    assert committed == fresh and len(committed) == 27
    for rel in committed:
        assert _cells(COMMITTED / rel) == _cells(regenerated / rel), rel


def test_sample_is_labelled_synthetic(regenerated):
    assert "SYNTHETIC" in (regenerated / "README.md").read_text(encoding="utf-8")
    meta = _cells(regenerated / "2021" / "roster.xlsx")["_meta"]
    assert ["data", SYNTHETIC_NOTE] in meta


def test_sample_shape_matches_the_study(regenerated):
    y2021 = ingest(regenerated / "2021", fiscal_year=2021)
    y2020 = ingest(regenerated / "2020", fiscal_year=2020)
    assert y2021.n_errors == 0 and y2020.n_errors == 0
    users = {y: set(r.tables["self_assessment"]["respondent_id"]) for y, r in ((2020, y2020), (2021, y2021))}
    assert len(users[2020]) == len(users[2021]) == 10
    assert len(users[2020] & users[2021]) >= 6
    respondents = y2021.tables["respondents"]
    counts = respondents.groupby("group").size()
    assert counts["vendor"] == 3 and counts["investor"] == 8
    assert respondents.loc[respondents.group == "investor", "n_interviewees"].sum() == 10
    disclosures = y2021.tables["disclosures"]
    regions = disclosures.drop_duplicates("company_id").groupby("region").size()
    assert regions["overseas"] == 8 and regions["domestic"] == 7
    assert set(disclosures["fiscal_year"]) == {2019, 2020, 2021}
    statements = y2021.tables["statements"]
    assert set(statements.loc[statements.respondent_group == "user", "section"]) == set(range(1, 14))
    assert set(statements.loc[statements.respondent_group == "investor", "section"]) == set(range(1, 7))
    assert len(y2021.tables["meetings"]) == 21 and len(y2021.tables["literature"]) == 27


def test_imperfections_are_normalised(regenerated):
    result = ingest(regenerated / "2021", fiscal_year=2021)
    respondents = result.tables["respondents"].set_index("respondent_id")
    assert respondents.loc["U02", "industry"] == "finance_insurance"  # from a Kangxi radical
    assert respondents.loc["U03", "fiscal_year"] == 2021  # from Ｕ０３ and full-width answers
    assert respondents.loc["U04", "fiscal_year"] == 2021  # from 令和3年度
    sa = result.tables["self_assessment"]
    assert sa.loc[sa.respondent_id == "U03", "score"].notna().all()
    assert (sa["missing_reason"] == "unanswered").any()
