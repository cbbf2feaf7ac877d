"""Problems and the sources of values: where in which file."""

import pickle
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.ingest.problems import (
    LANGS,
    Message,
    Problem,
    Source,
    Text,
    catalogue,
    format_problem,
    placeholders,
    problems_frame,
)


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (Source("a.xlsx", "回答", "D2"), "a.xlsx!回答!D2"),
        (Source("sub/a!b.xlsx", "回答", "D2"), "sub/a!b.xlsx!回答!D2"),
        (Source("a.xlsx", "Q&A!", "B3"), "a.xlsx!'Q&A!'!B3"),
        (Source("a.xlsx", "Bob's", "B3"), "a.xlsx!'Bob''s'!B3"),
        (Source("a'!.xlsx", "'!'", "C1"), "a'!.xlsx!'''!'''!C1"),
        (Source("a.xlsx", "", ""), "a.xlsx!!"),
    ],
)
def test_source_string_form_and_parse(source, text):
    assert str(source) == text
    assert Source.parse(text) == source


def test_source_without_separators_is_a_file():
    assert Source.parse("notes.txt") == Source("notes.txt", "", "")
    assert Source.parse("a!b") == Source("a!b", "", "")


def test_source_prefix_plus_cell_is_the_source():
    assert str(Source("a.xlsx", "x!y", "")) + "D7" == str(Source("a.xlsx", "x!y", "D7"))


def test_source_sorts_cells_row_by_row():
    cells = ["A10", "B2", "AA2", "A2"]
    assert sorted(cells, key=lambda c: Source("f", "s", c).sort_key()) == ["A2", "B2", "AA2", "A10"]


@given(
    file=st.text(min_size=1, max_size=12),
    sheet=st.text(max_size=12),
    cell=st.one_of(st.just(""), st.from_regex(r"[A-Z]{1,3}[1-9][0-9]{0,5}", fullmatch=True)),
)
def test_source_round_trip(file, sheet, cell):
    source = Source(file, sheet, cell)
    assert Source.parse(str(source)) == source


# -- the message catalogue ---------------------------------------------------------------------------

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_every_code_has_both_templates_with_the_same_placeholders():
    codes = catalogue()
    assert len(codes) >= 80
    for code, templates in codes.items():
        assert set(templates) == set(LANGS), code
        assert templates["ja"].strip() and templates["en"].strip(), code
        assert placeholders(templates["ja"]) == placeholders(templates["en"]), code
        assert JAPANESE.search(templates["ja"]) or not templates["ja"].strip("{}"), code


def test_every_code_is_used_and_every_used_code_is_in_the_catalogue():
    """No template is dead and no code is missing (a code is a string literal in the source)."""
    root = Path(__file__).resolve().parent.parent / "analysis"
    called, quoted = set(), set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        called |= set(re.findall(r"\.of\(\s*\"([a-z_]+)\"", text))
        quoted |= set(re.findall(r"\"([a-z_]+)\"", text))  # also codes chosen before the call
    assert called <= set(catalogue())
    assert set(catalogue()) - quoted == set()


def test_message_renders_each_language_and_joins_lists():
    message = Message.of("missing_sheet", sheet=Text("回答", "回答 (answers)"), present=("基本情報", "メモ"))
    assert (
        message.ja == "シート「回答」がありません(このブックのシート: 基本情報、メモ)。"
        "`survey template` で作ったブックに記入してください"
    )
    assert message.en == "missing sheet 回答 (answers); the workbook has: 基本情報, メモ. Start from `survey template`"
    nested = Message.of("kept_invalid", reason=Message.of("not_whole_number", value="'x'"), label="無効")
    assert nested.ja == "整数を入力してください(入力値: 'x')。無効回答(無効)として記録しました"
    assert nested.en == "expected a whole number, got 'x'; kept as an invalid answer (無効)"


def test_message_needs_a_known_code_and_every_placeholder():
    with pytest.raises(KeyError, match="no message"):
        Message.of("no_such_code")
    with pytest.raises(KeyError, match="needs"):
        Message.of("missing_sheet", sheet="回答")


def test_problem_frame_keeps_code_and_both_messages():
    problem = Problem("error", "a.xlsx", "回答", "D14", Message.of("not_whole_number", value="'x'"))
    frame = problems_frame([problem])
    assert list(frame.columns) == ["severity", "file", "sheet", "cell", "code", "message_ja", "message_en"]
    assert frame.iloc[0].tolist() == [
        "error",
        "a.xlsx",
        "回答",
        "D14",
        "not_whole_number",
        "整数を入力してください(入力値: 'x')",
        "expected a whole number, got 'x'",
    ]
    assert format_problem(problem, "en") == "ERROR   a.xlsx: 回答!D14: expected a whole number, got 'x'"
    assert format_problem(problem) == "エラー a.xlsx: 回答!D14: 整数を入力してください(入力値: 'x')"


def test_messages_survive_pickling_between_processes():
    from analysis.ingest.safety import LimitExceeded

    error = LimitExceeded(Message.of("timeout", limit="60 s (--timeout-s)"), "timeout_s")
    again = pickle.loads(pickle.dumps(error))
    assert again.args[0] == error.args[0] and again.limit == "timeout_s" and "--timeout-s" in str(again)
