from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
import python_calamine

from analysis.collect.sample.generate import DEFAULT_SEED, SYNTHETIC_NOTE, write_sample
from analysis.disclosure.findings import run_checks
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
def regenerated(sample_raw):
    """The generator's output (the session's shared sample, written by ``write_sample``)."""
    return sample_raw


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


def test_sample_respects_filters_but_one_planted_answer(regenerated):
    # Q1-2 is asked of companies using the guidelines (Q1-1 = 1 or 2): the others leave it blank,
    # except U02 in 2021 (Q1-1 = 3), whose answer is the one warning of the year's ingest.
    y2021 = ingest(regenerated / "2021", fiscal_year=2021)
    y2020 = ingest(regenerated / "2020", fiscal_year=2020)
    assert not [p for p in y2020.problems if p.code == "answered_against_filter"]
    (warning,) = [p for p in y2021.problems if p.code == "answered_against_filter"]
    assert (warning.severity, warning.file, warning.sheet, warning.cell) == ("warning", "presurvey.xlsx", "回答", "D21")
    assert "U02" in warning.text("ja") and "U02, who answered Q1-1 with 3" in warning.text("en")
    for result in (y2020, y2021):
        answers = result.tables["presurvey"]
        q12 = answers[answers["question_id"] == "Q1-2"]
        against = q12[q12["eligible"].eq(False) & q12["option_code"].notna()]
        expected = {"U02"} if result is y2021 else set()
        assert set(against["respondent_id"]) == expected
        assert q12["eligible"].notna().all()  # every company answered Q1-1


# -- the interviews look like the study's ------------------------------------------------------

# Statements per section in the report (2.2.1(8) ①-⑬ and 2.3(2) ①-⑥), as the sample's bank has them.
REPORT_USER_SECTIONS = [16, 7, 9, 3, 16, 8, 22, 23, 12, 10, 6, 20, 6]
REPORT_INVESTOR_SECTIONS = [8, 9, 6, 5, 2, 3]
OTHER_SEED = 7


@pytest.fixture(scope="module")
def reseeded(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample_reseeded")
    write_sample(out, seed=OTHER_SEED)
    return out


@pytest.fixture(scope="module")
def interviews(regenerated, reseeded):
    """Per seed, the 2021 study as the ingest reads it: statements and the computed maturity."""
    return {
        seed: ingest(root / "2021", fiscal_year=2021)
        for seed, root in ((DEFAULT_SEED, regenerated), (OTHER_SEED, reseeded))
    }


SEEDS = [DEFAULT_SEED, OTHER_SEED]


def _package_csv(*parts: str) -> pd.DataFrame:
    path = resources.files("analysis.collect.sample").joinpath(*parts)
    return pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""])


def test_report_section_counts_are_the_published_records():
    # The numbers above are the report's own: the transcription of its statements agrees.
    published = _package_csv("records", "published_findings.csv")
    per_section = published.groupby(["respondent_group", published["section"].astype(int)]).size()
    assert per_section["user"].sort_index().tolist() == REPORT_USER_SECTIONS
    assert per_section["investor"].sort_index().tolist() == REPORT_INVESTOR_SECTIONS


def test_bank_categories_are_the_reports():
    # Every user and investor category holds as many invented statements as the report prints in
    # it, and the maturity groups sit in the categories where the report's are.
    published = _package_csv("records", "published_findings.csv")
    bank = _package_csv("statement_bank.csv")
    bank = bank[bank["respondent_group"].isin(["user", "investor"])]
    assert bank.groupby("category_id").size().to_dict() == published.groupby("category_id").size().to_dict()

    def marked(frame: pd.DataFrame) -> list[tuple[str, str]]:
        return sorted(frame.dropna(subset=["maturity"])[["category_id", "maturity"]].itertuples(index=False))

    assert marked(bank) == marked(published)
    assert not bank["text_ja"].duplicated().any()


@pytest.mark.parametrize("seed", SEEDS)
def test_statements_per_section_are_the_reports(interviews, seed):
    result = interviews[seed]
    assert result.n_errors == 0
    statements = result.tables["statements"]
    per_section = statements.groupby(["respondent_group", "section"]).size()
    assert per_section["user"].sort_index().tolist() == REPORT_USER_SECTIONS
    assert per_section["investor"].sort_index().tolist() == REPORT_INVESTOR_SECTIONS
    # Vendors and experts keep the bank's statements (9 and 16).
    assert per_section["vendor"].sum() == 9 and per_section["expert"].sum() == 16


@pytest.mark.parametrize("seed", SEEDS)
def test_maturity_groups_on_about_the_reports_share(interviews, seed):
    # The report attributes 12 of its 158 user statements (8%) to a maturity group.
    users = interviews[seed].tables["statements"].query("respondent_group == 'user'")
    share = users["maturity"].notna().mean()
    assert 0.05 <= share <= 0.12, share
    assert users["maturity"].notna().sum() == 12
    # Only user companies' statements carry a group.
    others = interviews[seed].tables["statements"].query("respondent_group != 'user'")
    assert others["maturity"].isna().all()


def _speakers(result) -> pd.DataFrame:
    statements = result.tables["statements"].query("respondent_group == 'user'")
    levels = result.tables["maturity"][["respondent_id", "fiscal_year", "level"]]
    return statements.merge(levels, on=["respondent_id", "fiscal_year"], how="left", validate="many_to_one")


@pytest.mark.parametrize("seed", SEEDS)
def test_a_marked_statement_is_spoken_by_a_company_of_that_level(interviews, seed, codebook):
    groups = codebook.table("maturity_groups")
    level_of_group = dict(zip(groups["code"], groups["level"], strict=True))
    speakers = _speakers(interviews[seed])
    marked = speakers[speakers["maturity"].notna()]
    assert len(marked) > 0
    expected = marked["maturity"].astype(str).map(level_of_group)
    assert (marked["level"].astype("object") == expected).all(), marked[["respondent_id", "maturity", "level"]]


@pytest.mark.parametrize("seed", SEEDS)
def test_an_unclassified_company_speaks_no_marked_statement(interviews, seed):
    maturity = interviews[seed].tables["maturity"]
    unclassified = set(maturity.loc[maturity["level"].isna(), "respondent_id"])
    assert unclassified == {"U12"}  # the sample's company whose level depends on an unanswered directive
    speakers = _speakers(interviews[seed])
    assert speakers.loc[speakers["respondent_id"].isin(unclassified), "maturity"].isna().all()
    # Unmarked statements come from every user company, the unclassified one included.
    unmarked = speakers[speakers["maturity"].isna()]
    assert set(unmarked["respondent_id"]) == set(maturity["respondent_id"])


def test_disclosure_findings_report_on_another_seed(interviews, codebook):
    # The disclosure review is drawn apart from the statements: the findings still hold.
    result = run_checks(interviews[OTHER_SEED].tables["disclosures"], codebook)
    assert len(result) == 5 and result["holds"].all(), result["evidence"].to_string()
