from pathlib import Path

from analysis.dictionary import data_dictionary_markdown

REPO = Path(__file__).resolve().parents[1]


def test_committed_dictionary_is_current(codebook):
    committed = (REPO / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert committed == data_dictionary_markdown(codebook), "run: survey dictionary --out docs/data_dictionary.md"


def test_every_sheet_and_column_documented(codebook):
    text = data_dictionary_markdown(codebook)
    for sheets in codebook.sheets.values():
        for sheet in sheets:
            assert f"Sheet **{sheet.name_ja}**" in text
            for col in sheet.columns:
                assert f"| `{col.column}` | {col.header_ja} |" in text
