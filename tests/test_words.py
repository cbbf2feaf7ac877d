"""The report's words come from the codebook; ids without a label are shown as they are."""

from __future__ import annotations

from analysis.codebook.words import Words, figure_titles, table_texts


def test_headers_in_japanese_and_english(codebook):
    assert Words(codebook, "ja").header("n_respondents", "report") == "対象数"
    assert Words(codebook, "en").header("n_respondents", "report") == "Respondents"


def test_a_year_suffix_uses_the_year_template(codebook):
    assert Words(codebook, "ja").header("n_2021", "report") == "2021年度 件数"
    assert Words(codebook, "en").header("share_2020", "report") == "FY2020 share"


def test_counter_and_level_columns_use_their_templates(codebook):
    ja, en = Words(codebook, "ja"), Words(codebook, "en")
    assert ja.header("n_below_3", "maturity") == "平均3未満の指示数"
    assert en.header("n_at_least_3.5", "maturity") == "Directives at 3.5 or more"
    assert ja.header("n_A", "maturity") == "Aの企業数"
    # a template matches only what its placeholder stands for: a year, a number, a level
    assert ja.header("n_Z", "maturity") == "n_Z"
    assert ja.header("n_below_x", "maturity") == "n_below_x"
    assert ja.header("n_20211", "report") == "n_20211"
    # an exact word wins over a template
    assert ja.header("n_unclassified", "maturity") == "判定不能の企業数"


def test_a_scope_has_its_own_word_where_the_key_means_something_else(codebook):
    words = Words(codebook, "ja")
    assert words.header("total", "report") == "計"
    assert words.header("total", "crosstab") == "合計"
    assert words.header("total", "disclosure") == "調査企業数"


def test_unknown_ids_and_display_headers_pass_through(codebook):
    words = Words(codebook, "ja")
    assert words.header("no_such_column_2021", "report") == "no_such_column_2021"
    assert words.header("回答企業数", "report") == "回答企業数"
    assert words.label("ui:missing-key", "report", "fallback") == "fallback"
    assert words.label("ui:missing-key", "report") == "ui:missing-key"


def test_labels_fill_their_placeholders(codebook):
    assert Words(codebook, "ja").label("ui:heading_year", "report", year=2021) == "報告書の表と図 (2021年度)"
    assert Words(codebook, "en").label("meeting_name", "report", round=3) == "Meeting 3"


def test_no_codebook_no_words():
    words = Words(None, "ja")
    assert words.header("n_2021", "report") == "n_2021"
    assert words.label("ui:note", "report", "Note") == "Note"
    assert words.title("maturity_levels") == "maturity_levels"
    assert words.note("maturity_levels") == ""


def test_table_titles_fill_their_placeholders(codebook):
    words = Words(codebook, "ja")
    assert words.title("yoy_maturity_levels", previous=2020, current=2021) == "成熟度レベルの分布 (2020年度と2021年度)"
    assert words.note("yoy_maturity_levels", previous=2020, current=2021)
    assert (Words(codebook, "en").title("no_such_table"), Words(codebook, "en").note("no_such_table")) == (
        "no_such_table",
        "",
    )
    assert words.has_table("yoy_maturity_levels") and not words.has_table("no_such_table")


def test_texts_in_both_languages_take_values_by_language(codebook):
    texts = table_texts(codebook, "yoy_maturity_levels", previous={"ja": "二〇二〇", "en": "2020"}, current=2021)
    assert "二〇二〇" in texts["title_ja"] and "2020" in texts["title_en"] and "2021" in texts["title_en"]
    assert set(texts) == {"title_ja", "title_en", "note_ja", "note_en"}
    titles = figure_titles(codebook, "figure:level_radar")
    assert set(titles) == {"title_ja", "title_en"} and titles["title_ja"] != "figure:level_radar"


def test_a_code_list_placeholder_matches_its_codes_and_shows_their_labels(codebook):
    assert Words(codebook, "ja").header("n_domestic", "disclosure") == "国内 開示企業数"
    assert Words(codebook, "en").header("total_overseas", "disclosure") == "Overseas N"
    assert Words(codebook, "ja").header("share_nowhere", "disclosure") == "share_nowhere"
    assert Words(codebook, "ja").header("n_domestic", "report") == "n_domestic"  # a word of its scope only
