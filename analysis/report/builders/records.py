"""The report's own tables from the records (Tables 1.1, 2.2, 2.3/3.1, 3.2–3.4, 4.1) and the appendix
(the tidy tables with their row counts, and the problems found at ingest).

Titles, notes and the Table 1.1 rows are codebook data (``report_tables.csv``,
``survey_items.csv``); every count in them is computed from the processed tables.
"""

from __future__ import annotations

import math
import re
from datetime import date

import pandas as pd

from analysis.codebook.words import Words, table_texts
from analysis.report.registry import ReportContext, ReportTable
from analysis.study.load import Study
from analysis.study.schema import TABLE_DOCS, TABLES

__all__ = [
    "appendix_tables",
    "describe",
    "fill_counts",
    "literature_tables",
    "meetings_tables",
    "placeholder_count",
    "printed_date",
    "survey_items_table",
    "vendors_table",
]

_PLACEHOLDER = re.compile(r"\{(?P<kind>\w+)(?::(?P<arg>[^{}]+))?\}")


def _table_sort_key(table_id: str) -> tuple:
    parts = str(table_id).split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _table_name(table_id: str) -> str:
    return "table_" + re.sub(r"\W", "_", str(table_id))


# -- Table 1.1 ---------------------------------------------------------------------------------


def placeholder_count(study: Study, kind: str, arg: str | None) -> int:
    """The number a ``{kind:arg}`` placeholder of a Table 1.1 description stands for.

    ``respondents:<group>`` distinct respondents of the group; ``interviewees:<group>`` people
    interviewed (an organisation with no ``n_interviewees`` counts as one); ``companies:<region>``
    distinct companies of the disclosure review; ``meetings:<table>`` and ``literature[:<table>]``
    rows of those records.
    """
    if kind in ("respondents", "interviewees"):
        frame = study.respondents
        frame = frame[frame["group"] == arg].drop_duplicates("respondent_id", keep="last")
        if kind == "respondents":
            return int(frame["respondent_id"].nunique())
        return int(frame["n_interviewees"].fillna(1).sum())
    if kind == "companies":
        frame = study.disclosures
        return int(frame.loc[(frame["region"] == arg).fillna(False), "company_id"].nunique())
    if kind in ("meetings", "literature"):
        frame = getattr(study, kind)
        return int(len(frame) if arg is None else (frame["table"] == arg).fillna(False).sum())
    raise ValueError(
        f"unknown count {{{kind}:{arg}}} in a survey_items description; "
        "use respondents, interviewees, companies, meetings or literature"
    )


def fill_counts(template: str, study: Study) -> str:
    """Replace every ``{kind:arg}`` placeholder of ``template`` with its count in ``study``."""
    return _PLACEHOLDER.sub(lambda m: str(placeholder_count(study, m["kind"], m["arg"])), template)


def describe(template: str, study, words: Words) -> str:
    """A Table 1.1 description from the year's records: ``template`` with its counts filled in,
    or, when the year has no record behind any of its counts, the sentence that says so
    (``records_none:<kind>`` of the codebook's words, e.g. 「本年度は会議の記録がありません。」)
    instead of the template's wording with zeros (「全0回の開催」)."""
    found = list(_PLACEHOLDER.finditer(template))
    if found and all(placeholder_count(study, m["kind"], m["arg"]) == 0 for m in found):
        none = words.label(f"records_none:{found[0]['kind']}", "report", "")
        if none:
            return none
    return fill_counts(template, study)


def survey_items_table(study: Study, lang: str = "ja") -> pd.DataFrame:
    """Table 1.1: survey items with their descriptions and respondent counts from the data."""
    cb = study.codebook
    items = cb.table("survey_items")
    words = Words(cb, lang)
    joiner = "・" if lang == "ja" else ", "
    rows = []
    for item in items.itertuples(index=False):
        groups = [g for g in str(item.respondent_groups).split(";") if g]
        counts = [placeholder_count(study, "respondents", g) for g in groups]
        rows.append(
            {
                "major": f"{item.major_id}. {getattr(item, f'major_{lang}')}",
                # A minor item that is its major item (4. 報告書の作成) is printed without a number.
                "minor": (
                    getattr(item, f"minor_{lang}")
                    if str(item.minor_id) == str(item.major_id)
                    else f"{item.minor_id} {getattr(item, f'minor_{lang}')}"
                ),
                "description": describe(getattr(item, f"description_{lang}"), study, words),
                "target_groups": joiner.join(cb.label("respondent_groups", g, lang) for g in groups),
                "n_respondents": sum(counts) if groups else None,
            }
        )
    frame = pd.DataFrame(rows, columns=["major", "minor", "description", "target_groups", "n_respondents"])
    frame["n_respondents"] = frame["n_respondents"].astype("Int64")
    return frame


# -- Table 2.2 ---------------------------------------------------------------------------------


def vendors_table(study: Study, lang: str = "ja") -> pd.DataFrame:
    """Table 2.2: the vendors interviewed and their hearing items.

    A vendor's hearing items are the titles of the vendor sections its statements are coded
    under (``statement_sections``), in section order.
    """
    cb = study.codebook
    sections = cb.table("statement_sections")
    sections = sections[sections["respondent_group"] == "vendor"]
    titles = dict(zip(sections["section"].astype(int), sections[f"title_{lang}"], strict=True))
    vendors = study.respondents[study.respondents["group"] == "vendor"]
    vendors = vendors.sort_values(["respondent_id", "fiscal_year"], kind="stable")
    vendors = vendors.drop_duplicates("respondent_id", keep="last")
    statements = study.statements[study.statements["respondent_group"] == "vendor"]
    rows = []
    for number, vendor in enumerate(vendors.itertuples(index=False), start=1):
        said = statements.loc[statements["respondent_id"] == vendor.respondent_id, "section"].dropna()
        items = [titles.get(int(s), str(s)) for s in sorted(set(said.astype(int)))]
        rows.append(
            {
                "no": number,
                "respondent_id": vendor.respondent_id,
                "business": vendor.description if isinstance(vendor.description, str) else None,
                "hearing_items": " / ".join(items) or None,
            }
        )
    frame = pd.DataFrame(rows, columns=["no", "respondent_id", "business", "hearing_items"])
    frame["no"] = frame["no"].astype("Int64")
    return frame


# -- Tables 2.3 / 3.1 / 4.1 and 3.2–3.4 -----------------------------------------------------------
# These tables are printed as the report prints them: the meeting as 「第1回」, the date as printed
# (「2021年9月10日」, with a note such as 「(持ち回り開催)」) next to the ISO date, cells printed as
# 「-」 kept as 「-」 and cells printed empty kept empty.

_ISO_DATE = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{1,2}))?(?:-(?P<day>\d{1,2}))?$")


def printed_date(iso: object, note: object = None) -> str:
    """A date as the report prints it: ``2021-09-10`` -> 2021年9月10日, ``2018-12`` -> 2018年12月,
    ``2016`` -> 2016年, followed by ``note`` (e.g. ``(改定)``); a value that is not an ISO date is
    kept as it is."""
    value = _cell(iso).strip()
    match = _ISO_DATE.match(value)
    if match:
        value = f"{match['year']}年"
        value += f"{int(match['month'])}月" if match["month"] else ""
        value += f"{int(match['day'])}日" if match["day"] else ""
    extra = "" if _empty(note) else str(note).strip()
    return value + extra


def _empty(value: object) -> bool:
    """Whether a cell is empty: None, NaN, NA or NaT."""
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _cell(value: object) -> str:
    if _empty(value):
        return ""
    # load_study gives meeting dates as dates: printed as their ISO day.
    return value.strftime("%Y-%m-%d") if isinstance(value, date) else str(value)


def _notes(part: pd.DataFrame) -> pd.Series:
    # Records written before the note column existed have none.
    return part["note"] if "note" in part else pd.Series([None] * len(part), index=part.index)


def _schedule(part: pd.DataFrame) -> tuple:
    return tuple(sorted(zip(part["body"].map(_cell), part["round"].map(_cell), part["date"].map(_cell), strict=True)))


def meetings_tables(study: Study, lang: str = "ja") -> list[ReportTable]:
    """One table per report table id in ``meetings`` (2.3, 3.1, 4.1): meeting, date, topics.

    Table ids that list the same meetings (same body, rounds and dates: 2.3 and 3.1 in FY2021)
    are one table in the report, printed under each id with the topics of every one of them;
    the header of each topics column is ``topics:<table>:<track>`` in the codebook's words.
    """
    meetings = study.meetings
    words = Words(study.codebook, lang)
    ids = sorted(meetings["table"].dropna().unique(), key=_table_sort_key)
    parts = {t: meetings[meetings["table"] == t].sort_values(["round", "date"], kind="stable") for t in ids}
    schedules = {t: _schedule(parts[t]) for t in ids}
    name_of = words.label("meeting_name", "report", "{round}")
    tables = []
    for table_id in ids:
        part = parts[table_id]
        linked = [t for t in ids if schedules[t] == schedules[table_id]]
        key = f"meetings:{table_id}"
        specific = Words(study.codebook).has_table(key)
        frame = pd.DataFrame(
            {
                "meeting": [name_of.replace("{round}", _cell(r)) for r in part["round"]],
                "date_printed": [printed_date(d, n) for d, n in zip(part["date"], _notes(part), strict=True)],
                "date_iso": part["date"].map(_cell).to_numpy(),
            }
        )
        if not specific or part["body"].nunique() > 1:
            frame.insert(0, "body", part["body"].map(_cell).to_numpy())
        for track in linked:
            topics = parts[track]["topics"].map(_cell).to_numpy()
            header = (
                "topics"
                if len(linked) == 1
                else words.label(f"topics:{table_id}:{track}", "report", f"{words.label('topics', 'report')} ({track})")
            )
            frame[header] = topics
        year = {"year": study.fiscal_year} if study.fiscal_year is not None else {}
        text_of = table_texts(study.codebook, key if specific else "meetings", table=table_id, **year)
        tables.append(ReportTable(name=_table_name(table_id), frame=frame, section="records", **text_of))
    return tables


def literature_tables(study: Study) -> list[ReportTable]:
    """One table per report table id in ``literature`` (3.2, 3.3, 3.4): title, issuer, date as
    printed (with its note, e.g. 「(改定)」) and the ISO date, in the report's order."""
    literature = study.literature
    tables = []
    for table_id in sorted(literature["table"].dropna().unique(), key=_table_sort_key):
        part = literature[literature["table"] == table_id]
        key = f"literature:{table_id}"
        specific = Words(study.codebook).has_table(key)
        text_of = table_texts(study.codebook, key if specific else "literature", table=table_id)
        frame = pd.DataFrame(
            {
                "title": part["title"].map(_cell).to_numpy(),
                "issuer": part["issuer"].map(_cell).to_numpy(),
                "published_printed": [printed_date(d, n) for d, n in zip(part["published"], _notes(part), strict=True)],
                "published_iso": part["published"].map(_cell).to_numpy(),
            }
        )
        tables.append(ReportTable(name=_table_name(table_id), frame=frame, section="records", **text_of))
    return tables


# -- appendix ----------------------------------------------------------------------------------


def appendix_tables(study: Study, lang: str = "ja", publish: bool = False) -> list[ReportTable]:
    """The index of tidy tables with row counts, and the ingest problems.

    For publication only the number of problems by severity is shown: problems name input files,
    and file names can name companies.
    """
    words = Words(study.codebook, lang)
    names = [n for n in TABLES if n in study.tables] + sorted(n for n in study.tables if n not in TABLES)
    index = pd.DataFrame(
        {
            "table": names,
            "about": [words.label(f"tidy:{n}", "report", TABLE_DOCS.get(n, "")) for n in names],
            "rows": pd.array([len(study.tables[n]) for n in names], dtype="Int64"),
        }
    )
    out = [
        ReportTable(
            name="appendix_tables", frame=index, section="appendix", **table_texts(study.codebook, "appendix_tables")
        )
    ]

    issues = study.issues
    severity = issues["severity"] if "severity" in issues else pd.Series([], dtype="str")
    counts = pd.DataFrame(
        {
            "severity": [words.label(f"value:severity:{s}", "report", s) for s in ("error", "warning")],
            "n": pd.array([int((severity == s).sum()) for s in ("error", "warning")], dtype="Int64"),
        }
    )
    counts_text = table_texts(study.codebook, "appendix_problem_counts")
    if not publish:
        counts_text.update(note_ja="", note_en="")
    out.append(ReportTable(name="appendix_problem_counts", frame=counts, section="appendix", **counts_text))
    if not publish:
        columns = ["severity", "file", "sheet", "cell", "message"]
        # issues.csv keeps each message in Japanese and English (an older one has one "message").
        if f"message_{lang}" in issues:
            issues = issues.drop(columns="message", errors="ignore").rename(columns={f"message_{lang}": "message"})
        problems = pd.DataFrame({c: issues[c] if c in issues else pd.Series(dtype="str") for c in columns})
        problems = problems.reset_index(drop=True).astype("str")
        problems["severity"] = [words.label(f"value:severity:{s}", "report", s) for s in problems["severity"]]
        out.append(
            ReportTable(
                name="appendix_problems",
                frame=problems,
                section="appendix",
                **table_texts(study.codebook, "appendix_problems"),
            )
        )
    return out


# -- builders (listed in analysis.report.build.builders) --------------------------------------------------------


def build_survey_items(study: Study, ctx: ReportContext) -> list[ReportTable]:
    # Respondent counts here are sample sizes the report publishes (10 companies, 3 vendors…),
    # not cells of a cross-tabulation: they are not declared as counts for suppression.
    return [
        ReportTable(
            name="table_1_1",
            frame=survey_items_table(study, ctx.lang),
            section="records",
            **table_texts(study.codebook, "survey_items"),
        )
    ]


def build_vendors(study: Study, ctx: ReportContext) -> list[ReportTable]:
    return [
        ReportTable(
            name="table_2_2",
            frame=vendors_table(study, ctx.lang),
            section="records",
            respondent_columns=("respondent_id",),
            **table_texts(study.codebook, "vendors"),
        )
    ]


def build_meetings_literature(study: Study, ctx: ReportContext) -> list[ReportTable]:
    # Meetings and documents interleave in the report's numbering (2.3, 3.1, 3.2–3.4, 4.1).
    ids = [*study.meetings["table"].dropna().unique(), *study.literature["table"].dropna().unique()]
    order = {_table_name(t): _table_sort_key(t) for t in ids}
    return sorted(meetings_tables(study, ctx.lang) + literature_tables(study), key=lambda t: order[t.name])


def build_appendix(study: Study, ctx: ReportContext) -> list[ReportTable]:
    return appendix_tables(study, ctx.lang, ctx.publish)
