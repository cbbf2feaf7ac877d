"""The published-findings importer: a small hand-made extraction, then the real report text.

The report text lives outside the repository (``<root>/shared/reference``); the tests that
need it skip when it is absent. The expected sections, categories and maturity groups below
were checked by reading the report (2.2.1(8) and 2.3(2)).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.statements.findings_import import (
    agreement,
    as_statements,
    compare_findings,
    parse_report_text,
    run_findings,
)

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
RAW = REFERENCE / "000_df6ee6e5f4f210f6.txt"
NFKC = REFERENCE / "000_df6ee6e5f4f210f6.nfkc.txt"
needs_report = pytest.mark.skipif(
    not RAW.is_file() or not NFKC.is_file(), reason="the report text is not in ../shared/reference"
)

# A miniature of the extraction's quirks: the results marker, a heading printed after its
# slide body, a bullet wrapped over a blank line, a heading printed before the body, a
# repeated slide, a page number, Kangxi radicals (⽤ for 用) and full-width brackets.
MINI = """2.2.1 ユーザ系企業調査
(3) 調査方法
① 事前アンケート調査
 2.2.1 ユーザ系企業調査

＜活⽤⽅法＞
 ガイドラインを抜け漏れチェックに活⽤している。
成熟度低の企業では最近になってガイドラインを活⽤してセキュリティ対策をアセスしている。これは長い行で、スライドの幅いっぱいまで続
\u0020
いている。

＜経営への報告＞
経営者には定期的に報告。

(8) ヒアリング調査調査
① サイバーセキュリティ経営ガイドラインVer.2.0の活⽤状況
 2.2.1 ユーザ系企業調査
② サイバーセキュリティ経営ガイドラインVer.2.0の改訂について

＜改訂の必要ない＞
成熟度高の企業では改訂の必要はないと考えている。

12

 2.2.1 ユーザ系企業調査

＜改訂の必要ない＞
成熟度高の企業では改訂の必要はないと考えている。

② サイバーセキュリティ経営ガイドラインVer.2.0の改訂について
 2.2.2 ベンダー系企業調査
＜対象外＞
ここはベンダーの節で、読まれない。
"""


@pytest.fixture(scope="module")
def mini() -> pd.DataFrame:
    return parse_report_text(MINI)


def test_mini_sections_categories_and_order(mini):
    assert mini["section"].tolist() == [1, 1, 1, 2]
    assert mini["category"].tolist() == ["活用方法", "活用方法", "経営への報告", "改訂の必要ない"]
    assert mini["category_id"].tolist() == ["u01-01", "u01-01", "u01-03", "u02-02"]
    assert (mini["respondent_group"] == "user").all()


def test_mini_wrapped_bullet_is_one_statement(mini):
    second = mini["text"].iloc[1]
    assert second.startswith("成熟度低の企業では最近になってガイドラインを活用して")
    assert second.endswith("続いている。")


def test_mini_maturity_and_duplicates(mini):
    assert mini["maturity"].isna().tolist() == [True, False, True, False]
    assert (mini.loc[1, "maturity"], mini.loc[3, "maturity"]) == ("低", "高")
    assert (mini["text"] == "成熟度高の企業では改訂の必要はないと考えている。").sum() == 1  # repeated slide


def test_mini_nothing_from_outside_the_findings(mini):
    assert not mini["text"].str.contains("ベンダー|調査|^12$").any()


def test_nfkc_plain_headings():
    # Once NFKC has turned ① into 1, a heading is a line "1 title" at the margin.
    import unicodedata

    parsed = parse_report_text(unicodedata.normalize("NFKC", MINI))
    pd.testing.assert_frame_equal(parsed, parse_report_text(MINI))


def test_compare_findings():
    old = pd.DataFrame(
        {"respondent_group": ["user"] * 3, "section": [1, 1, 2], "category": ["活用方法", "活用方法", "改訂の必要ない"]}
    )
    new = pd.DataFrame(
        {"respondent_group": ["user"] * 3, "section": [1, 3, 3], "category": ["活用方法", "新しい論点", "新しい論点"]}
    )
    table = compare_findings(old, new).set_index("category")
    assert table.loc["活用方法", "status"] == "kept"
    assert (table.loc["活用方法", "n_old"], table.loc["活用方法", "n_new"]) == (2, 1)
    assert table.loc["改訂の必要ない", "status"] == "gone"
    assert (table.loc["新しい論点", "status"], table.loc["新しい論点", "n_new"]) == ("new", 2)


def test_as_statements_conforms(mini):
    tidy = as_statements(mini, fiscal_year=2021)
    assert list(tidy.columns)[:4] == ["statement_id", "respondent_id", "fiscal_year", "respondent_group"]
    assert tidy["respondent_id"].isna().all()
    assert (tidy["fiscal_year"] == 2021).all()


def _reference() -> pd.DataFrame:
    path = resources.files("analysis.collect.sample") / "records" / "published_findings.csv"
    return pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""])


@needs_report
@pytest.mark.parametrize("path", [RAW, NFKC], ids=["raw", "nfkc"])
def test_agreement_with_the_hand_transcribed_reference(path):
    parsed = parse_report_text(path.read_text(encoding="utf-8"))
    reference = _reference()
    scored = agreement(parsed[parsed["respondent_group"].isin(["user", "investor"])], reference)
    assert scored["reference"] == 191
    # Every one of the 191 statements with the same section, category, maturity and text.
    assert scored["matched"] == 191 and scored["parsed"] == 191


@needs_report
def test_report_sections_categories_and_maturity():
    parsed = parse_report_text(RAW.read_text(encoding="utf-8"))

    def find(start: str) -> pd.Series:
        hit = parsed[parsed["text"].str.startswith(start)]
        assert len(hit) == 1, start
        return hit.iloc[0]

    users = parsed[parsed["respondent_group"] == "user"]
    assert sorted(set(users["section"])) == list(range(1, 14))
    investors = parsed[parsed["respondent_group"] == "investor"]
    assert investors.groupby("section").size().tolist() == [8, 9, 6, 5, 2, 3]
    assert (investors["category"] == "全般").all()
    # Section 1 opens the results; its first category is 活用方法 (heading after the body).
    assert tuple(find("ガイドラインの認知度は高く")[["section", "category"]]) == (1, "活用方法")
    # The slide printed under heading ⑤ is followed by heading ⑥: its body is section 6.
    assert tuple(find("コロナやDXということではなく")[["section", "category_id"]]) == (6, "u06-01")
    # Section 9 prints its heading before the body; section 10's body follows without one.
    assert tuple(find("新人にはITパスポート")[["section", "category_id"]]) == (9, "u09-03")
    assert tuple(find("連邦型のガバナンスで")[["section", "category_id"]]) == (10, "u10-01")
    # Maturity groups as the report states them (成熟度中, and 会社 instead of 企業).
    assert tuple(find("成熟度中の企業では国内関連会社")[["section", "category_id", "maturity"]]) == (11, "u11-01", "中")
    assert tuple(find("成熟度高の会社では")[["section", "category_id", "maturity"]]) == (12, "u12-05", "高")
    assert users["maturity"].value_counts().to_dict() == {"高": 5, "低": 5, "中": 2}
    # A bullet wrapped over a blank line, and an investor bullet of two sentences on two lines.
    assert find("決算遅延、業務停止").text.endswith("刺さる資料になる。")
    assert find("サイバーセキュリティに関する認識と取組は").text.endswith("資金の集まり方も鈍いのではないか。")
    # Section 13 is printed twice in the report; each statement is kept once.
    assert (users["section"] == 13).sum() == 6
    # Kangxi radicals are gone.
    assert not parsed["text"].str.contains("[\u2f00-\u2fdf]").any()


@needs_report
def test_cli_findings(tmp_path, capsys):
    out = tmp_path / "findings.csv"
    assert main(["findings", str(RAW), "--out", str(out)]) == 0
    written = pd.read_csv(out, dtype="str")
    assert {"section", "category", "maturity", "text"} <= set(written.columns)
    assert (written["respondent_group"] == "user").sum() == 158
    assert "statements" in capsys.readouterr().out


def test_run_findings_errors(tmp_path):
    assert run_findings(tmp_path / "missing.txt", tmp_path / "out.csv") == 2
    empty = tmp_path / "empty.txt"
    empty.write_text("nothing here\n", encoding="utf-8")
    assert run_findings(empty, tmp_path / "out.csv") == 1
    assert not (tmp_path / "out.csv").exists()
