import openpyxl

from analysis.collect.layout import META_SHEET
from analysis.collect.template import build_workbook, template_filename, write_templates


def test_one_blank_workbook_per_instrument(tmp_path, codebook):
    paths = write_templates(codebook, tmp_path)
    assert sorted(p.name for p in paths) == sorted(template_filename(codebook, i) for i in codebook.sheets)
    for path in paths:
        book = openpyxl.load_workbook(path)
        meta = {row[0].value: row[1].value for row in book[META_SHEET].iter_rows()}
        assert meta["instrument"] == path.stem.removesuffix("_2021")  # the edition's year by default
        assert meta["edition"] == "fy2021"
        assert book[META_SHEET].sheet_state == "hidden"
        assert book.sheetnames[0] == "説明"


def test_self_assessment_template_layout(codebook):
    book = build_workbook(codebook, "self_assessment")
    answers = book["回答"]
    headers = [c.value for c in answers[1]]
    assert headers[:4] == ["設問ID", "指示", "設問", "回答"]
    assert [answers.cell(row=r, column=1).value for r in (2, 41)] == ["1-1", "10-4"]
    assert answers.freeze_panes == "A2"
    validations = answers.data_validations.dataValidation
    assert any("D2" in str(v.sqref) for v in validations), "the answer column has a dropdown"
    profile = book["基本情報"]
    keys = [profile.cell(row=r, column=1).value for r in range(2, 7)]
    assert keys == ["回答者ID", "年度", "業種", "従業員規模", "企業名"]


def test_english_headers(codebook):
    book = build_workbook(codebook, "self_assessment", lang="en")
    assert "Answers" in book.sheetnames and "Profile" in book.sheetnames
    assert [c.value for c in book["Answers"][1]][0] == "Question ID"


def test_respondent_text_is_never_a_formula(codebook):
    rows = [
        {
            "respondent_id": "U01",
            "fiscal_year": 2021,
            "group": "user",
            "section": 1,
            "category": "u01-01",
            "text": '=HYPERLINK("http://x")',
        }
    ]
    book = build_workbook(codebook, "statements", data={"statements": rows})
    cell = book["発言"]["G2"]
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"


def test_presurvey_says_who_is_asked_in_the_template_language(codebook):
    ja = build_workbook(codebook, "presurvey")
    told = [row for row in ja["説明"].iter_rows(values_only=True) if row[0] == "Q1-2"]
    assert told == [
        (
            "Q1-2",
            None,
            None,
            "Q1-1で「1=活用している」「2=一部活用している」と回答した方のみ回答してください。"
            "それ以外の方は空欄のままにしてください。",
        )
    ]
    listed = {row[0]: row[5] for row in ja["設問一覧"].iter_rows(min_row=2, values_only=True)}
    assert listed["Q1-1"] == "全員" and listed["Q1-2"] == told[0][3]
    en = build_workbook(codebook, "presurvey", lang="en")
    asked = {row[0]: row[5] for row in en["Questions"].iter_rows(values_only=True)}
    assert asked["Question ID"] == "Asked of" and asked["Q1-3"] == "everyone"
    assert asked["Q1-2"] == (
        "Only for those who answered Q1-1 with 1 (Yes, we use it) or 2 (We use it in part); "
        "everyone else leaves it blank."
    )
    assert any(
        row[0] == "Questions asked of some respondents only" for row in en["Instructions"].iter_rows(values_only=True)
    )
