"""The report's words come from the codebook; ids without a label are shown as they are."""

from __future__ import annotations

from analysis.report.labels import column_label, report_labels, table_text, text


def test_headers_in_japanese_and_english(codebook):
    assert column_label("n_respondents", report_labels(codebook, "ja")) == "対象数"
    assert column_label("n_respondents", report_labels(codebook, "en")) == "Respondents"


def test_a_year_suffix_uses_the_year_template(codebook):
    assert column_label("n_2021", report_labels(codebook, "ja")) == "2021年度 件数"
    assert column_label("share_2020", report_labels(codebook, "en")) == "FY2020 share"


def test_unknown_ids_and_display_headers_pass_through(codebook):
    labels = report_labels(codebook, "ja")
    assert column_label("no_such_column_2021", labels) == "no_such_column_2021"
    assert column_label("回答企業数", labels) == "回答企業数"
    assert text(labels, "ui:missing-key", "fallback") == "fallback"
    assert text(labels, "ui:missing-key") == "ui:missing-key"


def test_table_titles_fill_their_placeholders(codebook):
    title, note = table_text(codebook, "yoy_maturity_levels", "ja", previous=2020, current=2021)
    assert title == "成熟度レベルの分布 (2020年度と2021年度)"
    assert note
    assert table_text(codebook, "no_such_table", "en") == ("no_such_table", "")
