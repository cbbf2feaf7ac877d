"""Who is asked a pre-survey question: the ``filter`` column of ``presurvey_questions.csv``.

A filter names an earlier single-choice question and the codes of it whose respondents are
asked the question; everyone else skips it::

    Q1-1 in 1;2        asked of those who answered Q1-1 with option 1 or 2
    (empty)            asked of everyone

This module is the one place the syntax is read. :func:`question_filters` parses and checks
every filter of an edition (the codebook loader calls it, so that a bad filter stops the load
with the file and row named); templates, the ingest and the cross-tabulations use its result.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from analysis.errors import DataError

if TYPE_CHECKING:
    from analysis.codebook import Codebook

__all__ = ["FILE", "FilterError", "QuestionFilter", "option_label", "parse_filter", "question_filters"]

FILE = "presurvey_questions.csv"
_SYNTAX = re.compile(r"^\s*(?P<question>[^\s;]+)\s+in\s+(?P<codes>\d+(?:\s*;\s*\d+)*)\s*$")


class FilterError(DataError):
    """A filter of the codebook that cannot be read or points at nothing (file and row named)."""


@dataclass(frozen=True)
class QuestionFilter:
    """Question ``question`` is asked of those who answered question ``on`` with one of ``codes``."""

    question: str
    on: str
    codes: tuple[int, ...]

    @property
    def text(self) -> str:
        """The filter as the codebook writes it (``Q1-1 in 1;2``)."""
        return f"{self.on} in {';'.join(str(c) for c in self.codes)}"

    def admits(self, code: int) -> bool:
        """Whether an answer ``code`` to the filter question makes a respondent eligible."""
        return code in self.codes

    def asks(self, codes: Collection[int]) -> bool | None:
        """Whether a respondent who chose ``codes`` for the filter question is asked the
        question; ``None`` (unknown) when the filter question has no answer."""
        return any(self.admits(code) for code in codes) if codes else None

    def describe(self, codebook: Codebook, lang: str = "ja") -> str:
        """Who is asked, in words: 「Q1-1で「1=活用している」「2=一部活用している」と回答した方」."""
        if lang == "ja":
            chosen = "".join(f"「{c}={option_label(codebook, self.on, c, lang)}」" for c in self.codes)
            return f"{self.on}で{chosen}と回答した方"
        chosen = " or ".join(f"{c} ({option_label(codebook, self.on, c, lang)})" for c in self.codes)
        return f"those who answered {self.on} with {chosen}"


def option_label(codebook: Codebook, question: str, code: int, lang: str = "ja") -> str:
    """The label of option ``code`` of pre-survey question ``question`` in ``lang`` (the code
    itself when the question has no such option)."""
    return _option_labels(codebook, lang).get((question, int(code)), str(code))


@cache
def _option_labels(codebook: Codebook, lang: str) -> dict[tuple[str, int], str]:
    # One index per codebook and language: the ingest names options in every filter warning,
    # and selecting rows of the options table for each took most of a large pre-survey's time.
    options = codebook.table("presurvey_options")
    return {
        (str(q), int(c)): str(label)
        for q, c, label in zip(options["question_id"], options["code"], options[f"label_{lang}"], strict=True)
    }


def parse_filter(question: str, text: str) -> QuestionFilter | None:
    """Read the filter ``text`` of ``question`` (``None`` when empty: asked of everyone).

    Raises
    ------
    ValueError
        If ``text`` is not ``<question id> in <code>[;<code>...]``.
    """
    if not text.strip():
        return None
    found = _SYNTAX.match(text)
    if found is None:
        raise ValueError(f"expected '<question id> in <code>;<code>...' such as 'Q1-1 in 1;2', got {text!r}")
    codes = tuple(dict.fromkeys(int(c) for c in found.group("codes").split(";")))
    return QuestionFilter(question, found.group("question"), codes)


def _error(row: int, question: str, ja: str, en: str) -> FilterError:
    where_ja = f"{FILE} の{row}行目({question})の filter"
    where_en = f"{FILE} row {row} ({question}), column filter"
    return FilterError(f"{where_ja}: {ja}", f"{where_en}: {en}")


@cache
def question_filters(codebook: Codebook) -> dict[str, QuestionFilter]:
    """Every filtered pre-survey question of ``codebook``, by question id (unfiltered ones absent).

    A filter must name a single-choice question that comes earlier in the questionnaire (by
    topic and order) and codes of its options.

    Raises
    ------
    FilterError
        Naming the file, the row (as a spreadsheet shows it, the header being row 1) and what is wrong.
    """
    questions = codebook.tables.get("presurvey_questions")
    if questions is None or "filter" not in questions:
        return {}
    options = codebook.table("presurvey_options")
    codes_of: dict[str, set[int]] = {}
    for qid, code in zip(options["question_id"], options["code"], strict=True):
        codes_of.setdefault(str(qid), set()).add(int(code))
    position = {
        str(q): (int(t), int(o))
        for q, t, o in zip(questions["question_id"], questions["topic"], questions["order"], strict=True)
    }
    kinds = dict(zip(questions["question_id"].astype(str), questions["kind"].astype(str), strict=True))
    found: dict[str, QuestionFilter] = {}
    for row, (qid, text) in enumerate(zip(questions["question_id"], questions["filter"], strict=True), start=2):
        qid = str(qid)
        try:
            parsed = parse_filter(qid, str(text))
        except ValueError:
            raise _error(
                row,
                qid,
                f"「Q1-1 in 1;2」のように「設問ID in 選択肢番号;選択肢番号」と書いてください(入力値: {text!r})",
                f"expected '<question id> in <code>;<code>...' such as 'Q1-1 in 1;2', got {text!r}",
            ) from None
        if parsed is None:
            continue
        if parsed.on not in kinds:
            raise _error(
                row, qid, f"設問 {parsed.on} は設問一覧にありません", f"no question {parsed.on} in the questionnaire"
            )
        if kinds[parsed.on] != "single":
            raise _error(
                row,
                qid,
                f"{parsed.on} は単一回答の設問ではありません({kinds[parsed.on]})。単一回答の設問で絞り込んでください",
                f"{parsed.on} is not a single-choice question ({kinds[parsed.on]}); filter on a single-choice question",
            )
        if position[parsed.on] >= position[qid]:
            raise _error(
                row,
                qid,
                f"{parsed.on} は {qid} より前の設問ではありません。前の設問で絞り込んでください",
                f"{parsed.on} does not come before {qid}; filter on an earlier question",
            )
        unknown = [c for c in parsed.codes if c not in codes_of.get(parsed.on, set())]
        if unknown:
            listed = ", ".join(str(c) for c in unknown)
            raise _error(
                row,
                qid,
                f"{parsed.on} に選択肢 {listed} はありません",
                f"{parsed.on} has no option {listed}",
            )
        found[qid] = parsed
    return found


def chosen_codes(
    answers: Iterable[tuple[object, object, object, object]], questions: Collection[str]
) -> dict[tuple[object, object, str], list[int]]:
    """``{(respondent, year, question): codes chosen}`` of pre-survey answers given as
    ``(respondent_id, fiscal_year, question_id, option_code)``, for ``questions`` only."""
    out: dict[tuple[object, object, str], list[int]] = {}
    for respondent, year, question, code in answers:
        if code is not None and question in questions:
            out.setdefault((respondent, year, str(question)), []).append(int(code))  # pyright: ignore[reportArgumentType]
    return out
