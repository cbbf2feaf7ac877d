"""Turn a published report's text (as extracted from its PDF slides) into coded statements.

The extraction is rough: Kangxi radicals instead of ideographs, bullets lost, one bullet
wrapped over several lines (a blank line after each wrap), and section headings printed
*after* the slide body they belong to (sometimes before it). The parser therefore reads the
text slide by slide:

1. a slide starts at a chapter header line (``2.2.1 ユーザ系企業調査``); the parts of the
   report holding findings, and the marker line that opens them (``(8) ヒアリング調査``),
   are codebook data (``findings_parts.csv``);
2. a heading line ``①…⑳`` (``1 …`` once NFKC has been applied) names the section; when a
   slide ends with a heading, its body belongs to that heading (and any body between two
   headings to the second); when it only starts with one, the body follows it;
3. ``<…>`` lines name the category; other lines are statements, a line being joined to the
   next when it was wrapped (it does not end a sentence and is as wide as the slide or is
   followed by a blank line). Some slides set bullets apart by blank lines instead; there a
   full-width line that ends a sentence goes on when the next line follows at once without
   the indent a lost bullet leaves;
4. a statement that starts with a maturity group's label (``成熟度高の…``) is attributed to it.

Repeated slides give repeated statements; duplicates (same part, section, category and text)
are dropped. Categories are matched to codebook ids by their normalised label.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.codebook import Codebook, load_codebook

__all__ = [
    "FINDINGS_COLUMNS",
    "agreement",
    "as_statements",
    "compare_findings",
    "parse_report_text",
    "run_findings",
]

FINDINGS_COLUMNS = ["respondent_group", "section", "category", "category_id", "maturity", "text"]

# NFKC leaves these CJK Radicals Supplement characters alone; the report's extraction uses
# them for ordinary ideographs.
_RADICALS = str.maketrans({"\u2ea0": "民", "\u2ed1": "長"})
_CIRCLED = {chr(0x2460 + i): i + 1 for i in range(20)}  # ① .. ⑳
_CHAPTER = re.compile(r"^\d+(?:\.\d+)+\s+\S")
_PAGE = re.compile(r"^\d{1,3}$")
_SUBHEADING = re.compile(r"^\(\d+\)\s*\S")
_CATEGORY = re.compile(r"^<(.+)>$")
_PLAIN_HEADING = re.compile(r"^(\d{1,2}) (\S.*)$")
_SENTENCE_END = ("。", "!", "?", "」", "』")
# A line this wide (East Asian width, ASCII counts 1) fills the slide: the bullet goes on.
WRAP_WIDTH = 100


def _normalise(line: str) -> str:
    return unicodedata.normalize("NFKC", line.translate(_RADICALS)).strip()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def _key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).casefold()


@dataclass(frozen=True)
class _Line:
    kind: str  # header, heading, subheading, category, body, blank
    text: str
    width: int = 0
    number: int | None = None
    blank_after: bool = False
    indented: bool = False  # the raw line starts with a space: the trace of a lost bullet


@dataclass(frozen=True)
class _Part:
    group: str
    header: str
    marker: re.Pattern


def _parts(codebook: Codebook) -> list[_Part]:
    table = codebook.table("findings_parts")
    return [
        _Part(str(r["respondent_group"]), _key(r["header"]), re.compile(str(r["results_marker"])))
        for _, r in table.iterrows()
    ]


def _classify(raw_lines: list[str]) -> list[_Line]:
    circled = any(line.lstrip()[:1] in _CIRCLED for line in raw_lines)
    lines: list[_Line] = []
    for raw in raw_lines:
        text = _normalise(raw)
        stripped = raw.strip()
        if not text or _PAGE.match(text):  # a page number is no content
            lines.append(_Line("blank", ""))
        elif _CHAPTER.match(text):
            lines.append(_Line("header", text))
        elif circled and stripped[:1] in _CIRCLED and stripped[1:2].isspace():
            lines.append(_Line("heading", _normalise(stripped[1:]), number=_CIRCLED[stripped[0]]))
        elif (
            not circled
            and not raw[:1].isspace()
            and (m := _PLAIN_HEADING.match(text))
            and not text.endswith(_SENTENCE_END)
            and 1 <= int(m.group(1)) <= 20
        ):
            lines.append(_Line("heading", m.group(2), number=int(m.group(1))))
        elif _SUBHEADING.match(text):
            lines.append(_Line("subheading", text))
        elif m := _CATEGORY.match(text):
            lines.append(_Line("category", m.group(1).strip()))
        else:
            lines.append(
                _Line(
                    "body", text, width=_width(unicodedata.normalize("NFKC", raw.strip())), indented=raw[:1].isspace()
                )
            )
    # Mark lines followed by a blank line (the trace a wrap leaves).
    marked: list[_Line] = []
    for i, line in enumerate(lines):
        after = i + 1 < len(lines) and lines[i + 1].kind == "blank"
        marked.append(_Line(line.kind, line.text, line.width, line.number, after, line.indented))
    return marked


def _slides(lines: list[_Line], parts: list[_Part]) -> list[tuple[_Part | None, list[_Line]]]:
    """Split at chapter headers; each slide carries the report part its header names."""
    by_header = {part.header: part for part in parts}
    slides: list[tuple[_Part | None, list[_Line]]] = [(None, [])]
    for line in lines:
        if line.kind == "header":
            slides.append((by_header.get(_key(line.text)), []))
        else:
            slides[-1][1].append(line)
    return slides


def _findings_slides(slides: list[tuple[_Part | None, list[_Line]]]) -> list[tuple[_Part, list[_Line]]]:
    """The slides of each part from the one holding its results marker to the part's end."""
    out: list[tuple[_Part, list[_Line]]] = []
    active: _Part | None = None
    for part, body in slides:
        if part is None or part is not active:
            active = None
        if part is None:
            continue
        if active is None:
            markers = [i for i, line in enumerate(body) if line.kind == "subheading" and part.marker.search(line.text)]
            if not markers:
                continue
            active = part
            first = markers[0]
            following = next((line for line in body[first + 1 :] if line.kind != "blank"), None)
            if following is not None and following.kind in ("body", "category"):
                body = body[first:]  # the marker opens the results: what precedes is preamble
        out.append((part, body))
    return out


def _assign_sections(body: list[_Line], carry: int | None) -> list[tuple[int | None, _Line]]:
    """Give each category and body line of one slide its section number."""
    content = [line for line in body if line.kind in ("heading", "category", "body")]
    if not content:
        return []
    headings = [i for i, line in enumerate(content) if line.kind == "heading"]
    out: list[tuple[int | None, _Line]] = []
    if headings and headings[-1] == len(content) - 1:
        # Headings printed after their body: each body runs up to the next heading.
        for i, line in enumerate(content):
            if line.kind != "heading":
                following = next(h for h in headings if h > i)
                out.append((content[following].number, line))
        return out
    section = carry
    for line in content:
        if line.kind == "heading":
            section = line.number
        else:
            out.append((section, line))
    return out


def _paragraph_style(body: list[_Line]) -> bool:
    """Whether the slide separates its bullets by blank lines (rather than leaving a blank line
    after each wrap): at least half the body lines followed by a blank and more body end a
    sentence."""
    content = [line for line in body if line.kind != "blank"]
    gaps = [
        line
        for line, following in zip(content, content[1:], strict=False)
        if line.kind == "body" and following.kind == "body" and line.blank_after
    ]
    return bool(gaps) and sum(line.text.endswith(_SENTENCE_END) for line in gaps) * 2 >= len(gaps)


def _continues(line: _Line, following: _Line | None, paragraphs: bool) -> bool:
    """Whether the bullet of ``line`` goes on in ``following`` (see the module notes)."""
    if following is None:
        return False
    wide = line.width >= WRAP_WIDTH
    if not line.text.endswith(_SENTENCE_END):
        return wide or line.blank_after
    # On a slide whose bullets are set apart by blank lines, a full line that ends a sentence
    # and is followed at once by an unindented line goes on with the bullet's next sentence.
    return paragraphs and wide and not line.blank_after and not following.indented


def _statements(lines: list[_Line], paragraphs: bool = False) -> list[str]:
    """Join wrapped lines into statements."""
    statements: list[str] = []
    current = ""
    for i, line in enumerate(lines):
        current += line.text
        if not _continues(line, lines[i + 1] if i + 1 < len(lines) else None, paragraphs):
            statements.append(current)
            current = ""
    if current:
        statements.append(current)
    return statements


def _runs(assigned: list[tuple[int | None, _Line]]) -> list[tuple[int | None, str | None, list[_Line]]]:
    """Consecutive body lines of one section and category."""
    runs: list[tuple[int | None, str | None, list[_Line]]] = []
    category: str | None = None
    for section, line in assigned:
        if runs and runs[-1][0] != section:
            category = None  # a new section starts without a category until one is printed
        if line.kind == "category":
            category = line.text
            runs.append((section, category, []))
        elif runs and runs[-1][0] == section and runs[-1][1] == category:
            runs[-1][2].append(line)
        else:
            runs.append((section, category, [line]))
    return [run for run in runs if run[2]]


def parse_report_text(text: str, codebook: Codebook | None = None) -> pd.DataFrame:
    """Coded statements of the report text ``text`` (raw extraction or NFKC), one row each.

    Columns: ``respondent_group`` (user, investor, expert…), ``section`` (Int64),
    ``category`` (the printed label; for a section printed without categories, the
    codebook's only category of that section), ``category_id`` (codebook id, NA when the
    label is not in the codebook), ``maturity`` (高/中/低 or NA) and ``text`` (NFKC).
    """
    codebook = codebook or load_codebook()
    lines = _classify(text.splitlines())
    slides = _findings_slides(_slides(lines, _parts(codebook)))
    records: list[dict[str, object]] = []
    carry: dict[str, int | None] = {}
    for part, body in slides:
        assigned = _assign_sections(body, carry.get(part.group))
        if assigned:
            carry[part.group] = assigned[-1][0]
        # One extracted slide may hold two slides (a header line lost): judge the style of
        # each section's lines on their own.
        styles = {
            section: _paragraph_style([line for s, line in assigned if s == section])
            for section in {s for s, _ in assigned}
        }
        for section, category, run in _runs(assigned):
            for statement in _statements(run, styles.get(section, False)):
                records.append(
                    {"respondent_group": part.group, "section": section, "category": category, "text": statement}
                )
    frame = pd.DataFrame(records, columns=["respondent_group", "section", "category", "text"])
    frame = frame[frame["section"].notna()]
    frame = frame.drop_duplicates(["respondent_group", "section", "category", "text"])
    return _code(frame, codebook).reset_index(drop=True)


def _code(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    categories = codebook.table("statement_categories")
    by_label = {
        (g, int(s), _key(label)): (cid, label)
        for g, s, cid, label in zip(
            categories["respondent_group"],
            categories["section"],
            categories["category_id"],
            categories["label_ja"],
            strict=True,
        )
    }
    # The categories alone in their group and section.
    alone = categories[categories.groupby(["respondent_group", "section"])["category_id"].transform("size") == 1]
    single = {
        (g, int(s)): (cid, label)
        for g, s, cid, label in zip(
            alone["respondent_group"], alone["section"], alone["category_id"], alone["label_ja"], strict=True
        )
    }
    groups = codebook.table("maturity_groups")
    prefixes = [(str(label), str(code)) for code, label in zip(groups["code"], groups["label_ja"], strict=True)]

    ids, labels, maturity = [], [], []
    for group, section, category, text in zip(
        frame["respondent_group"], frame["section"], frame["category"], frame["text"], strict=True
    ):
        if isinstance(category, str):
            hit = by_label.get((group, int(section), _key(category)))
            ids.append(hit[0] if hit else None)
            labels.append(category)
        else:
            hit = single.get((group, int(section)))
            ids.append(hit[0] if hit else None)
            labels.append(hit[1] if hit else None)
        maturity.append(next((code for label, code in prefixes if text.startswith(f"{label}の")), None))
    return pd.DataFrame(
        {
            "respondent_group": pd.array(frame["respondent_group"].tolist(), dtype="str"),
            "section": pd.array(frame["section"].astype("int64").tolist(), dtype="Int64"),
            "category": pd.array(labels, dtype="str"),
            "category_id": pd.array(ids, dtype="str"),
            "maturity": pd.array(maturity, dtype="str"),
            "text": pd.array(frame["text"].tolist(), dtype="str"),
        }
    )


def agreement(parsed: pd.DataFrame, reference: pd.DataFrame) -> dict[str, float | int]:
    """How well ``parsed`` reproduces ``reference`` (e.g. ``published_findings.csv``).

    A reference statement is matched when a parsed statement has the same group, section,
    category id, maturity and text (compared without spaces, after NFKC). Returns the counts
    and ``recall`` (matched / reference) and ``precision`` (matched / parsed).
    """

    def keys(frame: pd.DataFrame, text_column: str) -> list[tuple]:
        return [
            (str(g), int(s), str(c) if isinstance(c, str) else "", str(m) if isinstance(m, str) else "", _key(t))
            for g, s, c, m, t in zip(
                frame["respondent_group"],
                frame["section"],
                frame["category_id"],
                frame["maturity"],
                frame[text_column],
                strict=True,
            )
        ]

    ours = keys(parsed, "text")
    theirs = keys(reference, "text_ja" if "text_ja" in reference else "text")
    remaining = list(ours)
    matched = 0
    for key in theirs:
        if key in remaining:
            remaining.remove(key)
            matched += 1
    return {
        "reference": len(theirs),
        "parsed": len(ours),
        "matched": matched,
        "recall": matched / len(theirs) if theirs else float("nan"),
        "precision": matched / len(ours) if ours else float("nan"),
    }


def compare_findings(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Categories of two years' findings side by side: ``new``, ``gone`` or ``kept``.

    Categories are compared by group, section and normalised label (ids change between
    editions); a frame without a ``category`` column (a tidy ``statements`` table) is
    compared by ``category_id``. Returns ``respondent_group``, ``section``, ``category``,
    ``status``, ``n_old`` and ``n_new`` (statements).
    """

    def counts(frame: pd.DataFrame) -> dict[tuple, tuple[str, int]]:
        out: dict[tuple, tuple[str, int]] = {}
        column = "category" if "category" in frame else "category_id"
        for group, section, category in zip(frame["respondent_group"], frame["section"], frame[column], strict=True):
            label = category if isinstance(category, str) else ""
            key = (str(group), int(section), _key(label))
            shown, n = out.get(key, (label, 0))
            out[key] = (shown, n + 1)
        return out

    before, after = counts(old), counts(new)
    rows = []
    for key in sorted(set(before) | set(after), key=lambda k: (k[0], k[1], k[2])):
        label = (after.get(key) or before[key])[0]
        n_old, n_new = before.get(key, ("", 0))[1], after.get(key, ("", 0))[1]
        status = "kept" if n_old and n_new else ("new" if n_new else "gone")
        rows.append(
            {
                "respondent_group": key[0],
                "section": key[1],
                "category": label,
                "status": status,
                "n_old": n_old,
                "n_new": n_new,
            }
        )
    frame = pd.DataFrame(rows, columns=["respondent_group", "section", "category", "status", "n_old", "n_new"])
    return frame.astype(
        {
            "respondent_group": "str",
            "section": "Int64",
            "category": "str",
            "status": "str",
            "n_old": "Int64",
            "n_new": "Int64",
        }
    )


def as_statements(findings: pd.DataFrame, fiscal_year: int | None = None, source: str = "") -> pd.DataFrame:
    """Published findings as a tidy ``statements`` table (no respondent ids: the report has none)."""
    from analysis.study.schema import conform

    text_column = "text" if "text" in findings else "text_ja"
    frame = pd.DataFrame(
        {
            "statement_id": [f"F{i + 1:04d}" for i in range(len(findings))],
            "respondent_id": None,
            "fiscal_year": fiscal_year,
            "respondent_group": findings["respondent_group"].to_numpy(),
            "section": findings["section"].to_numpy(),
            "category_id": findings["category_id"].to_numpy(),
            "maturity": findings["maturity"].to_numpy(),
            "text": findings[text_column].to_numpy(),
            "source": source,
        }
    )
    return conform("statements", frame)


def run_findings(report_text: Path, out: Path) -> int:
    """``survey findings REPORT_TEXT --out FILE.csv``: parse and write the coded statements."""
    import sys

    from analysis.output.atomic import atomic_write_bytes

    try:
        text = Path(report_text).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"survey findings: cannot read {report_text}: {error}", file=sys.stderr)
        return 2
    frame = parse_report_text(text)
    if frame.empty:
        print(f"survey findings: no findings found in {report_text}", file=sys.stderr)
        return 1
    atomic_write_bytes(Path(out), frame.to_csv(index=False).encode("utf-8-sig"))  # BOM: opened in Excel
    summary = frame.groupby("respondent_group", sort=False).size()
    print(
        f"wrote {len(frame)} statements to {out} (" + ", ".join(f"{group}: {n}" for group, n in summary.items()) + ")"
    )
    return 0
