"""Writers of the report's files: tables.xlsx, one CSV and one Markdown file per table, figures as
PNG and SVG, and a self-contained index.html.

Every writer reads a :class:`PreparedTable` (headers in the report's language, plain Python
cell values, one kind per column), so the workbook, the CSV, the Markdown and the page show the
same numbers. Tables keep their column ids until here: :func:`prepare_table` gives them their
headers (:meth:`analysis.codebook.words.Words.header`, in the table's word scope). Text cells
pass through :mod:`analysis.output.safe`. Output bytes depend only on the tables (no time stamps
in CSV, Markdown or HTML).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import io
import math
import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.codebook.words import Words
from analysis.output.safe import neutralise, set_cell
from analysis.report.registry import ReportFigure, ReportTable

__all__ = [
    "HEADER_ROW",
    "PreparedTable",
    "csv_bytes",
    "file_stem",
    "html_page",
    "markdown_text",
    "prepare_table",
    "save_figure",
    "write_report",
    "write_workbook",
]

HEADER_ROW = 4  # row of the column headers on every table sheet (title, back link, note above)
# A p or q value keeps its digits (0.0042, not 0.00) and reads "<0.001" below that, while the cell
# stays a number (a conditional number format, not text).
_NUMBER_FORMATS = {"int": "0", "float": "0.00", "percent": "0.0%", "pvalue": '[<0.001]"<0.001";0.000#'}
# p_value, q_value, p_fisher, bh_q_values; or a header already labelled: p値(Fisher…), q値(BH法), p (Fisher exact)
_P_COLUMN = re.compile(r"^(?:[pq]|[pq]_\w+|\w+_[pq]_values?)$|^[pq](?:値|\s|\(|$)")
# Excel's Japanese UI font (Office 2016 and later, Windows and Mac); where it is missing Excel and
# LibreOffice substitute another font (the contents sheet says so).
_FONT_NAME = "Yu Gothic"
_LANDSCAPE_WIDTH = 100  # total column width (characters) above which a sheet prints landscape
_MIN_WIDTH, _MAX_WIDTH = 6, 60


@dataclass(frozen=True)
class PreparedTable:
    """A report table ready to write: display headers, column kinds and plain cell values.

    ``kinds`` holds one of ``int``, ``float``, ``pvalue``, ``percent``, ``bool`` or ``text`` per column;
    cells are ``None``, ``bool``, ``int``, ``float`` or ``str`` (a suppressed count may be text).
    """

    name: str
    file_stem: str
    title: str
    note: str
    section: str
    headers: tuple[str, ...]
    kinds: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    row_headers: int = 0  # leading columns that label the rows (the index; <th scope="row"> on the page)


# -- preparing -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Return ``value`` as None, bool, int, float or str."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, dt.datetime):  # pandas Timestamps too
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _kind(series: pd.Series, column: str, table: ReportTable) -> str:
    kind = _value_kind(series, column, table)
    return "pvalue" if kind == "float" and _P_COLUMN.match(column) else kind


def _value_kind(series: pd.Series, column: str, table: ReportTable) -> str:
    if column in table.percents:
        return "percent"
    if column in table.counts:
        return "int"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "text"
    if pd.api.types.is_bool_dtype(series.dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "int"
    if pd.api.types.is_float_dtype(series.dtype):
        return "float"
    # An object column (e.g. counts after suppression, with a marker in some cells): the kind of
    # its values when they are all of one numeric kind.
    values = [_plain(v) for v in series if _plain(v) is not None]
    if values and all(isinstance(v, bool) for v in values):
        return "bool"
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if numbers and all(isinstance(v, int) for v in numbers) and len(numbers) == len(values):
        return "int"
    if numbers and len(numbers) == len(values):
        return "float"
    return "text"


def _typed(value: Any, kind: str) -> Any:
    if kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def file_stem(name: str) -> str:
    """A file-name-safe stem for table or figure ``name``."""
    return re.sub(r"[^\w.-]", "_", name).strip(".") or "table"


def _ui(words: Words, key: str, default: str) -> str:
    """A word of the report's page text (scope ``report``), else ``default``."""
    return words.label(key, "report", default)


def prepare_table(table: ReportTable, words: Words) -> PreparedTable:
    """Turn ``table`` into a :class:`PreparedTable` with headers in ``words.lang``.

    A meaningful index (named, or of labels rather than row numbers) becomes leading columns;
    the levels of a column MultiIndex are joined with " / ".
    """
    frame = table.frame
    named = any(name is not None for name in frame.index.names)
    row_headers = 0
    if named or not pd.api.types.is_integer_dtype(frame.index.dtype):
        row_headers = frame.index.nlevels
        frame = frame.reset_index()
    if isinstance(frame.columns, pd.MultiIndex):
        columns = [" / ".join(str(part) for part in c if str(part)) for c in frame.columns]
        frame = frame.set_axis(columns, axis=1)
    columns = [str(c) for c in frame.columns]
    kinds = tuple(_kind(frame.iloc[:, i], c, table) for i, c in enumerate(columns))
    rows = tuple(
        tuple(_typed(_plain(v), kind) for v, kind in zip(row, kinds, strict=True))
        for row in frame.itertuples(index=False, name=None)
    )
    if not row_headers and kinds and kinds[0] == "text":
        row_headers = 1  # a first text column (a label per row) reads as the row's header
    section = _ui(words, f"section:{table.section}", table.section) if table.section else ""
    return PreparedTable(
        name=table.name,
        file_stem=file_stem(table.name),
        title=table.title(words.lang),
        note=table.note_ja if words.lang == "ja" else table.note_en,
        section=section,
        headers=tuple(table.header(c, words) for c in columns),
        kinds=kinds,
        rows=rows,
        row_headers=min(row_headers, len(columns)),
    )


# -- cell text ---------------------------------------------------------------------------------


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".12g")  # 0.30000000000000004 -> 0.3; same bytes every run
    return neutralise(value)


def _display(value: Any, kind: str, words: Words) -> str:
    """The text a reader sees for a cell (Markdown and HTML)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _ui(words, "ui:yes", "yes") if value else _ui(words, "ui:no", "no")
    if isinstance(value, int | float):
        if kind == "percent":
            return f"{value * 100:.1f}%"
        if kind == "pvalue":
            return p_text(value)
        if isinstance(value, int):
            return str(value)
        if kind == "int" and value.is_integer():
            return str(int(value))
        # Small values (p-values above all) keep two significant digits instead of showing 0.00.
        return f"{value:.2g}" if 0 < abs(value) < 0.01 else f"{value:.2f}"
    return value


def p_text(value: float) -> str:
    """A p or q value as printed: ``<0.001`` below 0.001, else three or four decimals (0.0042)."""
    if value < 0.001:
        return "<0.001"
    shown = f"{value:.4f}"
    return shown[:-1] if shown.endswith("0") else shown


def _display_width(value: str) -> int:
    lines = value.splitlines() or [""]
    return max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in lines)


# -- CSV and Markdown -------------------------------------------------------------------------------


def csv_bytes(table: PreparedTable) -> bytes:
    """The table as UTF-8 CSV with a byte-order mark (Excel in Japan reads BOM-less UTF-8 as
    Shift_JIS): numbers as numbers (proportions 0..1), risky text neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([neutralise(h) for h in table.headers])
    for row in table.rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


_MARKDOWN_SPECIAL = re.compile(r"([\\|<*_\[\]`])")  # ">" is harmless inside a table cell


def _markdown_cell(value: str, raw: Any = "") -> str:
    """Escape ``value`` for a pipe table; risky text (judged on the ``raw`` cell, so that a
    negative number shown as "-2" stays a number) gets a leading apostrophe."""
    if isinstance(raw, str):
        value = neutralise(value)
    value = _MARKDOWN_SPECIAL.sub(r"\\\1", value).replace("\t", " ")
    return re.sub(r"\r\n|\r|\n", "<br>", value)


def markdown_text(table: PreparedTable, words: Words) -> str:
    """The table as a Markdown document (title, pipe table, note)."""
    lines = [f"# {_markdown_cell(table.title)}", ""]
    if table.headers:
        lines.append("| " + " | ".join(_markdown_cell(h) for h in table.headers) + " |")
        lines.append("| " + " | ".join("---:" if k != "text" else "---" for k in table.kinds) + " |")
        for row in table.rows:
            cells = (_markdown_cell(_display(v, k, words), v) for v, k in zip(row, table.kinds, strict=True))
            lines.append("| " + " | ".join(cells) + " |")
    if not table.rows:
        lines += ["", _ui(words, "ui:no_rows", "(no rows)")]
    if table.note:
        lines += ["", f"{_ui(words, 'ui:note', 'Note')}: {_markdown_cell(table.note)}"]
    return "\n".join(lines) + "\n"


# -- workbook -------------------------------------------------------------------------------------


def _sheet_names(names: Sequence[str], reserved: Iterable[str]) -> list[str]:
    """Excel sheet names for ``names``: no []:*?/\\, at most 31 characters, unique (any case)."""
    taken = {r.lower() for r in reserved}
    result = []
    for name in names:
        base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'")[:31] or "table"
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            suffix = f"~{n}"
            candidate = base[: 31 - len(suffix)] + suffix
        taken.add(candidate.lower())
        result.append(candidate)
    return result


def _internal_link(cell: Any, sheet: str) -> None:
    from openpyxl.worksheet.hyperlink import Hyperlink

    cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{sheet}'!A1", display=str(cell.value))
    cell.style = "Hyperlink"


def _sheet_title(title: str) -> str:
    """A sheet name from a table's title: the part before a colon when the whole is too long
    ("事前アンケート Q1-1×成熟度: …" -> "事前アンケート Q1-1×成熟度")."""
    head = re.split(r"[:：]", title, maxsplit=1)[0].strip()
    return head if len(title) > 31 and head else title


def _base_font(book: Any, font: Any) -> None:
    """Make ``font`` the workbook's default (style 0 and the Normal style), so that every cell
    without its own style, and every empty cell, shows it without a per-cell style."""
    from openpyxl.styles import Font, NamedStyle
    from openpyxl.utils.indexed_list import IndexedList

    book._fonts = IndexedList([font])  # index 0 is the default font of the stylesheet
    book._named_styles["Normal"].font = font
    # Excel's built-in link style, in the same font (openpyxl's own copy names Calibri)
    link = Font(name=font.name, size=font.size, color="0563C1", underline="single")
    book.add_named_style(NamedStyle(name="Hyperlink", builtinId=8, font=link))


def _print_setup(sheet: Any, landscape: bool, title_rows: str | None) -> None:
    """A4, fit to one page wide (as many pages tall as needed), header rows on every page."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.print_options.horizontalCentered = True
    if title_rows:
        sheet.print_title_rows = title_rows


def write_workbook(
    tables: Sequence[PreparedTable],
    path: Path,
    words: Words,
    heading: str,
    banner: str = "",
    ingest: str = "",
) -> list[str]:
    """Write ``tables.xlsx``: a contents sheet linking to one sheet per table.

    The contents sheet opens with the heading, the banner and ``ingest`` (what the ingest found),
    and lists each table's sheet (named after its title), title, section, rows, CSV and id. Each
    table sheet has the title, a link back, the note above and below the table, header rows
    repeated on every printed page, and fits one page wide. The font is Excel's Japanese UI font.

    Returns the sheet names, in the order of ``tables``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    base = Font(name=_FONT_NAME, size=11)
    bold, header_fill = Font(name=_FONT_NAME, size=11, bold=True), PatternFill("solid", fgColor="DDE4EE")
    contents_name = _ui(words, "ui:contents", "Contents")
    sheet_names = _sheet_names([_sheet_title(t.title) for t in tables], reserved=[contents_name])

    book = Workbook()
    _base_font(book, base)
    contents = book.worksheets[0]  # a new workbook's one sheet
    contents.title = contents_name
    set_cell(contents.cell(1, 1), heading)
    contents.cell(1, 1).font = Font(name=_FONT_NAME, bold=True, size=14)
    set_cell(contents.cell(2, 1), banner or None)
    set_cell(contents.cell(3, 1), ingest or None)
    headers = [
        "No.",
        _ui(words, "ui:sheet", "Sheet"),
        _ui(words, "ui:title", "Title"),
        _ui(words, "ui:section", "Section"),
        _ui(words, "ui:rows", "Rows"),
        "CSV",
        _ui(words, "ui:table_id", "Table id"),
    ]
    for j, header in enumerate(headers, start=1):
        cell = contents.cell(HEADER_ROW, j)
        set_cell(cell, header)
        cell.font, cell.fill = bold, header_fill
    for i, (table, sheet) in enumerate(zip(tables, sheet_names, strict=True), start=1):
        r = HEADER_ROW + i
        set_cell(contents.cell(r, 1), i)
        set_cell(contents.cell(r, 2), sheet)
        _internal_link(contents.cell(r, 2), sheet)
        set_cell(contents.cell(r, 3), table.title)
        set_cell(contents.cell(r, 4), table.section or None)
        set_cell(contents.cell(r, 5), len(table.rows))
        set_cell(contents.cell(r, 6), f"tables/{table.file_stem}.csv")  # ties a cut sheet name to its table
        set_cell(contents.cell(r, 7), table.name)
    set_cell(contents.cell(1, 7), _ui(words, "ui:font_note", "") or None)  # beside the heading, off the list
    contents.freeze_panes = contents.cell(HEADER_ROW + 1, 1).coordinate
    for j, width in enumerate((6, 34, 70, 18, 8, 36, 30), start=1):
        contents.column_dimensions[get_column_letter(j)].width = width
    _print_setup(contents, landscape=True, title_rows=f"{HEADER_ROW}:{HEADER_ROW}")

    for table, sheet_name in zip(tables, sheet_names, strict=True):
        sheet = book.create_sheet(sheet_name)
        set_cell(sheet.cell(1, 1), table.title)
        sheet.cell(1, 1).font = Font(name=_FONT_NAME, bold=True, size=12)
        set_cell(sheet.cell(2, 1), _ui(words, "ui:back", "Contents"))
        _internal_link(sheet.cell(2, 1), contents_name)
        set_cell(sheet.cell(3, 1), table.note or None)
        for j, header in enumerate(table.headers, start=1):
            cell = sheet.cell(HEADER_ROW, j)
            set_cell(cell, header)
            cell.font, cell.fill = bold, header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for i, row in enumerate(table.rows, start=HEADER_ROW + 1):
            for j, (value, kind) in enumerate(zip(row, table.kinds, strict=True), start=1):
                cell = sheet.cell(i, j)
                set_cell(cell, value)
                if isinstance(value, int | float) and not isinstance(value, bool) and kind in _NUMBER_FORMATS:
                    cell.number_format = _NUMBER_FORMATS[kind]
                elif isinstance(value, str):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        if table.note:  # under the table too: that is where a printed table's reader looks
            below = sheet.cell(HEADER_ROW + max(len(table.rows), 1) + 2, 1)
            set_cell(below, f"{_ui(words, 'ui:note', 'Note')}: {table.note}")
        total_width = 0.0
        for j, (header, kind) in enumerate(zip(table.headers, table.kinds, strict=True), start=1):
            shown = [_display(row[j - 1], kind, words) for row in table.rows]
            width = max([_display_width(header)] + [_display_width(s) for s in shown]) + 2
            width = min(max(width, _MIN_WIDTH), _MAX_WIDTH)
            sheet.column_dimensions[get_column_letter(j)].width = width
            total_width += width
        sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 1).coordinate
        if table.headers:
            last = get_column_letter(len(table.headers))
            sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + max(len(table.rows), 1)}"
        _print_setup(
            sheet,
            landscape=total_width > _LANDSCAPE_WIDTH,
            title_rows=f"{HEADER_ROW}:{HEADER_ROW}" if table.headers else None,
        )
    book.save(path)
    return sheet_names


# -- figures ----------------------------------------------------------------------------------------

# Figures are drawn in worker processes when there are at least this many (a report with
# --per-respondent has one radar chart per company); fewer are drawn here, one at a time.
PARALLEL_FIGURES = 8
_PENDING: list[tuple[ReportFigure, str]] = []  # what the forked workers draw (inherited, not pickled)


def _draw_pending(job: tuple[int, str]) -> list[str]:
    index, folder = job
    item, stem = _PENDING[index]
    return [str(p) for p in save_figure(item.render(), Path(folder), stem)]


def render_figures(
    figures: Sequence[tuple[ReportFigure, str]], folder: Path, workers: int | None = None
) -> dict[str, list[Path]]:
    """Draw and save every ``(figure, stem)`` into ``folder``; return the files of each stem.

    Each figure is drawn, saved (:func:`save_figure`) and let go before the next. With at least
    :data:`PARALLEL_FIGURES` figures and more than one core, worker processes draw them side by
    side (forked, so they read the figures from this process's memory rather than receive
    copies); the files are the same either way (tested). ``workers`` defaults to the cores, at
    most 4.
    """
    import multiprocessing
    import os
    import sys

    global _PENDING
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    # Fork only where it is the platform's own way (Linux): macOS offers it but its system
    # libraries are not safe in a forked child, and Windows has none.
    forkable = sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
    if len(figures) < PARALLEL_FIGURES or workers < 2 or not forkable:
        return {stem: save_figure(item.render(), folder, stem) for item, stem in figures}
    folder.mkdir(parents=True, exist_ok=True)
    _PENDING = list(figures)
    try:
        with multiprocessing.get_context("fork").Pool(processes=workers, maxtasksperchild=64) as pool:
            jobs = [(i, str(folder)) for i in range(len(figures))]
            saved = pool.map(_draw_pending, jobs, chunksize=max(1, len(jobs) // (workers * 8)))
    finally:
        _PENDING = []
    return {stem: [Path(p) for p in paths] for (_, stem), paths in zip(figures, saved, strict=True)}


def save_figure(figure: Any, folder: Path, stem: str) -> list[Path]:
    """Save ``figure`` (a matplotlib Figure, or an object with ``.figure``) as PNG and SVG, and close it.

    The layout is done once: the figure is drawn, its tight bounding box taken, its layout engine
    stopped, and both files are saved from that layout (the second save does not lay it out again).
    Metadata that would change from run to run (dates, software versions) is left out.
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from analysis.figures.plotting import SVG_FONTS

    fig = figure if isinstance(figure, Figure) else figure.figure
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{stem}.png", folder / f"{stem}.svg"
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()  # the one layout (constrained layout runs here)
    renderer = canvas.get_renderer()
    bbox = fig.get_tightbbox(renderer).padded(matplotlib.rcParams["savefig.pad_inches"])
    fig.set_layout_engine("none")  # keep the positions just computed for both files
    fig.savefig(png, format="png", dpi=300, bbox_inches=bbox, metadata={"Software": None})  # print quality
    # Live text in the SVG (editable in Illustrator/Inkscape/PowerPoint); matplotlib names only the
    # font it laid the text out with, so the fallbacks a viewer without it should try are added.
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "survey-report", "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", bbox_inches=bbox, metadata={"Date": None})
    stack = ", ".join(f"'{f}'" if " " in f or f[0].isupper() else f for f in SVG_FONTS)
    svg.write_text(
        buffer.getvalue().replace(f"font-family: '{SVG_FONTS[0]}'", f"font-family: {stack}"), encoding="utf-8"
    )
    plt.close(fig)
    return [png, svg]


# -- page --------------------------------------------------------------------------------------------

# text-wrap:pretty keeps a cell's last character off a line of its own (Chromium, Safari; other
# browsers wrap as before); short cells (dates, yes/no) never wrap at all (_SHORT).
_CSS = """
body{font-family:"Hiragino Kaku Gothic ProN","Hiragino Sans","Yu Gothic","YuGothic","Meiryo",
"Noto Sans CJK JP","Noto Sans JP",sans-serif;margin:2rem auto;max-width:78rem;padding:0 1rem;color:#1a1a1a;
line-height:1.6;overflow-wrap:anywhere}
h1{font-size:1.6rem}h2{border-bottom:2px solid #36c;padding-bottom:.2rem;margin-top:2.5rem}
h3{font-size:1.1rem;margin-top:2rem}
.banner{background:#fff6d5;border:1px solid #e0c060;padding:.4rem .8rem}
.banner.publish{background:#e6f4ea;border-color:#6a6}
.ingest{background:#eef2fa;border:1px solid #8aa4d6;padding:.4rem .8rem}
.scroll{overflow-x:auto;max-width:100%;margin:.5rem 0}
table{border-collapse:collapse;font-size:.9rem}
caption{clip-path:inset(50%);height:1px;width:1px;overflow:hidden;position:absolute;white-space:nowrap}
th,td{border:1px solid #bbb;padding:.25rem .5rem;vertical-align:top;overflow-wrap:normal;word-break:normal;
text-wrap:pretty}
th{background:#dde4ee;min-width:3.5em}th[scope=row]{background:#f1f4f8;text-align:left;font-weight:normal}
th.group{text-align:center}td.num{text-align:right;white-space:nowrap}
.short{white-space:nowrap}td.long{min-width:16em}thead th[rowspan]:first-child{min-width:10em}
.note,.files{font-size:.85rem;color:#444;white-space:pre-line}figure{margin:1.5rem 0}
img{max-width:100%;height:auto}
nav ol{padding-left:1.4rem}
@media print{
body{max-width:none;margin:0;padding:0;font-size:10pt}nav,.files{display:none}
.scroll{overflow:visible}table{font-size:8pt}thead{display:table-header-group}
tr,figure,img{break-inside:avoid;page-break-inside:avoid}h2,h3{break-after:avoid;page-break-after:avoid}
section{break-before:page;page-break-before:always}a{color:inherit;text-decoration:none}
.banner,.ingest,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""
_SHORT = 16  # cells no wider than this (in half-width characters, e.g. 2018年11月30日) never wrap


def _anchor(prefix: str, name: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def header_groups(headers: Sequence[str], start: int) -> list[tuple[str, int]]:
    """Spanning headers over ``headers[start:]``: runs of two or more neighbouring headers that
    share leading words ("成熟度A(高) n", "成熟度A(高) %" -> ("成熟度A(高)", 2)); ("", 1) for a
    header in no run. Returns ``(group, span)`` pairs covering ``headers[start:]`` in order."""

    def common(a: list[str], b: list[str]) -> list[str]:
        out = []
        for x, y in zip(a[:-1], b[:-1], strict=False):  # a leaf word must remain on each side
            if x != y:
                break
            out.append(x)
        return out

    words = [h.split(" ") for h in headers[start:]]
    groups: list[tuple[str, int]] = []
    i = 0
    while i < len(words):
        prefix = common(words[i], words[i + 1]) if i + 1 < len(words) else []
        j = i + 1
        if prefix:
            while j < len(words) and words[j][: len(prefix)] == prefix and len(words[j]) > len(prefix):
                j += 1
        groups.append((" ".join(prefix), j - i) if prefix else ("", 1))
        i = j
    return groups


def _thead(table: PreparedTable) -> str:
    esc = html.escape
    groups = header_groups(table.headers, table.row_headers)
    if not any(group for group, _ in groups):
        return "<thead><tr>" + "".join(f'<th scope="col">{esc(h)}</th>' for h in table.headers) + "</tr></thead>"
    top = [f'<th scope="col" rowspan="2">{esc(h)}</th>' for h in table.headers[: table.row_headers]]
    leaves = []
    j = table.row_headers
    for group, span in groups:
        if group:
            top.append(f'<th scope="colgroup" colspan="{span}" class="group">{esc(group)}</th>')
            leaves += [f'<th scope="col">{esc(h[len(group) + 1 :])}</th>' for h in table.headers[j : j + span]]
        else:
            top.append(f'<th scope="col" rowspan="2">{esc(table.headers[j])}</th>')
        j += span
    return f"<thead><tr>{''.join(top)}</tr><tr>{''.join(leaves)}</tr></thead>"


def _html_table(table: PreparedTable, words: Words) -> str:
    esc = html.escape
    parts = [
        f'<div class="scroll" role="region" tabindex="0" aria-label="{esc(table.title)}"><table>',
        f"<caption>{esc(table.title)}</caption>",
        _thead(table),
        "<tbody>",
    ]
    for row in table.rows:
        cells = []
        for j, (value, kind) in enumerate(zip(row, table.kinds, strict=True)):
            text_ = _display(value, kind, words)
            shown = esc(text_).replace("\n", "<br>")
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            width = _display_width(text_)
            css = "num" if numeric else "short" if width <= _SHORT else "long" if width > 60 else ""
            attr = f' class="{css}"' if css else ""
            if j < table.row_headers:
                cells.append(f'<th scope="row"{attr}>{shown}</th>')
            else:
                cells.append(f"<td{attr}>{shown}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table></div>")
    if not table.rows:
        parts.append(f"<p>{esc(_ui(words, 'ui:no_rows', '(no rows)'))}</p>")
    return "\n".join(parts)


def _link(href: str, label: str, files: set[str]) -> str:
    """A link to ``href`` only when that file was written (the page never points at nothing)."""
    return f'<a href="{html.escape(href)}">{html.escape(label)}</a>' if href in files else ""


def html_page(
    items: Sequence[PreparedTable | tuple[str, str, str]],
    words: Words,
    heading: str,
    banner: str,
    publish: bool,
    files: set[str],
    ingest: str = "",
    images: dict[str, str] | None = None,
) -> str:
    """The self-contained index page: every table inline and every figure embedded.

    ``items`` are prepared tables and ``(stem, title, section)`` tuples for figures, in report
    order; ``files`` are the paths (relative to the report folder) that exist, linked as
    downloads only; ``images`` maps a figure's stem to its ``data:`` URI (the page shows no
    figure from another file, so it can be moved or mailed alone); ``ingest`` (what the ingest
    found) is shown under the banner.
    """
    images = images or {}
    esc = html.escape
    sections: dict[str, list] = {}
    for item in items:
        section = item.section if isinstance(item, PreparedTable) else item[2]
        sections.setdefault(section, []).append(item)

    downloads = [
        link
        for link in (
            _link("tables.xlsx", _ui(words, "ui:workbook", "All tables (Excel)"), files),
            _link("findings.csv", _ui(words, "ui:findings", "Findings (CSV)"), files),
        )
        if link
    ]
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(words.lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(heading)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<header><h1>{esc(heading)}</h1>",
        f'<p class="banner{" publish" if publish else ""}">{esc(banner)}</p>',
    ]
    if ingest:
        head.append(f'<p class="ingest">{esc(ingest)}</p>')
    if downloads:
        head.append(f"<p>{esc(_ui(words, 'ui:downloads', 'Downloads'))}: " + " · ".join(downloads) + "</p>")
    head.append("</header>")

    nav = [f"<nav><h2>{esc(_ui(words, 'ui:contents', 'Contents'))}</h2><ol>"]
    body = ["<main>"]
    for section, members in sections.items():
        nav.append(f"<li>{esc(section)}<ol>" if section else "<li><ol>")
        body.append(f"<section><h2>{esc(section)}</h2>" if section else "<section>")
        for item in members:
            if isinstance(item, PreparedTable):
                anchor = _anchor("t-", item.name)
                nav.append(f'<li><a href="#{anchor}">{esc(item.title)}</a></li>')
                body.append(f'<article id="{anchor}"><h3>{esc(item.title)}</h3>')
                body.append(_html_table(item, words))
                if item.note:
                    body.append(f'<p class="note">{esc(_ui(words, "ui:note", "Note"))}: {esc(item.note)}</p>')
                links = [
                    link
                    for link in (
                        _link(f"tables/{item.file_stem}.csv", "CSV", files),
                        _link(f"tables/{item.file_stem}.md", "Markdown", files),
                    )
                    if link
                ]
                if links:
                    body.append(f'<p class="files">{" · ".join(links)}</p>')
                body.append("</article>")
            else:
                stem, title, _ = item
                anchor = _anchor("f-", stem)
                nav.append(f'<li><a href="#{anchor}">{esc(title)}</a></li>')
                png = f"figures/{stem}.png"
                image = f'<img src="{esc(images[stem])}" alt="{esc(title)}">' if stem in images else ""
                links = [
                    link for link in (_link(png, "PNG", files), _link(f"figures/{stem}.svg", "SVG", files)) if link
                ]
                body.append(
                    f'<figure id="{anchor}">{image}<figcaption>{esc(title)} {" · ".join(links)}</figcaption></figure>'
                )
        nav.append("</ol></li>")
        body.append("</section>")
    nav.append("</ol></nav>")
    body.append("</main>")
    return "\n".join(head + nav + body + ["</body>", "</html>"]) + "\n"


# -- everything --------------------------------------------------------------------------------


def write_report(
    folder: Path,
    items: Sequence[ReportTable | ReportFigure],
    words: Words,
    heading: str,
    publish: bool = False,
    ingest: str = "",
    timings: dict[str, float] | None = None,
) -> list[Path]:
    """Write every output of the report into ``folder`` (an empty staging folder).

    ``ingest`` (one line on what the ingest found) opens the page and the workbook's contents.
    ``timings`` (when given) gets the seconds spent on the figures (``figures``), the table
    files (``tables``), the workbook (``workbook``) and the page (``page``).

    The table named ``findings`` is also written as ``findings.csv`` at the top. Returns the
    files written.
    """
    folder = Path(folder)
    banner = _ui(words, "ui:publish_banner" if publish else "ui:internal_banner", "")
    written: list[Path] = []
    page_items: list[PreparedTable | tuple[str, str, str]] = []
    tables: list[PreparedTable] = []
    stems: set[str] = set()
    images: dict[str, str] = {}

    def unique(stem: str) -> str:
        candidate, n = stem, 1
        while candidate.lower() in stems:
            n += 1
            candidate = f"{stem}~{n}"
        stems.add(candidate.lower())
        return candidate

    spent = {"tables": 0.0, "figures": 0.0}
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    # File names first (tables and figures share one namespace), then every figure at once.
    stem_of = [unique(file_stem(item.name)) for item in items]
    started = time.perf_counter()
    figures = [(item, stem) for item, stem in zip(items, stem_of, strict=True) if isinstance(item, ReportFigure)]
    saved_of = render_figures(figures, folder / "figures")
    spent["figures"] += time.perf_counter() - started
    for item, stem in zip(items, stem_of, strict=True):
        started = time.perf_counter()
        if isinstance(item, ReportTable):
            prepared = replace(prepare_table(item, words), file_stem=stem)
            data = csv_bytes(prepared)
            for path, content in (
                (folder / "tables" / f"{prepared.file_stem}.csv", data),
                (folder / "tables" / f"{prepared.file_stem}.md", markdown_text(prepared, words).encode("utf-8")),
            ):
                path.write_bytes(content)
                written.append(path)
            if item.name == "findings":
                # The top-level findings.csv is for machines: column ids, whatever the language.
                ids = [str(c) for c in item.frame.columns]
                top = csv_bytes(replace(prepared, headers=ids)) if len(ids) == len(prepared.headers) else data
                (folder / "findings.csv").write_bytes(top)
                written.append(folder / "findings.csv")
            tables.append(prepared)
            page_items.append(prepared)
            spent["tables"] += time.perf_counter() - started
        else:
            saved = saved_of[stem]
            written += saved
            svg = next(p for p in saved if p.suffix == ".svg")
            images[stem] = "data:image/svg+xml;base64," + base64.b64encode(svg.read_bytes()).decode("ascii")
            section = _ui(words, f"section:{item.section}", item.section) if item.section else ""
            page_items.append((stem, item.title(words.lang), section))
            spent["figures"] += time.perf_counter() - started
    started = time.perf_counter()
    write_workbook(tables, folder / "tables.xlsx", words, heading, banner, ingest)
    written.append(folder / "tables.xlsx")
    spent["workbook"] = time.perf_counter() - started
    started = time.perf_counter()
    files = {p.relative_to(folder).as_posix() for p in written}
    page = html_page(page_items, words, heading, banner, publish, files, ingest, images)
    (folder / "index.html").write_text(page, encoding="utf-8")
    written.append(folder / "index.html")
    spent["page"] = time.perf_counter() - started
    if timings is not None:
        timings.update(spent)
    return written
