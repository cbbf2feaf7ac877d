"""Problems found in input data, each pinned to a file, sheet and cell, and the
:class:`Source` of a value (where in which file it was read).

What a problem says is data: a :class:`Message` is a code of the catalogue ``messages.toml``
(beside this module: one Japanese and one English template per code) and the values of its
placeholders. A problem renders in either language (``message_ja``, ``message_en``), and
``issues.csv`` keeps both.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple, Union

import pandas as pd

from analysis.output.safe import escape_control

__all__ = [
    "LANGS",
    "PROBLEM_COLUMNS",
    "Message",
    "Problem",
    "Source",
    "Text",
    "catalogue",
    "cell_order",
    "format_problem",
    "problems_frame",
]

PROBLEM_COLUMNS = ["severity", "file", "sheet", "cell", "code", "message_ja", "message_en"]
LANGS = ("ja", "en")
CATALOGUE = Path(__file__).with_name("messages.toml")
# How a list placeholder is joined in each language.
_JOIN = {"ja": "、", "en": ", "}


class Source(NamedTuple):
    """Where a value was read: file, sheet and cell (``""`` when unknown).

    Its string form, ``file!sheet!cell``, is the ``source`` column of the tidy tables. A sheet
    name holding ``!`` or ``'`` is quoted as in an Excel reference (``file!'a!b'!C3``, a quote
    doubled), so that :meth:`parse` gives back the same three parts; a cell name never holds
    either, and file names may (the sheet is found from the end).
    """

    file: str
    sheet: str = ""
    cell: str = ""

    def __str__(self) -> str:
        sheet = self.sheet
        if "!" in sheet or "'" in sheet:
            sheet = "'" + sheet.replace("'", "''") + "'"
        # The cell comes last, so that a sheet's prefix (cell "") plus a cell name is its source.
        return f"{self.file}!{sheet}!{self.cell}"

    @classmethod
    def parse(cls, text: object) -> Source:
        """The source whose string form is ``text``; text with fewer than two ``!`` is a file alone."""
        rest, bang, cell = str(text).rpartition("!")
        if not bang:
            return cls(cell)
        if rest.endswith("'"):
            start = _opening_quote(rest)
            if start is not None:
                return cls(rest[: start - 1], rest[start + 1 : -1].replace("''", "'"), cell)
        file, bang, sheet = rest.rpartition("!")
        return cls(file, sheet, cell) if bang else cls(str(text))

    def sort_key(self) -> tuple:
        """Order by file, sheet, then cell row by row (``A2`` before ``A10``)."""
        return (self.file, self.sheet, cell_order(self.cell))


def _opening_quote(rest: str) -> int | None:
    """Index of the quote opening the quoted sheet at the end of ``rest`` (``None``: not quoted)."""
    i = len(rest) - 2
    while i >= 0:
        if rest[i] != "'":
            i -= 1
        elif i > 0 and rest[i - 1] == "'":
            i -= 2  # a doubled quote inside the name
        else:
            return i if i > 0 and rest[i - 1] == "!" else None
    return None


def cell_order(cell: str) -> tuple[int, int, str]:
    """Sort key of a cell name: by row, then column (``B2`` < ``AA2`` < ``A10``)."""
    letters = "".join(ch for ch in cell if ch.isalpha())
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (int(digits) if digits else 0, len(letters), letters)


class Text(NamedTuple):
    """A placeholder value told in both languages (a sheet or column by its Japanese and English names)."""

    ja: str
    en: str


# A placeholder's value: text or a number (the same in both languages), a Text, a nested
# Message (another code's sentence, in the same language) or a list of those (joined per language).
Param = Union[str, int, Text, "Message", tuple["Param", ...]]


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every message code with its templates: ``{code: {"ja": template, "en": template}}``."""
    with CATALOGUE.open("rb") as handle:
        raw = tomllib.load(handle)
    return {code: {lang: str(entry[f"template_{lang}"]) for lang in LANGS} for code, entry in raw.items()}


def placeholders(template: str) -> set[str]:
    """The placeholder names of a template (``{value}`` -> ``value``)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _render(value: Param, lang: str) -> str:
    if isinstance(value, Text):
        return value.ja if lang == "ja" else value.en
    if isinstance(value, Message):
        return value.render(lang)
    if isinstance(value, tuple):
        return _JOIN[lang].join(_render(v, lang) for v in value)
    return str(value)


@dataclass(frozen=True)
class Message:
    """What a problem says: a code of the catalogue and the values of its placeholders."""

    code: str
    params: tuple[tuple[str, Param], ...] = ()

    @classmethod
    def of(cls, code: str, /, **params: Param) -> Message:
        """The message ``code`` with its placeholders' values (checked against the catalogue)."""
        templates = catalogue().get(code)
        if templates is None:
            raise KeyError(f"no message {code!r} in {CATALOGUE.name}")
        missing = placeholders(templates["en"]) - set(params)
        if missing:
            raise KeyError(f"message {code!r} needs {sorted(missing)}")
        return cls(code, tuple(sorted(params.items())))

    def render(self, lang: str = "ja") -> str:
        """The message in ``lang`` (``ja`` or ``en``)."""
        values = {name: _render(value, lang) for name, value in self.params}
        return catalogue()[self.code][lang].format_map(values)

    @property
    def ja(self) -> str:
        return self.render("ja")

    @property
    def en(self) -> str:
        return self.render("en")

    def text(self) -> Text:
        """Both renderings, e.g. to place this message inside another."""
        return Text(self.ja, self.en)

    def __str__(self) -> str:
        return self.en


@dataclass(frozen=True)
class Problem:
    """One problem: ``severity`` is ``error`` (the value did not land) or ``warning``; what it says
    is ``what`` (a :class:`Message`), read as ``message_ja`` or ``message_en``."""

    severity: str
    file: str
    sheet: str
    cell: str
    what: Message

    @classmethod
    def at(cls, severity: str, source: Source, what: Message) -> Problem:
        """A problem at ``source``."""
        return cls(severity, source.file, source.sheet, source.cell, what)

    @property
    def code(self) -> str:
        return self.what.code

    def text(self, lang: str = "ja") -> str:
        """The message in ``lang``."""
        return self.what.render(lang)

    @property
    def message_ja(self) -> str:
        return self.what.ja

    @property
    def message_en(self) -> str:
        return self.what.en

    @property
    def message(self) -> str:
        """The English message (a stable sort key, the same whatever language the user reads)."""
        return self.what.en

    @property
    def where(self) -> str:
        """``file: sheet!cell`` (parts that are unknown are left out)."""
        place = self.sheet + (f"!{self.cell}" if self.cell else "") if self.sheet else self.cell
        return f"{self.file}: {place}" if place else self.file


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Return problems as a frame with the columns of ``issues.csv``, in a stable order."""
    rows = [(p.severity, p.file, p.sheet, p.cell, p.code, p.message_ja, p.message_en) for p in problems]
    frame = pd.DataFrame(rows, columns=PROBLEM_COLUMNS, dtype="str")
    return frame.reset_index(drop=True)


# Severity as the terminal shows it, padded to one width (a Japanese character takes two columns).
_SEVERITY = {"ja": {"error": "エラー", "warning": "警告  "}, "en": {"error": "ERROR  ", "warning": "WARNING"}}


def format_problem(problem: Problem, lang: str = "ja") -> str:
    """One line for the terminal: ``ERROR   file: sheet!cell: message`` (``エラー …`` in Japanese)."""
    severity = _SEVERITY[lang].get(problem.severity, problem.severity.upper())
    # Names come from respondents' files: control characters are shown, never sent to the terminal.
    return escape_control(f"{severity} {problem.where}: {problem.text(lang)}")
