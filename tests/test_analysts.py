"""Analysts at home: typed and labelled frames, the data package, the multi-year database."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.codebook import load_codebook
from analysis.study.frames import CODED, UNCLASSIFIED, labelled, typed_frame, vocabulary
from analysis.study.load import Study, load_study
from analysis.study.schema import TABLES


@pytest.fixture(scope="module")
def root(tmp_path_factory, sample_processed):
    """A copy of the shared sample study's processed folders (the database tests write beside them)."""
    root = tmp_path_factory.mktemp("analysts")
    shutil.copytree(sample_processed, root / "processed")
    return root


@pytest.fixture(scope="module")
def study(root):
    return load_study(root / "processed" / "2021")


# -- frames -------------------------------------------------------------------------------------


def test_every_coded_column_is_an_ordered_categorical_of_its_codebook_list(study):
    codebook = study.codebook
    for name, columns in CODED.items():
        frame = study.tables[name]
        for column, vocab in columns.items():
            if column not in frame:  # columns another version of the maturity table adds
                assert name == "maturity" and column in ("level_min", "level_max")
                continue
            dtype = frame[column].dtype
            assert isinstance(dtype, pd.CategoricalDtype) and dtype.ordered, (name, column, dtype)
            codes = list(vocabulary(codebook, vocab)["code"])
            assert list(dtype.categories)[: len(codes)] == codes, (name, column)


def test_missing_reasons_share_one_type_everywhere(study):
    reasons = [m["reason"] for m in study.codebook.meta["missing"]]
    assert list(study.presurvey["missing_reason"].cat.categories) == reasons
    assert study.presurvey["missing_reason"].dtype == study.self_assessment["missing_reason"].dtype


def test_other_columns_keep_the_schema_types_and_dates_are_dates(study):
    for name, columns in TABLES.items():
        for column, dtype in columns.items():
            if column in CODED.get(name, {}):
                continue
            got = study.tables[name][column].dtype
            if name == "meetings" and column == "date":
                assert pd.api.types.is_datetime64_any_dtype(got)
            else:
                assert str(got) == {"str": "str"}.get(dtype, dtype) or pd.api.types.is_string_dtype(got), (
                    name,
                    column,
                    got,
                )
    assert study.meetings["date"].notna().all() and len(study.meetings)


def test_groupby_after_a_merge_keeps_the_unclassified_company(study):
    maturity = study.maturity
    assert (maturity["level"] == UNCLASSIFIED).sum() == 1  # the sample has one unclassified company
    merged = study.respondents.merge(
        maturity[["respondent_id", "fiscal_year", "level"]], on=["respondent_id", "fiscal_year"]
    )
    counts = merged.groupby("level", observed=True).size()
    assert counts.sum() == len(maturity) and counts[UNCLASSIFIED] == 1
    # Without observed=True the empty levels are there too, in the codebook's order.
    assert list(merged.groupby("level", observed=False).size().index) == ["A", "B", "C", UNCLASSIFIED]


def test_statement_groups_map_to_maturity_levels(study):
    mapping = study.maturity_mapping
    assert mapping == {"高": "A", "中": "B", "低": "C"}
    levels = study.statements["maturity"].map(mapping)
    assert set(levels.dropna()) <= set(study.maturity["level"].cat.categories)


def test_labels_in_attrs_and_labelled_copy(study):
    frame = study.respondents
    assert frame.attrs["labels"]["industry"] == {"ja": "業種", "en": "Industry"}
    assert frame.attrs["description"]
    ja = labelled(frame, "ja")
    assert "業種" in ja.columns and "industry" not in ja.columns
    first = frame["industry"].dropna().iloc[0]
    assert study.codebook.label("industries", first, "ja") in set(ja["業種"].astype(str))
    en = labelled(study.maturity, "en")
    assert "Unclassified" in set(en["Maturity level"].astype(str))
    assert frame["industry"].dtype.categories[0] == study.codebook.codelist("industries")["code"].iloc[0]
    with pytest.raises(ValueError):
        labelled(frame, "fr")


@settings(max_examples=examples(30), deadline=None)
@given(st.lists(st.sampled_from(["A", "B", "C", None, "Z"]), max_size=30))
def test_maturity_levels_are_never_lost(levels):
    codebook = load_codebook()
    frame = pd.DataFrame(
        {"respondent_id": [f"U{i}" for i in range(len(levels))], "level": pd.array(levels, dtype="str")}
    )
    typed = typed_frame("maturity", frame, codebook)
    # Every company is counted: missing levels become "unclassified", unknown codes stay as they are.
    assert typed["level"].notna().all()
    assert list(typed["level"].astype(str)) == [v if v is not None else UNCLASSIFIED for v in levels]


def test_study_repr_and_help_are_short_and_describe_tables(study):
    text = repr(study)
    assert len(text) < 600 and "maturity" in text and "2021" in text
    html = study._repr_html_()
    assert "<table>" in html and "respondents" in html
    assert "self_assessment" in Study.__doc__ and "One row per" in Study.__doc__


# -- data package and Parquet ---------------------------------------------------------------------


def test_datapackage_validates_with_frictionless(root):
    frictionless = pytest.importorskip("frictionless")
    folder = root / "processed" / "2021"
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    names = {r["name"] for r in package["resources"]}
    assert {"respondents", "maturity", "statements"} <= names
    sa = next(r for r in package["resources"] if r["name"] == "self_assessment")["schema"]
    reason = next(f for f in sa["fields"] if f["name"] == "missing_reason")
    assert reason["constraints"]["enum"] == [m["reason"] for m in load_codebook().meta["missing"]]
    assert sa["foreignKeys"] and sa["primaryKey"]
    report = frictionless.validate(folder / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def test_datapackage_catches_a_code_outside_the_codebook(root, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    folder = tmp_path / "copy"
    shutil.copytree(root / "processed" / "2021", folder)
    frame = pd.read_csv(folder / "respondents.csv", dtype=str, keep_default_na=False)
    frame.loc[frame["size_band"] != "", "size_band"] = "XXL"
    frame.to_csv(folder / "respondents.csv", index=False, lineterminator="\n")
    report = frictionless.validate(folder / "datapackage.json")
    assert not report.valid
    assert "constraint-error" in {row[0] for row in report.flatten(["type"])}


def test_parquet_keeps_ordered_dictionaries_and_labels(root):
    schema = pq.read_schema(root / "processed" / "2021" / "maturity.parquet")
    level = schema.field("level")
    assert str(level.type).startswith("dictionary") and level.type.ordered
    assert level.metadata[b"label_ja"].decode() == "成熟度レベル"
    meetings = pq.read_schema(root / "processed" / "2021" / "meetings.parquet")
    assert str(meetings.field("table").type) in {"string", "large_string"}  # "2.3" stays text
    assert str(meetings.field("date").type) == "date32[day]"


# -- the multi-year database ----------------------------------------------------------------------


def test_duckdb_holds_every_year_with_enum_types(root):
    duckdb = pytest.importorskip("duckdb")
    from analysis.study.db import DB_FILE, build_database

    processed = root / "processed"
    path = build_database(processed)
    assert path == processed / DB_FILE and path.is_file()
    assert not [p for p in processed.iterdir() if p.name.startswith(".")]  # no temporary left behind
    con = duckdb.connect(str(path), read_only=True)
    try:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns where table_name = 'maturity'"
            ).fetchall()
        )
        assert types["level"].startswith("ENUM")
        for year in (2020, 2021):
            for name in ("respondents", "self_assessment", "presurvey", "maturity"):
                csv = pd.read_csv(processed / str(year) / f"{name}.csv", dtype=str)
                n = con.execute(f"select count(*) from {name} where study_year = ?", [year]).fetchone()[0]
                assert n == len(csv), (year, name)
        levels = dict(con.execute("select level, count(*) from maturity group by all").fetchall())
        assert levels[UNCLASSIFIED] >= 1
        labelled_view = con.execute("select distinct level_ja from maturity_labelled where level = 'A'").fetchall()
        assert labelled_view == [(load_codebook().maturity_rules["rules"][0]["label_ja"],)]
    finally:
        con.close()
    parts = sorted((processed / "parquet" / "maturity").glob("study_year=*/part.parquet"))
    assert [p.parent.name for p in parts] == ["study_year=2020", "study_year=2021"]
    # Built again: replaced in place (it is ours).
    assert build_database(processed) == path


def test_duckdb_refuses_a_file_it_did_not_make(tmp_path, root):
    from analysis.errors import UsageError
    from analysis.study.db import DB_FILE, build_database

    processed = tmp_path / "processed"
    shutil.copytree(root / "processed" / "2021", processed / "2021")
    (processed / DB_FILE).write_bytes(b"not a database")
    with pytest.raises(UsageError):
        build_database(processed)
    assert (processed / DB_FILE).read_bytes() == b"not a database"


# -- the explorer's callbacks ---------------------------------------------------------------------


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.counts, b.counts)
    assert a.test == b.test


@pytest.mark.parametrize(("row", "column"), [("Q1-1", "maturity"), ("size_band", "industry"), ("Q1-2", "size_band")])
def test_crosstab_view_without_filters_is_crosstab(study, row, column):
    from analysis.explore import crosstab_view
    from analysis.tabulation.crosstabs import crosstab

    table, figure = crosstab_view(study, row, column, {})
    _same(table, crosstab(study, row, column))
    assert figure.axes and figure.axes[0].get_title()


def test_crosstab_view_filters_the_respondents(study):
    from analysis.explore import crosstab_view
    from analysis.study.load import study_from_tables
    from analysis.tabulation.crosstabs import crosstab

    kept = {"XL", "L"}
    table, _ = crosstab_view(study, "Q1-1", "maturity", {"size_band": sorted(kept), "industry": []})
    ids = set(study.respondents.loc[study.respondents["size_band"].isin(kept), "respondent_id"])
    by_hand = study_from_tables(
        {
            name: frame[frame["respondent_id"].isin(ids)] if "respondent_id" in frame else frame
            for name, frame in study.tables.items()
        },
        study.codebook,
        study.fiscal_year,
    )
    _same(table, crosstab(by_hand, "Q1-1", "maturity"))
    assert table.counts.loc["total", "total"] < crosstab(study, "Q1-1", "maturity").counts.loc["total", "total"]
    # The maturity filter keeps the unclassified company when asked for it.
    only, _ = crosstab_view(study, "size_band", "maturity", {"maturity": [UNCLASSIFIED]})
    assert only.counts.loc["total", "total"] == 1 and only.counts.loc["total", "missing:unclassified"] == 1
    with pytest.raises(KeyError):
        crosstab_view(study, "Q1-1", "maturity", {"colour": ["red"]})


def test_crosstab_html_has_spanning_headers_and_percent(study):
    from analysis.tabulation.crosstabs import crosstab

    table = crosstab(study, "size_band", "maturity")
    html = table._repr_html_()
    assert html.count("colspan='2'") == len(table.counts.columns)
    assert "%</td>" in html and "0.5<" not in html
    assert len(repr(table)) < 300


def test_browse_statements_filters_and_labels(study):
    from analysis.explore import browse_statements

    everything = browse_statements(study, lang="en")
    assert len(everything) == len(study.statements)
    word = study.statements["text"].dropna().iloc[0][:4]
    hits = browse_statements(study, query=word, lang="en")
    assert 0 < len(hits) <= len(everything) and hits["Statement"].str.contains(word, regex=False).all()
    high = browse_statements(study, maturity="A", lang="ja")
    assert len(high) == (study.statements["maturity"] == "高").sum() > 0
    assert set(high["成熟度"].astype(str)) == {study.codebook.label("maturity_groups", "高", "ja")}
    section = browse_statements(study, section=1, category=None)
    assert len(section) == (study.statements["section"] == 1).sum()


def test_survey_db_command(root, tmp_path, capsys):
    from analysis.cli import main

    processed = tmp_path / "processed"
    shutil.copytree(root / "processed" / "2020", processed / "2020")
    assert main(["db", "--processed", str(processed)]) == 0
    assert (processed / "study.duckdb").is_file() and "study.duckdb" in capsys.readouterr().out
    assert main(["db", "--processed", str(tmp_path / "nowhere")]) == 2


def test_progress_shows_in_a_terminal_or_a_kernel_only(monkeypatch):
    import sys

    from analysis.ingest import folder as ingest_module

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert ingest_module._interactive() is False
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert ingest_module._interactive() is True
