"""Seeded generator of the bundled SYNTHETIC sample study (no real respondent's answers).

It is shaped like the FY2021 study: 10 user companies a year over fiscal years 2020 and
2021 (most in both), 3 vendors, 8 investor organisations with 10 interviewees, experts, 8
overseas and 7 domestic companies in a disclosure review over 2019-2021, coded statements
for every section, and the report's real meeting and literature records. A few cells carry
the imperfections real returns have (full-width digits, 未回答, a Kangxi radical, 令和3年度),
so that the normalisation can be seen at work. Questions asked of some companies only (the
codebook's filters) are left blank by the others, except one planted answer against its
filter in the last year, which the ingest reports as a warning.

The workbooks are the ``survey template`` workbooks filled in, so the sample goes through
exactly the ingest that real returns go through. ``write_sample`` is the file-system edge.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.codebook import Codebook, load_codebook
from analysis.collect.template import build_workbook, workbook_bytes
from analysis.maturity import classify_scores, directive_scores, rules_from_codebook
from analysis.output.atomic import atomic_write_bytes, atomic_write_text

__all__ = ["SampleFile", "generate_sample", "write_sample", "DEFAULT_SEED"]

DEFAULT_SEED = 2021
SYNTHETIC_NOTE = "SYNTHETIC SAMPLE DATA (架空のサンプルデータ): not real survey responses"

# Directive mean profiles, in quarter steps so that every directive mean is exact. The
# profiles are shuffled over directives per company; the levels they give are computed by
# the maturity classification, not asserted here.
_PROFILES: dict[str, list[float | None]] = {
    "A": [4.5, 4.25, 4.0, 4.0, 3.75, 3.5, 3.5, 3.25, 3.0, 3.25],
    "B": [3.5, 3.25, 3.0, 3.75, 2.5, 2.75, 3.5, 3.25, 2.25, 3.0],
    "C": [2.0, 2.25, 2.5, 1.75, 2.75, 3.0, 2.5, 2.0, 3.25, 1.5],
    # Six directives below 3 and four at 4 or more: both B and C hold; precedence decides.
    "BC": [2.0, 2.25, 2.5, 2.75, 1.75, 2.5, 4.5, 4.25, 4.0, 4.75],
    # One directive left unanswered (該当なし) but the level cannot change with it.
    "B_missing": [3.5, 3.25, 3.0, 3.75, 2.5, 2.75, 3.5, 3.25, None, 3.0],
    # One directive unanswered (わからない) and the level depends on it.
    "open": [2.5, 2.25, 2.75, 2.0, 1.75, 3.25, 3.5, 3.0, 3.75, None],
}


@dataclass(frozen=True)
class _Company:
    respondent_id: str
    profile: str
    industry: str
    size_band: str


# respondent id -> profile per fiscal year (8 companies in both years).
_USERS: dict[int, list[tuple[str, str]]] = {
    2020: [
        ("U01", "B"),
        ("U02", "A"),
        ("U03", "B"),
        ("U04", "C"),
        ("U05", "B"),
        ("U06", "C"),
        ("U07", "C"),
        ("U08", "C"),
        ("U09", "B"),
        ("U10", "A"),
    ],
    2021: [
        ("U01", "A"),
        ("U02", "A"),
        ("U03", "B"),
        ("U04", "B"),
        ("U05", "B"),
        ("U06", "C"),
        ("U07", "C"),
        ("U08", "BC"),
        ("U11", "B_missing"),
        ("U12", "open"),
    ],
}
_USER_ATTRS = {
    "U01": ("manufacturing", "XL"),
    "U02": ("finance_insurance", "XL"),
    "U03": ("information_communications", "L"),
    "U04": ("manufacturing", "L"),
    "U05": ("wholesale_retail", "L"),
    "U06": ("construction", "M"),
    "U07": ("transport_postal", "M"),
    "U08": ("manufacturing", "XL"),
    "U09": ("finance_insurance", "L"),
    "U10": ("information_communications", "XL"),
    "U11": ("energy_utilities", "XL"),
    "U12": ("services", "M"),
}
# How strongly a company of each level leans to the first (more advanced) option of a single-choice
# pre-survey question: option i has weight lean**i. Other levels, and unclassified companies, do not lean.
_PRESURVEY_LEAN = {"A": 0.55, "B": 0.8}
# The statements draw from a stream of their own (spawned from the seed), so that editing the
# statement bank moves none of the other workbooks' draws.
_STATEMENT_STREAM = 1


@dataclass(frozen=True)
class SampleFile:
    """One generated workbook: where it goes (relative path) and what fills it."""

    path: str
    instrument: str
    data: dict


def _read_package_csv(*parts: str) -> list[dict[str, str]]:
    text = resources.files("analysis.collect.sample").joinpath(*parts).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _scores_for(mean: float, rng: np.random.Generator) -> list[int]:
    """Four answers 1-5 whose mean is exactly ``mean`` (a multiple of 0.25)."""
    base = int(np.floor(mean))
    ups = round((mean - base) * 4)
    scores = [base + 1] * ups + [base] * (4 - ups)
    # Spread the answers where the scale allows it, keeping the sum (and the mean).
    if rng.random() < 0.5 and min(scores) > 1 and max(scores) < 5:
        scores[0] -= 1
        scores[-1] += 1
    return [int(s) for s in rng.permutation(scores)]


def _self_assessment(codebook: Codebook, year: int, rng: np.random.Generator) -> list[SampleFile]:
    files = []
    industries = codebook.table("industries").set_index("code")
    size_labels = codebook.table("size_bands").set_index("code")
    questions = codebook.questions
    for index, (rid, profile) in enumerate(_USERS[year]):
        industry, size = _USER_ATTRS[rid]
        means = list(rng.permutation(np.array(_PROFILES[profile], dtype=object)))
        answers: dict[str, object] = {}
        missing_label = "該当なし" if profile == "B_missing" else "わからない"
        for directive, mean in enumerate(means, start=1):
            qids = list(questions.loc[questions["directive"] == directive, "question_id"])
            if mean is None:
                answers.update(dict.fromkeys(qids, missing_label))
                continue
            answers.update(zip(qids, _scores_for(float(mean), rng), strict=True))
        profile_values: dict[str, object] = {
            "respondent_id": rid,
            "fiscal_year": year,
            "industry": industries.loc[industry, "label_ja"],
            "size_band": size_labels.loc[size, "label_ja"],
            "company_name": f"サンプル{rid}株式会社 (架空)",
        }
        # Imperfections that real returns have; the ingest normalises each of them.
        if year == 2021 and rid == "U03":
            answers = {
                q: (str(v).translate(str.maketrans("12345", "１２３４５")) if isinstance(v, int) else v)
                for q, v in answers.items()
            }
            profile_values["respondent_id"] = "Ｕ０３"
        if year == 2021 and rid == "U04":
            profile_values["fiscal_year"] = "令和3年度"
        if year == 2021 and rid == "U02":
            profile_values["industry"] = "\u2fa6融・保険業"  # Kangxi radical GOLD for 金
            profile_values["fiscal_year"] = "FY2021"
        if year == 2020 and rid == "U05":
            labels = dict(zip(codebook.scale_values, codebook.scale_labels("ja"), strict=True))
            answers = {q: labels.get(v, v) if isinstance(v, int) else v for q, v in answers.items()}
        if year == 2021 and rid == "U06":
            # A question left blank in a directive whose other answers keep its mean's side.
            answers["7-1"] = "未回答" if index % 2 == 0 else ""
        files.append(
            SampleFile(
                f"{year}/self_assessment/sa_{rid}.xlsx",
                "self_assessment",
                {"profile": profile_values, "answers": answers},
            )
        )
    return files


def _levels(codebook: Codebook, year: int, files: list[SampleFile]) -> dict[str, str | None]:
    """Each user company's maturity level in ``year`` (None: unclassified), as the toolkit computes it.

    The answers are read as the workbooks give them (full-width digits, labels, 未回答 and all) by
    the codebook's own answer parser and classified by :mod:`analysis.maturity`, so the level a
    company's statements and pre-survey answers follow is the one the study computes from its
    returns, not the profile it was drawn from.
    """
    directive_of = dict(zip(codebook.questions["question_id"], codebook.questions["directive"], strict=True))
    rows = []
    for sample in files:
        rid = Path(sample.path).stem.removeprefix("sa_")
        for question_id, value in sample.data["answers"].items():
            score, reason = codebook.parse_score(value)
            rows.append(
                {
                    "respondent_id": rid,
                    "fiscal_year": year,
                    "directive": int(directive_of[question_id]),
                    "question_id": question_id,
                    "score": score,
                    "missing_reason": reason,
                }
            )
    table = classify_scores(directive_scores(pd.DataFrame(rows), codebook), rules_from_codebook(codebook))
    return {
        str(rid): (None if pd.isna(level) else str(level))
        for rid, level in zip(table["respondent_id"], table["level"], strict=True)
    }


def _presurvey(codebook: Codebook, year: int, levels: dict[str, str | None], rng: np.random.Generator) -> SampleFile:
    questions = codebook.table("presurvey_questions")
    options = codebook.table("presurvey_options")
    bank = [r for r in _read_package_csv("statement_bank.csv") if r["respondent_group"] == "user"]
    rows = []
    # One answer against a filter is planted in the last year (see _skip_unasked).
    planted = year != max(_USERS)
    for rid, _ in _USERS[year]:
        lean = _PRESURVEY_LEAN.get(levels[rid] or "", 1.0)
        first = len(rows)
        for q in questions.itertuples():
            codes = list(options.loc[options["question_id"] == q.question_id, "code"])
            answer: object
            if q.kind == "single":
                # Higher maturity leans to the first (more advanced) options.
                weights = np.array([lean**i for i in range(len(codes))])
                answer = int(rng.choice(codes, p=weights / weights.sum()))
            elif q.kind == "multiple":
                k = int(rng.integers(1, min(4, len(codes)) + 1))
                picked = sorted(
                    int(c) for c in rng.choice(codes[:-1] or codes, size=min(k, len(codes[:-1]) or 1), replace=False)
                )
                answer = ";".join(str(c) for c in picked)
            else:
                answer = bank[int(rng.integers(len(bank)))]["text_ja"] if rng.random() < 0.7 else ""
            rows.append({"respondent_id": rid, "fiscal_year": year, "question_id": q.question_id, "answer": answer})
        planted = _skip_unasked(codebook, rows[first:], planted)
    # Imperfections: full-width codes, Japanese list separator, a don't-know answer.
    for row in rows[::17]:
        if isinstance(row["answer"], int):
            row["answer"] = str(row["answer"]).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for row in rows[5::23]:
        if isinstance(row["answer"], str) and ";" in row["answer"]:
            row["answer"] = row["answer"].replace(";", "、")
    if rows:
        rows[3]["answer"] = "わからない"
    return SampleFile(f"{year}/presurvey.xlsx", "presurvey", {"answers": rows})


def _skip_unasked(codebook: Codebook, answers: list[dict], planted: bool) -> bool:
    """Blank one company's answers to questions it is not asked (the codebook's filters), as a
    respondent following the instructions leaves them; unless no answer against a filter has
    been ``planted`` yet: then the first such answer is kept, for the ingest to warn about.
    Answers are drawn before (the random stream does not depend on the filters). Returns
    whether an answer is planted by now."""
    chosen = {row["question_id"]: row["answer"] for row in answers}
    for row in answers:
        rule = codebook.filters.get(row["question_id"])
        if rule is None or rule.admits(int(chosen[rule.on])) or row["answer"] in ("", None):
            continue
        if not planted:
            planted = True  # e.g. a company that does not use the guidelines says where it uses them
            continue
        row["answer"] = ""
    return planted


def _roster(year: int) -> SampleFile:
    vendors = _read_package_csv("records", "vendors.csv")
    rows: list[dict] = []
    for v in vendors:
        rows.append(
            {
                "respondent_id": f"V{int(v['vendor_no']):02d}",
                "fiscal_year": year,
                "group": "vendor",
                "description": v["business_ja"],
                "n_interviewees": 1,
                "organisation_name": f"サンプルベンダー{v['vendor_no']} (架空)",
            }
        )
    kinds = [
        "資産運用会社",
        "資産運用会社",
        "生命保険会社",
        "信託銀行",
        "年金基金",
        "議決権行使助言会社",
        "ESG評価機関",
        "投資家団体",
    ]
    for i, kind in enumerate(kinds, start=1):
        rows.append(
            {
                "respondent_id": f"I{i:02d}",
                "fiscal_year": year,
                "group": "investor",
                "description": kind,
                "n_interviewees": 2 if i in (1, 5) else 1,
                "organisation_name": f"サンプル投資家{i} (架空)",
            }
        )
    for i in range(1, 11):
        rows.append(
            {
                "respondent_id": f"E{i:02d}",
                "fiscal_year": year,
                "group": "expert",
                "description": "有識者",
                "n_interviewees": 1,
            }
        )
    return SampleFile(f"{year}/roster.xlsx", "roster", {"respondents": rows})


def _statements(codebook: Codebook, year: int, levels: dict[str, str | None], rng: np.random.Generator) -> SampleFile:
    """The coded statements of ``year``'s interviews, each given a speaker.

    A statement the bank marks with a maturity group (高/中/低) is spoken by a company whose
    computed level that year is the group's level (``maturity_groups``), so an unclassified
    company never speaks one. Unmarked statements are dealt round all the user companies in a
    seeded order, so every company speaks about as many of them.
    """
    bank = _read_package_csv("statement_bank.csv")
    groups = codebook.table("maturity_groups")
    level_of_group = dict(zip(groups["code"], groups["level"], strict=True))
    users = [rid for rid, _ in _USERS[year]]
    n_unmarked = sum(1 for e in bank if e["respondent_group"] == "user" and not e["maturity"])
    unmarked_speakers = iter(rng.permutation(np.resize(np.array(users), n_unmarked)))
    vendor_of_section = {1: "V01", 2: "V02", 3: "V02", 4: "V03"}
    rows = []
    for entry in bank:
        group, section = entry["respondent_group"], int(entry["section"])
        if group == "user" and entry["maturity"]:
            level = level_of_group[entry["maturity"]]
            pool = [rid for rid in users if levels.get(rid) == level]
            if not pool:
                raise ValueError(
                    f"no user company is at level {level} in {year} to speak a statement marked {entry['maturity']}"
                )
            rid = str(rng.choice(pool))
        elif group == "user":
            rid = str(next(unmarked_speakers))
        elif group == "vendor":
            rid = vendor_of_section.get(section, "V01")
        elif group == "investor":
            rid = f"I{int(rng.integers(1, 9)):02d}"
        else:
            rid = f"E{int(rng.integers(1, 11)):02d}"
        rows.append(
            {
                "respondent_id": rid,
                "fiscal_year": year,
                "group": group,
                "section": section,
                "category": entry["category_id"],
                "maturity": entry["maturity"],
                "text": entry["text_ja"],
            }
        )
    return SampleFile(f"{year}/statements.xlsx", "statements", {"statements": rows})


_DISCLOSURE_COMPANIES = [
    # id, region, country, industry, peers, large_cap, first year reviewed
    ("O01", "overseas", "US", "finance_insurance", "D01", False, 2019),
    ("O02", "overseas", "US", "information_communications", "D02", False, 2019),
    ("O03", "overseas", "US", "manufacturing", "D03", True, 2019),
    ("O04", "overseas", "GB", "finance_insurance", "D04", False, 2019),
    ("O05", "overseas", "GB", "energy_utilities", "D05", False, 2019),
    ("O06", "overseas", "DE", "manufacturing", "D06", True, 2019),
    ("O07", "overseas", "FR", "transport_postal", "D07", False, 2020),
    ("O08", "overseas", "CH", "manufacturing", "D03;D06", False, 2021),
    ("D01", "domestic", "JP", "finance_insurance", "", False, 2019),
    ("D02", "domestic", "JP", "information_communications", "", False, 2019),
    ("D03", "domestic", "JP", "manufacturing", "", True, 2019),
    ("D04", "domestic", "JP", "finance_insurance", "", False, 2019),
    ("D05", "domestic", "JP", "energy_utilities", "", False, 2019),
    ("D06", "domestic", "JP", "manufacturing", "", False, 2019),
    ("D07", "domestic", "JP", "transport_postal", "", False, 2020),
]
_VENUE = {
    "US": "form_10k",
    "GB": "annual_report",
    "DE": "annual_report",
    "FR": "annual_report",
    "CH": "annual_report",
    "JP": "yuho",
}
_BASIS = {
    "US": "us_sec",
    "GB": "uk_companies_act",
    "DE": "eu_nfrd",
    "FR": "eu_nfrd",
    "CH": "voluntary",
    "JP": "jp_fiea",
}


# What each company's disclosures look like, so that the five findings of report 2.4(2) hold
# under their literal reading (analysis.disclosure.findings) whatever the seed: most domestic
# companies describe their governance structure only, overseas ones go on to measures, one
# domestic company discloses what its overseas peer does, a world-famous company tells
# investors almost nothing, every UK company shows mitigation, and more than half of all the
# companies (on both sides) present the risk and its mitigation under sustainability.
_DISCLOSURE_ROLE = {
    "O03": "quiet",
    "D01": "risk_and_mitigation",
    "D05": "risk",
    "D03": "governance",
    "D04": "governance",
    "D06": "governance",
    "D07": "governance",
}
_SAME_AS_PEER = {"D02": "O02"}  # discloses, item by item, what its overseas peer does
_SUSTAINABILITY_FRAMING = {"O01", "O02", "O04", "O05", "O06", "O07", "O08", "D01", "D02"}


def _disclosed(role: str, region: str, item: str, depth: str, p: float, rng: np.random.Generator) -> bool:
    drawn = bool(rng.random() < p)  # drawn for every cell, so roles do not shift the stream
    if role == "quiet":  # a world-famous company that tells investors almost nothing
        return item == "risk_description"
    if role == "governance":  # the structure only; a passing mention of training at most
        return (
            item == "governance_structure"
            or (depth == "governance" and drawn)
            or (item == "training" and rng.random() < 0.15)
        )
    if role in ("risk", "risk_and_mitigation"):
        return (
            item in ("governance_structure", "risk_description")
            or (depth == "governance" and drawn)
            or (role == "risk_and_mitigation" and item == "mitigation_measures")
        )
    if region == "overseas" and item in ("risk_description", "mitigation_measures"):
        return True
    return drawn


def _disclosures(codebook: Codebook, rng: np.random.Generator) -> SampleFile:
    items = codebook.table("disclosure_items")
    depth = dict(zip(items["item"], items["depth"], strict=True))
    companies, rows = [], []
    shown: dict[tuple[str, int, str], bool] = {}
    for cid, region, country, industry, peers, large_cap, first in _DISCLOSURE_COMPANIES:
        companies.append(
            {
                "company_id": cid,
                "region": "海外" if region == "overseas" else "国内",
                "country": country,
                "industry": industry,
                "peer_id": peers,
                "large_cap": "はい" if large_cap else "いいえ",
                "company_name": f"サンプル開示企業{cid} (架空)",
            }
        )
        sustainability = cid in _SUSTAINABILITY_FRAMING
        role = _DISCLOSURE_ROLE.get(cid, "")
        for year in range(first, 2022):
            trend = 0.07 * (year - 2019)
            for item in items["item"]:
                if region == "overseas":
                    p = {"governance": 0.85, "risk": 0.95, "measures": 0.7}[depth[item]] + trend
                else:
                    p = {"governance": 0.8, "risk": 0.9, "measures": 0.2}[depth[item]] + trend
                disclosed = _disclosed(role, region, item, depth[item], p, rng)
                if cid in _SAME_AS_PEER:  # a domestic company that matches its overseas peer
                    disclosed = shown[(_SAME_AS_PEER[cid], year, item)]
                if country == "GB" and item == "mitigation_measures":
                    disclosed = True
                shown[(cid, year, item)] = disclosed
                venue = "sustainability_report" if sustainability and depth[item] == "measures" else _VENUE[country]
                rows.append(
                    {
                        "company_id": cid,
                        "fiscal_year": year,
                        "item": item,
                        "disclosed": "はい" if disclosed else "いいえ",
                        "venue": venue if disclosed else None,
                        "basis": _BASIS[country] if disclosed else None,
                        "sustainability": ("はい" if sustainability else "いいえ") if disclosed else None,
                    }
                )
    return SampleFile("2021/disclosures.xlsx", "disclosures", {"companies": companies, "disclosures": rows})


def _records() -> list[SampleFile]:
    meetings = [
        {
            "table": r["table"],
            "body": r["body_ja"],
            "round": int(r["round"]),
            "date": r["date"],
            "topics": r["topics_ja"],
            "note": r["note_ja"],
        }
        for r in _read_package_csv("records", "meetings.csv")
    ]
    literature = _read_package_csv("records", "literature.csv")
    return [
        SampleFile("2021/meetings.xlsx", "meetings", {"meetings": meetings}),
        SampleFile("2021/literature.xlsx", "literature", {"literature": literature}),
    ]


def generate_sample(seed: int = DEFAULT_SEED, codebook: Codebook | None = None) -> list[SampleFile]:
    """Return the sample study's workbooks (contents only; nothing is written)."""
    codebook = codebook or load_codebook()
    rng = np.random.default_rng(seed)
    files: list[SampleFile] = []
    levels: dict[int, dict[str, str | None]] = {}
    for year in sorted(_USERS):
        assessments = _self_assessment(codebook, year, rng)
        levels[year] = _levels(codebook, year, assessments)
        files += assessments
        files.append(_presurvey(codebook, year, levels[year], rng))
    files.append(_roster(2021))
    statement_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STATEMENT_STREAM,)))
    files.append(_statements(codebook, 2021, levels[2021], statement_rng))
    files.append(_disclosures(codebook, rng))
    files += _records()
    return files


_README = f"""# Sample study: {SYNTHETIC_NOTE}

Every workbook here was produced by `survey sample --out data/raw` (seed {DEFAULT_SEED}) from
`analysis/collect/sample/generate.py`. Answers, companies and statements are invented; the statement
texts paraphrase the kind of remarks the FY2021 report published. The meeting and literature
records (`2021/meetings.xlsx`, `2021/literature.xlsx`) are real: transcribed from the report's
Tables 2.3, 3.1, 4.1 and 3.2-3.4.

Layout: one folder per study year; `self_assessment/` holds one workbook per user company.
"""


def write_sample(out_dir: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the sample study under ``out_dir`` (year folders) and return the paths."""
    codebook = load_codebook()
    out_dir = Path(out_dir)
    written = []
    for sample in generate_sample(seed, codebook):
        head = sample.path.split("/", 1)[0]
        year = int(head) if head.isdigit() else None  # the study year of its folder, stamped on the instructions
        book = build_workbook(codebook, sample.instrument, "ja", sample.data, year=year)
        book["_meta"].append(["data", SYNTHETIC_NOTE])
        path = out_dir / sample.path
        atomic_write_bytes(path, workbook_bytes(book))
        written.append(path)
    atomic_write_text(out_dir / "README.md", _README)
    return written
