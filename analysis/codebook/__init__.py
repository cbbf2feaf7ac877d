"""The study's codebook: instruments, questions, scales, code lists and rules as data.

Each edition is a folder of CSV files and an ``edition.toml`` shipped inside the package.
:func:`load_codebook` is the one loader; everything study-specific is read from there.
"""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis.ingest.normalise import SHOWN_CODES, InvalidValue, lookup_code, match_key, normalise_text, parse_int
from analysis.ingest.problems import Message, Text

if TYPE_CHECKING:
    from analysis.codebook.filters import QuestionFilter

__all__ = ["Codebook", "ColumnSpec", "SheetSpec", "available_editions", "entered_missing", "load_codebook"]

DEFAULT_EDITION = "fy2021"


@dataclass(frozen=True)
class ColumnSpec:
    """One column (or key/value row) of an instrument's sheet, as declared in ``columns.csv``."""

    column: str
    header_ja: str
    header_en: str
    type: str
    codelist: str
    required: bool
    personal: bool
    description_en: str
    description_ja: str = ""  # help text of the Japanese template ({year}, {wareki}, {reiwa} filled in)


@dataclass(frozen=True)
class SheetSpec:
    """One sheet of an instrument workbook."""

    instrument: str
    sheet: str
    name_ja: str
    name_en: str
    kind: str  # "table" (header row, one record per row) or "keyvalue" (one field per row)
    columns: tuple[ColumnSpec, ...]

    def column(self, column_id: str) -> ColumnSpec:
        """Return the spec of ``column_id``."""
        for spec in self.columns:
            if spec.column == column_id:
                return spec
        raise KeyError(column_id)


@dataclass(frozen=True, eq=False)
class Codebook:
    """An edition of the codebook. Frames are read-only by convention: copy before changing."""

    edition: str
    meta: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(repr=False)
    instruments: pd.DataFrame = field(repr=False)
    sheets: dict[str, tuple[SheetSpec, ...]] = field(repr=False)
    folder: str = ""  # the edition's folder when loaded from outside the package (kept in ingest.json)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)  # other TOML files, by name

    # -- declared parts -------------------------------------------------------------
    @property
    def scale(self) -> pd.DataFrame:
        """Answer scale levels: ``value``, ``label_ja``, ``label_en``."""
        return pd.DataFrame(self.meta["scale"]["levels"])

    @property
    def missing_codes(self) -> pd.DataFrame:
        """Missing-answer reasons: ``reason``, ``label_ja``, ``label_en``, ``aliases``."""
        return pd.DataFrame(self.meta["missing"])

    @property
    def scale_values(self) -> tuple[int, ...]:
        """The values of the answer scale, lowest first (1 … 5)."""
        return tuple(int(level["value"]) for level in self.meta["scale"]["levels"])

    def scale_labels(self, lang: str = "ja") -> tuple[str, ...]:
        """The labels of the answer scale in ``lang``, in the order of :attr:`scale_values`."""
        return tuple(str(level[f"label_{lang}"]) for level in self.meta["scale"]["levels"])

    @property
    def missing_entries(self) -> tuple[dict[str, Any], ...]:
        """Every ``[[missing]]`` entry as declared (``reason``, ``label_ja``, ``label_en``, ``aliases``,
        ``entered``), in the codebook's order (``entered = false`` ones included)."""
        return tuple(self.meta["missing"])

    @property
    def missing_reasons(self) -> tuple[str, ...]:
        """Every missing-answer reason, in the codebook's order (``entered = false`` ones included)."""
        return tuple(str(code["reason"]) for code in self.missing_entries)

    @property
    def suppression(self) -> dict[str, Any]:
        """The ``[suppression]`` table of the edition (``k``, ``interval``, ``share``); empty when absent."""
        return dict(self.meta.get("suppression") or {})

    @property
    def suppression_k(self) -> int:
        """The publication threshold k of ``[suppression]`` (counts from 1 to k-1 are hidden)."""
        return int(self.meta["suppression"]["k"])

    def title(self, lang: str = "ja") -> str:
        """The study's title in ``lang`` (the edition's name when it declares none)."""
        return str(self.meta.get(f"title_{lang}", self.edition))

    def codelist_key(self, name: str) -> str:
        """The column of code list ``name``'s table that holds its codes."""
        return str(self.meta["codelists"][name]["key"])

    def words(self, lang: str = "ja", scope: str = "") -> dict[str, str]:
        """The words of reports and analyses in ``lang`` (``ja`` or ``en``), ``{key: word}``.

        One catalogue in two layers: the toolkit's words (``analysis/codebook/words.csv``:
        headers, statistics and page text of any study) and the edition's (its ``words.csv``: the
        study's own terms). A word serves every part of the report; where a key means something
        else in one part (``scope``: ``report``, ``maturity``, ``crosstab`` or ``disclosure``),
        that part reads its own word in its scope.
        """
        return dict(_words(self, lang, scope))

    @property
    def maturity_rules(self) -> dict[str, Any]:
        """Thresholds, precedence and rules of the maturity classification."""
        return self.meta["maturity"]

    @property
    def directives(self) -> pd.DataFrame:
        return self.tables["directives"]

    @property
    def questions(self) -> pd.DataFrame:
        return self.tables["questions"]

    def table(self, name: str) -> pd.DataFrame:
        """Return a codebook table (a CSV file of the edition) by its file stem."""
        try:
            return self.tables[name]
        except KeyError:
            known = ", ".join(sorted(self.tables))
            raise KeyError(f"codebook {self.edition} has no table {name!r}; it has: {known}") from None

    def instrument_sheets(self, instrument: str) -> tuple[SheetSpec, ...]:
        """Return the sheets declared for ``instrument``."""
        try:
            return self.sheets[instrument]
        except KeyError:
            known = ", ".join(self.sheets)
            raise KeyError(f"unknown instrument {instrument!r}; the codebook has: {known}") from None

    # -- lookups ---------------------------------------------------------------------
    def codelist(self, name: str) -> pd.DataFrame:
        """Return the table behind code list ``name``."""
        return self.table(self.meta["codelists"][name]["file"].removesuffix(".csv"))

    def code_index(self, name: str) -> dict[str, str]:
        """Map every accepted spelling (code, Japanese label, English label) to the code."""
        return _code_index(self, name)

    def lookup(self, name: str, value: object) -> str:
        """Return the code of code list ``name`` that ``value`` names, or raise InvalidValue."""
        index = _code_index(self, name)
        code = index.get(match_key(value))  # match_key remembers the keys of hashable values
        if code is not None:
            return code
        return lookup_code(value, index, _what(self, name))

    def label(self, name: str, code: object, lang: str = "ja") -> str:
        """Return the label of ``code`` in code list ``name`` (``lang`` is ``ja`` or ``en``)."""
        frame = self.codelist(name)
        key = self.codelist_key(name)
        hit = frame.loc[frame[key].astype(str) == str(code), f"label_{lang}"]
        return str(hit.iloc[0]) if len(hit) else str(code)

    def scale_index(self) -> dict[str, int]:
        """Map accepted spellings of a scale level (number or label) to its value."""
        return dict(_scale_index(self))

    def missing_index(self) -> dict[str, str]:
        """Map accepted spellings of a missing answer to its reason."""
        return dict(_missing_index(self))

    def parse_score(self, value: object) -> tuple[int | None, str | None]:
        """Read a self-assessment answer as ``(score, None)`` or ``(None, missing_reason)``."""
        # The same few spellings come back in every workbook: remember the answers.
        try:
            hash(value)
        except TypeError:
            return self._parse_score(value)
        return _parse_score(self, value)

    def _parse_score(self, value: object) -> tuple[int | None, str | None]:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            key = match_key(value)
            missing = _missing_index(self)
            if key in missing:
                return None, missing[key]
            scale = _scale_index(self)
            if key in scale:
                return scale[key], None
        try:
            number = parse_int(value)
        except InvalidValue:
            number = None
        if number is not None and number in _scale_values(self):
            return number, None
        raise InvalidValue(self._score_expectation(value))

    def _score_expectation(self, value: object) -> Message:
        levels = self.meta["scale"]["levels"]
        return Message.of(
            "not_on_scale",
            low=levels[0]["value"],
            high=levels[-1]["value"],
            example=str(levels[0]["label_ja"]),
            missing=tuple(str(code["label_ja"]) for code in entered_missing(self)),
            value=repr(normalise_text(value)),
        )

    @property
    def true_words(self) -> list[str]:
        return list(self.meta["booleans"]["true"])

    @property
    def false_words(self) -> list[str]:
        return list(self.meta["booleans"]["false"])

    @property
    def filters(self) -> dict[str, QuestionFilter]:
        """Who is asked each filtered pre-survey question, by question id (see :mod:`analysis.codebook.filters`)."""
        from analysis.codebook.filters import question_filters

        return question_filters(self)


@cache
def _what(codebook: Codebook, name: str) -> Text:
    """How messages name a value of code list ``name``: its nouns from ``[codelist_nouns]`` and
    ``[codelist_nouns_ja]``, with the range of its codes when the list is longer than a message
    shows in full."""
    noun = codebook.meta.get("codelist_nouns", {}).get(name, "a " + name.replace("_", " "))
    noun_ja = codebook.meta.get("codelist_nouns_ja", {}).get(name, name)
    frame, key = codebook.codelist(name), codebook.meta["codelists"][name]["key"]
    codes = [str(code) for code in frame[key]]
    if len(codes) > SHOWN_CODES:
        return Text(f"{noun_ja}({codes[0]}〜{codes[-1]})", f"{noun} ({codes[0]} … {codes[-1]})")
    return Text(noun_ja, noun)


# Caches keyed by a codebook hold it by identity (Codebook has eq=False); codebooks are
# loaded once per edition and treated as read-only, so the cached indexes stay valid.
@cache
def _scale_index(codebook: Codebook) -> dict[str, int]:
    index: dict[str, int] = {}
    for level in codebook.meta["scale"]["levels"]:
        value = int(level["value"])
        for spelling in (str(value), level["label_ja"], level["label_en"]):
            index[match_key(spelling)] = value
    return index


@cache
def _scale_values(codebook: Codebook) -> frozenset[int]:
    return frozenset(_scale_index(codebook).values())


def entered_missing(codebook: Codebook) -> list[dict[str, Any]]:
    """Missing reasons a respondent may give (``entered = false`` ones are given by the ingest only)."""
    return [code for code in codebook.missing_entries if code.get("entered", True)]


@cache
def _toolkit_words() -> pd.DataFrame:
    return _read_csv((resources.files("analysis.codebook") / "words.csv").read_text(encoding="utf-8"))


@cache
def _words(codebook: Codebook, lang: str, scope: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for catalogue in (_toolkit_words(), codebook.tables.get("words")):
        if catalogue is None:
            continue
        for wanted in dict.fromkeys(("", scope)):  # the shared words, then the scope's own
            rows = catalogue[catalogue["scope"] == wanted]
            out.update(zip(rows["key"], rows[f"label_{lang}"], strict=True))
    return out


@cache
def _missing_index(codebook: Codebook) -> dict[str, str]:
    index: dict[str, str] = {}
    for code in entered_missing(codebook):
        for spelling in [code["reason"], code["label_ja"], code["label_en"], *code["aliases"]]:
            index[match_key(spelling)] = code["reason"]
    return index


@lru_cache(maxsize=1 << 14, typed=True)
def _parse_score(codebook: Codebook, value: object) -> tuple[int | None, str | None]:
    return codebook._parse_score(value)


@cache
def _code_index(codebook: Codebook, name: str) -> dict[str, str]:
    spec = codebook.meta["codelists"][name]
    frame = codebook.table(spec["file"].removesuffix(".csv"))
    index: dict[str, str] = {}
    label_columns = [c for c in ("label_ja", "label_en", "short_ja", "short_en") if c in frame]
    # Labels first, then codes, so that a code always wins over a clashing label.
    for column in label_columns:
        for code, label in zip(frame[spec["key"]], frame[column], strict=True):
            if isinstance(label, str) and label:
                index.setdefault(match_key(label), str(code))
    for code in frame[spec["key"]]:
        index[match_key(code)] = str(code)
    return index


def available_editions() -> list[str]:
    """Return the editions shipped with the package."""
    root = resources.files("analysis.codebook")
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "edition.toml").is_file())


# Editions loaded from a folder outside the package, by name: a later load by name in the same
# process (an ingest writing its outputs, a report) finds the same folder.
_FOLDERS: dict[str, Path] = {}


def is_edition_folder(edition: str | Path) -> bool:
    """Whether ``edition`` names a folder holding an ``edition.toml`` (a codebook outside the package)."""
    return Path(edition).is_dir() and (Path(edition) / "edition.toml").is_file()


def load_codebook(edition: str | Path = DEFAULT_EDITION) -> Codebook:
    """Load codebook ``edition``: a shipped edition's name (e.g. ``"fy2021"``) or a folder laid out
    like ``analysis/codebook/fy2021/`` (a new edition kept beside its data).

    Raises
    ------
    KeyError
        If the edition is neither shipped nor a folder; the message lists the shipped editions.
    """
    if isinstance(edition, Path) or (edition not in available_editions() and edition not in _FOLDERS):
        if not is_edition_folder(edition):
            raise KeyError(
                f"no codebook edition {str(edition)!r}; available: {', '.join(available_editions())} "
                "or a folder with edition.toml"
            )
        codebook = _load_folder(Path(edition).resolve())
        _FOLDERS[codebook.edition] = Path(codebook.folder)
        return codebook
    if edition in _FOLDERS and edition not in available_editions():
        return _load_folder(_FOLDERS[edition])
    return _load_packaged(edition)


@cache
def _load_packaged(edition: str) -> Codebook:
    return _load(resources.files("analysis.codebook") / edition, folder="")


@cache
def _load_folder(folder: Path) -> Codebook:
    return _load(folder, folder=str(folder))


def _load(source: Traversable, folder: str) -> Codebook:
    """Read one edition's ``edition.toml`` and CSV files (``folder``: where, when outside the package)."""
    meta = tomllib.loads((source / "edition.toml").read_text(encoding="utf-8"))
    tables: dict[str, pd.DataFrame] = {}
    documents: dict[str, dict[str, Any]] = {}
    for entry in source.iterdir():
        if entry.name.endswith(".csv"):
            tables[entry.name.removesuffix(".csv")] = _read_csv(entry.read_text(encoding="utf-8"))
        elif entry.name.endswith(".toml") and entry.name != "edition.toml":
            documents[entry.name.removesuffix(".toml")] = tomllib.loads(entry.read_text(encoding="utf-8"))
    instruments = tables.pop("instruments")
    columns = tables.pop("columns")
    sheets: dict[str, tuple[SheetSpec, ...]] = {}
    for instrument in instruments["instrument"]:
        rows = columns[columns["instrument"] == instrument]
        specs = []
        for sheet_id in dict.fromkeys(rows["sheet"]):
            part = rows[rows["sheet"] == sheet_id]
            first = part.iloc[0]
            specs.append(
                SheetSpec(
                    instrument=instrument,
                    sheet=sheet_id,
                    name_ja=first["sheet_ja"],
                    name_en=first["sheet_en"],
                    kind=first["sheet_kind"],
                    columns=tuple(
                        ColumnSpec(
                            column=r["column"],
                            header_ja=r["header_ja"],
                            header_en=r["header_en"],
                            type=r["type"],
                            codelist=r["codelist"],
                            required=r["required"] == "true",
                            personal=r["personal"] == "true",
                            description_en=r["description_en"],
                            description_ja=r.get("description_ja", ""),
                        )
                        for _, r in part.iterrows()
                    ),
                )
            )
        sheets[instrument] = tuple(specs)
    codebook = Codebook(
        edition=meta.get("edition", source.name),
        meta=meta,
        folder=folder,
        documents=documents,
        tables=tables,
        instruments=instruments,
        sheets=sheets,
    )
    _ = codebook.filters  # a filter that points at nothing stops the load, naming its row
    return codebook


def _read_csv(text: str) -> pd.DataFrame:
    # Codebook files are read as text so that codes like "01" or "1-1" keep their spelling;
    # integer-looking columns that are ids in the study (directive, section, code...) are
    # converted where they are used.
    rows = list(csv.reader(io.StringIO(text)))
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype="str")
    for column in ("directive", "section", "order", "topic", "code", "round"):
        if column in frame and frame[column].str.fullmatch(r"-?\d+").all():
            frame[column] = frame[column].astype("int64")
    return frame.fillna("")
