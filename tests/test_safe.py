"""Formula-injection defence: risky text is text in xlsx and neutralised in CSV/Markdown."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from analysis.output.safe import RISKY_PREFIXES, is_risky, neutralise, set_cell

RISKY_TEXTS = [
    '=HYPERLINK("http://example.invalid","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(A1)",
    "=cmd|' /C calc'!A0",
]


def test_every_owasp_trigger_and_its_full_width_form_is_listed():
    assert set(RISKY_PREFIXES) == {"=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠"}


@pytest.mark.parametrize("value", RISKY_TEXTS)
def test_risky_text_is_neutralised_with_a_leading_apostrophe(value):
    assert is_risky(value)
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["abc", "成熟度A", "a=b", "", "1-1", " 注意", "'quoted"])
def test_harmless_text_is_unchanged(value):
    assert not is_risky(value)
    assert neutralise(value) == value


@pytest.mark.parametrize("value", [-5, -0.25, 0, 3.5, True, None])
def test_numbers_stay_numbers(value):
    assert not is_risky(value)
    assert neutralise(value) is value


def _round_trip(tmp_path, values):
    book = openpyxl.Workbook()
    sheet = book.active
    for i, value in enumerate(values, start=1):
        set_cell(sheet.cell(i, 1), value)
    path = tmp_path / "cells.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    return openpyxl.load_workbook(path).active, xml


def test_risky_text_is_stored_as_a_string_cell_never_a_formula(tmp_path):
    sheet, xml = _round_trip(tmp_path, RISKY_TEXTS)
    assert "<f>" not in xml and "<f " not in xml
    for i, value in enumerate(RISKY_TEXTS, start=1):
        cell = sheet.cell(i, 1)
        assert cell.data_type == "s"
        assert cell.quotePrefix
        if "\r" not in value:  # XML parsers turn a bare CR into LF
            assert cell.value == value


def test_text_that_looks_like_an_error_code_stays_text(tmp_path):
    sheet, _ = _round_trip(tmp_path, ["#N/A", "#DIV/0!"])
    assert [sheet.cell(1, 1).value, sheet.cell(2, 1).value] == ["#N/A", "#DIV/0!"]
    assert {sheet.cell(1, 1).data_type, sheet.cell(2, 1).data_type} == {"s"}
    assert not sheet.cell(1, 1).quotePrefix


def test_numbers_and_booleans_keep_their_cell_types(tmp_path):
    sheet, _ = _round_trip(tmp_path, [-5, -0.25, 7, True, None])
    assert [sheet.cell(i, 1).value for i in range(1, 6)] == [-5, -0.25, 7, True, None]
    assert [sheet.cell(i, 1).data_type for i in range(1, 5)] == ["n", "n", "n", "b"]


def test_characters_xml_cannot_hold_are_replaced_not_fatal(tmp_path):
    sheet, _ = _round_trip(tmp_path, ["bad\x01char"])
    assert sheet.cell(1, 1).value == "bad\ufffdchar"
