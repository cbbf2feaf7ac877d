"""Pure normalisation of cell values: text, fiscal years, respondent ids, answers.

Nothing here touches the file system. Every parser either returns a value or raises
:class:`InvalidValue`, whose message says what was expected.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

from analysis.ingest.problems import Message, Param, Text

__all__ = [
    "japanese_fiscal_year",
    "InvalidValue",
    "normalise_text",
    "match_key",
    "parse_fiscal_year",
    "parse_respondent_id",
    "parse_int",
    "parse_bool",
    "parse_date",
    "split_codes",
    "lookup_code",
    "SHOWN_CODES",
]

# Japanese eras that can appear in a fiscal year written as 令和3年度 / R3 / 平成31年度 / H31.
_ERAS: dict[str, int] = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988}
_ERA_RE = re.compile(r"^(令和|平成|R|H)\s*(元|\d{1,2})\s*(年度|年)?$")
_YEAR_RE = re.compile(r"^(?:FY)?\s*(\d{4})\s*(?:年度|年)?$")
_SPACE_RE = re.compile(r"\s+")
_ID_RE = re.compile(r"^[A-Z0-9][A-Z0-9_\-]*$")
_CODE_SEPARATORS = re.compile(r"[;,、,/]")

YEAR_RANGE = (1990, 2100)
SHOWN_CODES = 12  # codes a message lists when a value names none of them


def japanese_fiscal_year(year: int) -> str:
    """The fiscal year as a Japanese era year: 2022 -> 令和4年度, 2019 -> 令和元年度, 2018 -> 平成30年度
    (the inverse of :func:`parse_fiscal_year` for 令和/平成)."""
    era = "令和" if year > _ERAS["令和"] else "平成"
    number = year - _ERAS[era]
    if number < 1:
        raise ValueError(f"{year} is before the 平成 era")
    return f"{era}{'元' if number == 1 else number}年度"


class InvalidValue(ValueError):
    """A cell value that cannot be read as what its column expects; ``what`` says so (its
    ``str`` is the English message)."""

    def __init__(self, what: Message) -> None:
        super().__init__(what)
        self.what = what

    @classmethod
    def of(cls, code: str, /, **params: Param) -> InvalidValue:
        return cls(Message.of(code, **params))

    def __str__(self) -> str:
        return self.what.en


def normalise_text(value: object) -> str:
    """Return ``value`` as NFKC text with whitespace folded to single spaces and trimmed.

    NFKC turns Kangxi radicals into ideographs and full-width digits and letters into
    ASCII; the ideographic space becomes a plain space. ``None`` and NaN give ``""``.
    """
    try:
        return _cached_text(value)
    except TypeError:  # unhashable
        return _normalise_text(value)


def match_key(value: object) -> str:
    """Return the form used to compare a value with codes and labels (normalised, casefolded)."""
    try:
        return _cached_key(value)
    except TypeError:  # unhashable
        return _normalise_text(value).casefold()


# The same headers, labels, codes and answers come back in every workbook of an ingest: their
# normalised forms are remembered (by value and type, so that 1, 1.0 and True stay apart).
@lru_cache(maxsize=1 << 14, typed=True)
def _cached_text(value: object) -> str:
    return _normalise_text(value)


@lru_cache(maxsize=1 << 14, typed=True)
def _cached_key(value: object) -> str:
    return _normalise_text(value).casefold()


def _normalise_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    return _SPACE_RE.sub(" ", text).strip()


def parse_fiscal_year(value: object) -> int:
    """Read a fiscal year from ``2021``, ``2021.0``, ``FY2021``, ``2021年度``, ``令和3年度`` or ``R3``."""
    if isinstance(value, bool):
        raise InvalidValue.of("not_fiscal_year", value=repr(value))
    if isinstance(value, (_dt.date, _dt.datetime)):
        raise InvalidValue.of("fiscal_year_is_date", date=value.isoformat())
    text = normalise_text(value).upper()
    year: int | None = None
    match = _YEAR_RE.match(text)
    if match:
        year = int(match.group(1))
    else:
        match = _ERA_RE.match(normalise_text(value).replace("r", "R").replace("h", "H"))
        if match:
            era, number = match.group(1), match.group(2)
            year = _ERAS[era] + (1 if number == "元" else int(number))
    if year is None or not (YEAR_RANGE[0] <= year <= YEAR_RANGE[1]):
        raise InvalidValue.of("not_fiscal_year", value=_show(value))
    return year


def parse_respondent_id(value: object) -> str:
    """Normalise an id: NFKC, upper case, no spaces (``Ｕ０１`` → ``U01``)."""
    text = normalise_text(value).upper().replace(" ", "")
    if not text:
        raise InvalidValue.of("id_empty")
    if not _ID_RE.match(text):
        raise InvalidValue.of("id_invalid", value=_show(value))
    return text


def parse_int(value: object) -> int:
    """Read a whole number from ``4``, ``4.0``, ``"4"`` or ``"４"``."""
    if isinstance(value, bool):
        raise InvalidValue.of("not_whole_number", value=repr(value))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise InvalidValue.of("not_whole_number", value=repr(value))
    text = normalise_text(value)
    try:
        number = float(text)
    except ValueError:
        raise InvalidValue.of("not_whole_number", value=_show(value)) from None
    if not math.isfinite(number) or not number.is_integer():
        raise InvalidValue.of("not_whole_number", value=_show(value))
    return int(number)


def parse_bool(value: object, true_words: Iterable[str], false_words: Iterable[str]) -> bool:
    """Read yes/no from the codebook's words (compared after normalisation)."""
    if isinstance(value, bool):
        return value
    key = match_key(value)
    trues = {match_key(w) for w in true_words}
    falses = {match_key(w) for w in false_words}
    if key in trues:
        return True
    if key in falses:
        return False
    raise InvalidValue.of("not_yes_no", allowed=tuple(sorted(trues | falses)), value=_show(value))


def parse_date(value: object) -> _dt.date:
    """Read a date from a spreadsheet date or ``YYYY-MM-DD`` / ``YYYY/MM/DD`` / ``YYYY年M月D日``."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    text = normalise_text(value)
    match = re.match(r"^(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?$", text)
    if match:
        try:
            return _dt.date(*(int(g) for g in match.groups()))
        except ValueError:
            pass
    raise InvalidValue.of("not_date", value=_show(value))


def split_codes(value: object) -> list[str]:
    """Split a select-all-that-apply cell (``1;3``, ``1,3``, ``1、3``) into its parts."""
    text = normalise_text(value)
    return [part.strip() for part in _CODE_SEPARATORS.split(text) if part.strip()]


def lookup_code(value: object, index: Mapping[str, str], what: Text) -> str:
    """Return the code that ``value`` names in ``index`` (a map from match keys to codes)."""
    key = match_key(value)
    if key in index:
        return index[key]
    shown = sorted(set(index.values()), key=_natural)
    allowed = tuple(shown[:SHOWN_CODES]) + (("…",) if len(shown) > SHOWN_CODES else ())
    raise InvalidValue.of("not_in_codelist", what=what, allowed=allowed, value=_show(value))


def _natural(text: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _show(value: object) -> str:
    text = str(value)
    if len(text) > 40:
        text = text[:37] + "…"
    return repr(text)
