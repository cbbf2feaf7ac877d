"""What is read off a worksheet's XML without parsing it: the cells it declares and spans,
formulas without a value, and cells holding an error value.

Pure functions of the bytes of one sheet part, used by the pre-parse checks
(:mod:`analysis.ingest.safety`, which decide what a file may cost) and by the cell reader
(:mod:`analysis.ingest.workbook`, which puts back what the parser drops). They read the XML as
the parser does, not as one writer spells it.
"""

from __future__ import annotations

import re

__all__ = [
    "UnreadablePosition",
    "as_utf8",
    "declared_cells",
    "error_cells",
    "formulas_without_value",
    "plain_extent",
    "used_extent",
]

# Sheet XML is read as XML, not as one writer's spelling of it: attribute values in single or
# double quotes (either may hold '>'), spaces around '=', namespace prefixes on elements.
# Possessive (Python 3.11+): a start tag that never ends costs one pass, not a backtracking storm.
_ATTRS = rb"""((?:[^>"']++|"[^"]*+"|'[^']*+')*+)"""
# A prefix is anything before the element name's first colon (the parser's reading).
_PREFIX = rb"(?:[^\s<>/:!?\"']*:)?"
_DIMENSION_RE = re.compile(rb"<" + _PREFIX + rb"dimension(?=[\s/>])" + _ATTRS + rb">")
_REF_ATTR_RE = re.compile(rb"""(?<![\w.:-])ref\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_R_ATTR_RE = re.compile(rb"""(?<![\w.:-])r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF_RE = re.compile(rb"^\s*\$?([A-Za-z]{1,3})\$?([0-9]{1,7})\s*$")
_ROW_NUMBER_RE = re.compile(rb"^\s*([0-9]{1,7})\s*$")
_CELL_OR_ROW_RE = re.compile(rb"<(/?)" + _PREFIX + rb"(row|c)(?=[\s/>])" + _ATTRS + rb">")
# Excel writes every cell with its position first, in double quotes (<c r="B3" …>). A sheet
# whose cells all carry such a position within ZZ9999 has a small extent whatever its rows say
# (a cell's r decides its place); anything else (see plain_extent) is measured. These tests run
# on every sheet, so they are byte counts and one literal-led pattern, on the sheet data with
# whitespace removed (so that r = "…" and r="…" look alike).
_WHITESPACE = b" \t\n\r"
_NEAR_CELL_RE = re.compile(rb'<cr="([A-Z]{1,2})([0-9]{1,4})"')
_PREFIXED_CELL_RE = re.compile(rb":c")  # the regex engine's literal search beats `in` here by 3×


def as_utf8(xml: bytes) -> bytes:
    """UTF-16 XML (with a byte-order mark, or starting ``<`` then a zero byte) as UTF-8."""
    if xml[:2] in (b"\xff\xfe", b"\xfe\xff") or xml[:2] in (b"<\x00", b"\x00<"):
        encoding = (
            "utf-16" if xml[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-16-le" if xml[:1] == b"<" else "utf-16-be")
        )
        return xml[: len(xml) // 2 * 2].decode(encoding, "replace").encode("utf-8")
    return xml


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + (letter - 64)
    return number


# The column of each one- or two-letter name (A..ZZ), for the plain sheets' rectangle.
_LETTERS = [bytes([65 + i]) for i in range(26)]
_NEAR_COLUMNS = {name: _column_number(name) for name in _LETTERS + [a + b for a in _LETTERS for b in _LETTERS]}


def declared_cells(head: bytes) -> int:
    """Cells in the ``<dimension ref="A1:D40">`` of a sheet (0 when absent or unreadable)."""
    match = _DIMENSION_RE.search(head)
    ref = _REF_ATTR_RE.search(match.group(1)) if match else None
    if not ref:
        return 0
    value = _unescape(ref.group(1) if ref.group(1) is not None else ref.group(2))
    corners = [_REF_RE.match(part.strip()) for part in value.split(b":")]
    if not corners or not all(corners) or len(corners) > 2:
        return 0
    rows = [int(c.group(2)) for c in corners]  # type: ignore[union-attr]
    cols = [_column_number(c.group(1)) for c in corners]  # type: ignore[union-attr]
    return (max(rows) - min(rows) + 1) * (max(cols) - min(cols) + 1)


_CHAR_REF_RE = re.compile(rb"&#(x[0-9A-Fa-f]+|[0-9]+);")
_XML_ENTITIES = {b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&apos;": b"'"}


def _unescape(value: bytes) -> bytes:
    """An attribute value with character references (``&#88;``) and XML's own entities resolved,
    as a parser sees it."""
    if b"&" not in value:
        return value

    def char(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        number = int(code[1:], 16) if code[:1] in (b"x", b"X") else int(code)
        return chr(number).encode("utf-8", "replace") if number < 0x110000 else b"?"

    value = _CHAR_REF_RE.sub(char, value)
    for entity, text in _XML_ENTITIES.items():
        value = value.replace(entity, text)
    return value.replace(b"&amp;", b"&")


def plain_extent(xml: bytes) -> int | None:
    """Cells of the rectangle a plain sheet's cells span, or ``None`` when it must be measured
    by :func:`used_extent` (cheap: counts and one pattern).

    Plain means: in the sheet data, every ``<c`` starts ``<c r="`` with an upper-case position
    within ZZ9999, no other ``r`` attribute exists (rows may carry one each), and no element
    has a namespace prefix. Then every cell's place is its own ``r``.
    """
    start, end = xml.find(b"<sheetData"), xml.rfind(b"</sheetData>")
    if start < 0 or end < start or b":sheetData" in xml:
        return None if start >= 0 or b":sheetData" in xml or b"<c" in xml else 0
    data = xml[start:end].translate(None, _WHITESPACE)
    cells = data.count(b"<c")
    if data.count(b"r=") != cells + data.count(b'<rowr="') or _PREFIXED_CELL_RE.search(data):
        return None
    places = _NEAR_CELL_RE.findall(data)
    if len(places) != cells:
        return None
    if not places:
        return 0
    letters, digits = zip(*places, strict=True)
    # The distinct spellings only: a column's letters and a row's digits repeat down the sheet.
    rows, columns = [int(d) for d in set(digits)], [_NEAR_COLUMNS[name] for name in set(letters)]
    return (max(rows) - min(rows) + 1) * (max(columns) - min(columns) + 1)


class UnreadablePosition(ValueError):
    """A cell or row position the extent scan cannot read as the parser would (``args[0]``)."""


def used_extent(xml: bytes, budget: int | None = None) -> int:
    """Cells of the rectangle that the sheet's cells span (what the parser will allocate).

    Positions follow the parser: a cell's ``r`` gives its row and column; a cell without one
    is in its row's row, right of the previous cell. A row without ``r`` follows the previous
    row element, or comes after as many row ends as were read, and the column starts again
    at a row element, or only at a row end (the parser moves on at every ``</row>``, even one
    that closes something else, and nowhere else): a cell without ``r`` counts at both places.
    Every ``r`` of an element counts (a duplicate must not hide a far one); one that is not a
    plain position (``B12``, ``$B$12``, a row number; at most 7 digits) raises
    :class:`UnreadablePosition`, since the parser reads such spellings its own way (leading
    zeros, numbers past 2³² wrapped). The scan stops once the rectangle exceeds ``budget``.
    """
    # The row by row elements, and by the parser's count of row ends; the column as a new row
    # element resets it, and as only a row end does (the parser's).
    row, counter, col, run = -1, 0, -1, -1
    corners: tuple[int, int, int, int] | None = None  # top, left, bottom, right
    for match in _CELL_OR_ROW_RE.finditer(xml):
        if match.group(1):  # an end tag: </row>, or </c> (nothing to do)
            if match.group(2) == b"row":
                counter, run = counter + 1, -1
            continue
        refs = [_unescape(double or single) for double, single in _R_ATTR_RE.findall(match.group(3))]
        if match.group(2) == b"row":
            numbers = [int(_matched(_ROW_NUMBER_RE, r).group(1)) - 1 for r in refs]
            if numbers:
                row = counter = max(numbers)
            else:
                row += 1  # the parser's count stays where the ends left it
            col = -1
            continue
        places = [(int(m.group(2)) - 1, _column_number(m.group(1)) - 1) for m in (_matched(_REF_RE, r) for r in refs)]
        if places:
            col = run = max(p[1] for p in places)
            cells = places
        else:
            col, run = col + 1, run + 1
            cells = [(max(row, 0), col), (counter, run)]
        for r, c in cells:
            if corners is None:
                corners = (r, c, r, c)
            else:
                top, left, bottom, right = corners
                corners = (min(top, r), min(left, c), max(bottom, r), max(right, c))
        if budget is not None and corners is not None and _area(corners) > budget:
            break
    return 0 if corners is None else _area(corners)


def _matched(pattern: re.Pattern[bytes], value: bytes) -> re.Match[bytes]:
    match = pattern.match(value)
    if match is None:
        raise UnreadablePosition(value.decode("utf-8", "replace")[:40])
    return match


def _area(corners: tuple[int, int, int, int]) -> int:
    top, left, bottom, right = corners
    return (bottom - top + 1) * (right - left + 1)


# A formula element <f>, <f t="shared" …/> or with a namespace prefix (<x:f>); not <formula1>
# of a data validation. Two literal-led patterns are several times faster than one general one.
_HAS_FORMULA_RE = re.compile(rb"<f[ >/]")
_HAS_NS_FORMULA_RE = re.compile(rb":f[ >/]")
# A cell and its body; neither may run into the next cell (an unclosed <c …> would otherwise be
# searched to the end of the part for each one: quadratic in a hostile sheet).
_CELL_RE = re.compile(rb"<(?:\w+:)?c\b([^<>]*?)(?:/>|>((?:(?!<(?:\w+:)?c\b).)*?)</(?:\w+:)?c>)", re.S)
_FORMULA_REF_RE = re.compile(rb'\br="([A-Z]+[0-9]+)"')
_F_RE = re.compile(rb"<(?:\w+:)?f\b")
_V_RE = re.compile(rb"<(?:\w+:)?v>\s*[^<\s]")


# A cell of type error: <c r="A1" t="e"><v>#DIV/0!</v></c> (any quoting or spacing of t).
_HAS_ERROR_RE = re.compile(rb"""\bt\s*=\s*["']e["']""")
_QUOTED_E_RE = re.compile(rb"""e["'](?<=["']e["'])""")
_ERROR_REF_RE = re.compile(rb"""\br\s*=\s*["']([A-Z]+[0-9]+)["']""")
# The value up to the next tag, stripped after the match (a lazy group between two \s* would
# retry a long run of whitespace from every position in it: quadratic).
_V_TEXT_RE = re.compile(rb"<(?:\w+:)?v>([^<]*)</")


def error_cells(xml: bytes) -> dict[str, str]:
    """Cells of type error, by reference, with their error text (cells without ``r`` cannot be placed)."""
    # Error cells are rare: a search for the value "e" in either quotes first (one pass, led by
    # the letter: several times faster than `in` on XML full of quotes), the pattern only then.
    if not (_QUOTED_E_RE.search(xml) and _HAS_ERROR_RE.search(xml)):
        return {}
    cells = {}
    for match in _CELL_RE.finditer(xml):
        attrs = match.group(1)
        if not _HAS_ERROR_RE.search(attrs):
            continue
        ref = _ERROR_REF_RE.search(attrs)
        value = _V_TEXT_RE.search(match.group(2) or b"")
        if ref:
            text = value.group(1).strip() if value else b""
            cells[ref.group(1).decode()] = text.decode("utf-8", "replace") if value else "#ERROR"
    return cells


def formulas_without_value(xml: bytes) -> tuple[str, ...]:
    """Cells holding a formula but no cached value, by reference (``?`` for a cell without ``r``)."""
    if not (_HAS_FORMULA_RE.search(xml) or _HAS_NS_FORMULA_RE.search(xml)):
        return ()
    cells = []
    for match in _CELL_RE.finditer(xml):
        body = match.group(2) or b""
        if _F_RE.search(body) and not _V_RE.search(body):
            ref = _FORMULA_REF_RE.search(match.group(1))
            cells.append(ref.group(1).decode() if ref else "?")
    return tuple(cells)
