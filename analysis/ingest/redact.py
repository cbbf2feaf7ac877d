"""Names out of free text: every 企業名/組織名 the ingest recognises becomes a neutral mark.

The ingest reads the personal columns of the workbooks (``personal`` in ``columns.csv``: the
company name of a self-assessment profile and of the disclosure review, the organisation name
of the roster) only to recognise them; they are never kept. A statement, a roster 概要 or a
disclosure note may still name a company (「○○株式会社では…」). :func:`build_redactor` turns
every recognised name into one pattern that finds it in its NFKC/width variants, in any letter
case, with or without a legal form (株式会社, (株), Inc. … from the codebook's
``legal_forms.csv``) and with spaces or ・ between its characters. :func:`redact_records`
replaces each match by the mark of the name's column — the column's Japanese header in
brackets, 「[企業名]」 or 「[組織名]」 — and flags the row, so that the processed data never holds
the name and the researcher can reword the sentence.

Pure: names and records in, records and findings out; nothing here touches the file system.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property

from analysis.codebook import Codebook
from analysis.ingest.normalise import normalise_text

__all__ = [
    "FLAG_COLUMN",
    "FoundName",
    "NameRedactor",
    "RedactedCell",
    "build_redactor",
    "free_text_columns",
    "legal_forms",
    "name_marks",
    "redact_columns",
    "redact_records",
]

FLAG_COLUMN = "name_redacted"
# A name shorter than this (after its legal form is removed) would match ordinary words.
MIN_LENGTH = 2
# What may separate the characters of a name in free text: spaces and middle dots.
_GAP = r"[\s・･]*"
_GAP_CHARS = re.compile(_GAP)
_ALNUM = "A-Za-z0-9"
# A name that starts (ends) with a Latin letter or digit must not continue a word: "NEC" is
# not found in "NECESSARY", "サンプル1" not in "サンプル10".
_START = rf"(?:(?<![{_ALNUM}])|(?![{_ALNUM}]))"
_END = rf"(?:(?![{_ALNUM}])|(?<![{_ALNUM}]))"
# The free text of a pre-survey answer (column type ``answer``) lands in this column.
_ANSWER_TEXT = "answer_text"


@dataclass(frozen=True)
class FoundName:
    """A name read from a personal cell: its column id, its text and ``file!sheet!cell``."""

    column: str
    name: str
    source: str


def legal_forms(codebook: Codebook) -> tuple[str, ...]:
    """Legal forms of the edition (``legal_forms.csv``), NFKC-normalised; none when absent."""
    if "legal_forms" not in codebook.tables:
        return ()
    return tuple(f for f in (normalise_text(v) for v in codebook.table("legal_forms")["form"]) if f)


def name_marks(codebook: Codebook) -> dict[str, str]:
    """The mark of each personal column: its Japanese header in brackets (「[企業名]」)."""
    return {
        spec.column: f"[{spec.header_ja}]"
        for sheets in codebook.sheets.values()
        for sheet in sheets
        for spec in sheet.columns
        if spec.personal
    }


def free_text_columns(codebook: Codebook) -> frozenset[str]:
    """Columns of the tidy tables holding typed free text: the ``text`` columns of the
    workbooks that are not personal, and the free text of pre-survey answers."""
    return frozenset(
        {
            spec.column
            for sheets in codebook.sheets.values()
            for sheet in sheets
            for spec in sheet.columns
            if spec.type == "text" and not spec.personal
        }
        | {_ANSWER_TEXT}
    )


def _skeleton(text: str) -> str:
    """The letters of a name as matched: NFKC, no spaces or middle dots, lower case."""
    return _GAP_CHARS.sub("", normalise_text(text)).lower()


def _strip_forms(core: str, forms: Sequence[str]) -> str:
    """``core`` without legal forms at either end (repeatedly; never down to nothing)."""
    ends = _form_ends(tuple(forms))
    changed = True
    while changed:
        changed = False
        if core[:1] not in ends[0] and core[-1:] not in ends[1]:
            break  # no form starts or ends as this does: the pass below would change nothing
        for form in forms:
            if core.startswith(form) and len(core) > len(form):
                core, changed = core[len(form) :], True
            if core.endswith(form) and len(core) > len(form):
                core, changed = core[: -len(form)], True
    return core


def _cores(name: str, forms: Sequence[str]) -> set[str]:
    """The spellings of ``name`` to look for: as typed, without a trailing note in brackets
    ("サンプル社 (架空)"), and both without their legal forms."""
    skeletons = _form_skeletons(tuple(forms))
    full = _skeleton(name)
    bare = re.sub(r"\([^()]*\)$", "", full) or full
    return {full, bare, _strip_forms(full, skeletons), _strip_forms(bare, skeletons)}


@cache
def _form_ends(forms: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """The first and the last letters of the legal forms."""
    return frozenset(f[:1] for f in forms), frozenset(f[-1:] for f in forms)


@cache
def _form_skeletons(forms: tuple[str, ...]) -> tuple[str, ...]:
    """The legal forms as matched, longest first (once per list, not once per name)."""
    return tuple(sorted({f for f in (_skeleton(f) for f in forms) if f}, key=len, reverse=True))


def _trie_pattern(words: Iterable[str]) -> str:
    """One regular expression for many words (a trie, so that 10,000 names stay fast), with
    :data:`_GAP` allowed between characters."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict) -> str:
        branches = []
        for ch in sorted(k for k in node if k):
            child = node[ch]
            rest = walk(child) if any(k for k in child) else ""
            if rest:
                rest = f"(?:{_GAP}{rest})" + ("?" if "" in child else "")
            branches.append(re.escape(ch) + rest)
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return walk(trie) if trie else ""


@dataclass(frozen=True)
class NameRedactor:
    """Finds the recognised names in text and replaces them by their marks.

    ``marks`` maps each spelling looked for (as matched) to its mark; ``forms`` are the legal
    forms allowed around a name (as matched, longest first). ``too_short`` lists the names that
    are looked for only in part or not at all (a spelling, e.g. without the legal form, shorter
    than :data:`MIN_LENGTH`): the ingest warns at their cells.
    """

    marks: Mapping[str, str]
    default_mark: str
    forms: tuple[str, ...] = ()
    too_short: tuple[FoundName, ...] = ()

    @cached_property
    def source(self) -> str | None:
        """The pattern's source: built (a trie of every spelling) when first needed."""
        if not self.marks:
            return None
        form = _trie_pattern(self.forms)
        affix_before = f"(?:{form}{_GAP})?" if form else ""
        affix_after = f"(?:{_GAP}{form})?" if form else ""
        return f"{_START}{affix_before}(?P<core>{_trie_pattern(self.marks)}){affix_after}{_END}"

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """The compiled pattern: building and compiling one for thousands of names takes about
        a second, which an ingest without free text (only scores and codes) need not spend."""
        return None if self.source is None else re.compile(self.source, re.IGNORECASE)

    def redact(self, text: object) -> tuple[object, bool]:
        """``text`` with every name replaced, and whether anything was replaced (non-text as is)."""
        if not self.marks or not isinstance(text, str) or not text or self.pattern is None:
            return text, False
        out, n = self.pattern.subn(
            lambda m: self.marks.get(_skeleton(m.group("core")), self.default_mark), normalise_text(text)
        )
        return (out, True) if n else (text, False)


def build_redactor(
    names: Iterable[FoundName], marks: Mapping[str, str], forms: Sequence[str] = (), min_length: int = MIN_LENGTH
) -> NameRedactor:
    """A :class:`NameRedactor` for ``names``; ``marks`` maps a personal column to its mark
    (:func:`name_marks`), ``forms`` are the legal forms (:func:`legal_forms`)."""
    by_core: dict[str, str] = {}
    too_short = []
    default = next(iter(marks.values()), "[名称]")
    for found in names:
        spellings = _cores(found.name, forms)
        cores = {c for c in spellings if len(c) >= min_length}
        if cores != spellings:  # e.g. "A株式会社": "A" alone would match every "A"
            too_short.append(found)
        for core in cores:
            by_core.setdefault(core, marks.get(found.column, default))
    return NameRedactor(by_core, default, _form_skeletons(tuple(forms)), tuple(too_short))


@dataclass(frozen=True)
class RedactedCell:
    """A free-text value in which a name was replaced: the table, column and row source."""

    table: str
    column: str
    source: str


def redact_columns(
    tables: Mapping[str, Mapping[str, list]], redactor: NameRedactor, columns: frozenset[str]
) -> tuple[dict[str, dict[str, list]], list[RedactedCell]]:
    """Every table (as columns: name -> values) with its free-text ``columns`` redacted and
    :data:`FLAG_COLUMN` added (True on a row where a name was replaced); and where."""
    out: dict[str, dict[str, list]] = {}
    where: list[RedactedCell] = []
    for table, values in tables.items():
        n = len(next(iter(values.values()), []))
        flags = [False] * n
        new = dict(values)
        sources = values.get("source") or [None] * n
        for column in sorted(columns & values.keys()):
            cells = list(values[column])
            for i, value in enumerate(cells):
                cells[i], hit = redactor.redact(value)
                if hit:
                    flags[i] = True
                    where.append(RedactedCell(table, column, str(sources[i] or "")))
            new[column] = cells
        new[FLAG_COLUMN] = flags
        out[table] = new
    return out, where


def redact_records(
    rows: Mapping[str, list[dict]], redactor: NameRedactor, columns: frozenset[str]
) -> tuple[dict[str, list[dict]], list[RedactedCell]]:
    """:func:`redact_columns` of tables given as records (one dict per row); each record keeps its keys."""
    wanted = sorted(columns | {"source"})  # a record without a column reads as None: nothing to redact
    done, where = redact_columns(
        {table: {c: [r.get(c) for r in records] for c in wanted} for table, records in rows.items()},
        redactor,
        columns,
    )
    out = {
        table: [
            {
                **record,
                **{c: done[table][c][i] for c in columns if c in record},
                FLAG_COLUMN: done[table][FLAG_COLUMN][i],
            }
            for i, record in enumerate(records)
        ]
        for table, records in rows.items()
    }
    return out, where
