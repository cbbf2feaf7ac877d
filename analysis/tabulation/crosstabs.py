"""Cross-tabulations of codebook variables: counts, percentages, margins, missing answers and
a test of association suited to small samples.

A *variable* is one answer per respondent (single response) or a set of chosen options
(multiple response), read from the tidy tables with its labels from the codebook:

* ``group``, ``industry``, ``size_band``, ``region``, ``country`` (the ``respondents`` table);
* ``maturity`` (levels A/B/C: the study's ``maturity`` table, or a given frame);
* any pre-survey question id such as ``Q1-1`` (free-text questions cannot be tabulated).

Missing answers are never dropped: each missing reason of a variable has its own row (or
column), even when nobody gave it. Single response: percentages are of everybody in the
column. Multiple response: an option's percentage is of the respondents in the column who
answered the question, and that denominator is a row of the table.

Uncertainty (like gtsummary's ``add_ci``/``add_q``): every share can carry its exact
Clopper-Pearson interval (:meth:`CrossTab.with_ci`, or ``frame(ci=True)``), and the per-option
p-values of a multiple-response question their Benjamini-Hochberg q-values over the options of
that question (:meth:`CrossTab.q_values`). The rule is simple on purpose: an interval for every
share, whatever its n, since at n of about 10 every share needs one.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from analysis.codebook import Codebook
from analysis.codebook.filters import QuestionFilter
from analysis.codebook.words import Words
from analysis.maturity.classification import UNCLASSIFIED
from analysis.tabulation.stats import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    AssociationResult,
    association_test,
    bh_q_values,
    clopper_pearson,
)
from analysis.tabulation.suppression import TableLayout, suppress_counts

__all__ = [
    "RESPONDENT_VARIABLES",
    "CrossTab",
    "Variable",
    "crosstab",
    "describe_test",
    "join_sentences",
    "maturity_levels",
    "presurvey_by",
    "variable",
    "variable_names",
]

# Respondent attributes that can be tabulated, with the code list that labels them.
RESPONDENT_VARIABLES: dict[str, str] = {
    "group": "respondent_groups",
    "industry": "industries",
    "size_band": "size_bands",
    "region": "regions",
    "country": "countries",
}
TOTAL = "total"
ANSWERED = "answered"
ALL = "all"


def missing_key(reason: str) -> str:
    """Row or column key of a missing reason."""
    return f"missing:{reason}"


@dataclass(frozen=True)
class Variable:
    """One variable of the study: its categories, labels and everybody's answer.

    ``responses`` has ``respondent_id``, ``value`` (a category code, NA when missing) and
    ``missing_reason`` (NA when answered); a multiple-response variable has one row per
    chosen option, and one row with a missing reason for a respondent who answered nothing.
    """

    name: str
    kind: str  # "single" or "multiple"
    categories: tuple[str, ...]
    missing_reasons: tuple[str, ...]
    label_text: Mapping[str, Mapping[str, str]]  # lang -> code or missing key -> label
    title_text: Mapping[str, str]  # lang -> title
    responses: pd.DataFrame = field(repr=False)
    # A filtered pre-survey question (the codebook's filter): who is asked it. Respondents not
    # asked are left out of ``responses``: ``not_asked`` counts them (answers given anyway
    # included), ``eligibility_unknown`` counts those kept because the filter question has no
    # answer to decide by.
    filter: QuestionFilter | None = None
    not_asked: int = 0
    eligibility_unknown: int = 0

    def title(self, lang: str = "ja") -> str:
        return self.title_text[lang]

    def label(self, key: str, lang: str = "ja") -> str:
        """Label of a category code or of ``missing:<reason>``."""
        return self.label_text[lang].get(key, key)

    @property
    def keys(self) -> list[str]:
        """Categories, then one key per missing reason."""
        return [*self.categories, *(missing_key(r) for r in self.missing_reasons)]

    def answer_keys(self) -> pd.DataFrame:
        """``respondent_id`` and ``key`` (category or ``missing:<reason>``), one row per answer."""
        keys = (
            self.responses["value"]
            .astype("object")
            .where(
                self.responses["value"].notna(),
                [missing_key(str(r)) for r in self.responses["missing_reason"].astype("object")],
            )
        )
        return pd.DataFrame(
            {
                "respondent_id": self.responses["respondent_id"].astype(str).to_numpy(),
                "key": keys.astype(str).to_numpy(),
            }
        )


# -- building variables --------------------------------------------------------------------------


def variable_names(codebook: Codebook) -> list[str]:
    """Every name :func:`variable` accepts."""
    questions = codebook.table("presurvey_questions")
    tabulable = questions.loc[questions["kind"] != "text", "question_id"].tolist()
    return [*RESPONDENT_VARIABLES, "maturity", *tabulable]


def _unless_known(known: pd.Series, reason: str) -> np.ndarray:
    """None where a value is known, else the missing ``reason`` (an object array)."""
    # A 0-d object array, not a bare None: numpy's stubs take array-likes only (same result).
    return np.where(known, np.array(None, dtype=object), reason)


def _cell(frame: pd.DataFrame, row: Hashable, column: Hashable) -> float:
    """One cell of a frame of numbers (counts, shares, denominators)."""
    # pandas-stubs types a cell as any scalar or NA; these frames hold numbers only.
    return cast(float, frame.at[row, column])


def _select_year(frame: pd.DataFrame, year: int | None) -> pd.DataFrame:
    if "fiscal_year" not in frame or frame.empty:
        return frame
    if year is not None:
        return frame[frame["fiscal_year"] == year]
    years = frame["fiscal_year"].dropna().unique()
    if len(years) > 1:
        raise ValueError(f"the data hold several fiscal years ({sorted(years)}); pass fiscal_year")
    return frame


def _missing_labels(codebook: Codebook, words: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {"ja": {}, "en": {}}
    for code in codebook.missing_entries:
        for lang in ("ja", "en"):
            out[lang][missing_key(code["reason"])] = code[f"label_{lang}"]
    for lang in ("ja", "en"):
        out[lang][missing_key(UNCLASSIFIED)] = words[lang]["unclassified"]
    return out


def maturity_levels(study: Any, maturity: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """The ``maturity`` table of ``study`` (``respondent_id``, ``fiscal_year``, ``level``).

    Uses ``maturity`` when given, else the study's ``maturity`` table (the one classification,
    :func:`analysis.maturity.classification.maturity_table`); ``None`` when the study has none.
    """
    return maturity if maturity is not None else study.tables.get("maturity")


def variable(
    study: Any, name: str, *, maturity: pd.DataFrame | None = None, fiscal_year: int | None = None
) -> Variable:
    """Build variable ``name`` (see :func:`variable_names`) from the study's tidy tables."""
    codebook: Codebook = study.codebook
    year = fiscal_year if fiscal_year is not None else study.fiscal_year
    words = {lang: Words(codebook, lang).words("crosstab") for lang in ("ja", "en")}
    missing_text = _missing_labels(codebook, words)
    if name in RESPONDENT_VARIABLES:
        return _respondent_variable(study, name, year, words, missing_text)
    if name == "maturity":
        return _maturity_variable(study, maturity, year, words, missing_text)
    questions = codebook.table("presurvey_questions")
    if name in set(questions["question_id"]):
        return _presurvey_variable(study, name, year, missing_text)
    raise KeyError(f"unknown variable {name!r}; known: {', '.join(variable_names(codebook))}")


def _respondent_variable(study: Any, name: str, year: int | None, words, missing_text) -> Variable:
    codebook: Codebook = study.codebook
    codelist = RESPONDENT_VARIABLES[name]
    table = codebook.codelist(codelist)
    key = codebook.codelist_key(codelist)
    categories = tuple(str(c) for c in table[key])
    roster = _select_year(study.tables["respondents"], year).drop_duplicates("respondent_id")
    values = roster[name].astype("object")
    known = values.isin(categories)
    responses = pd.DataFrame(
        {
            "respondent_id": roster["respondent_id"].astype(str).to_numpy(),
            "value": values.where(known, None).to_numpy(),
            "missing_reason": _unless_known(known, "unanswered"),
        }
    )
    text = {
        lang: {str(c): codebook.label(codelist, c, lang) for c in categories} | missing_text[lang]
        for lang in ("ja", "en")
    }
    return Variable(
        name,
        "single",
        categories,
        ("unanswered",),
        text,
        {lang: words[lang][f"var:{name}"] for lang in ("ja", "en")},
        responses,
    )


def _maturity_variable(study: Any, maturity: pd.DataFrame | None, year: int | None, words, missing_text) -> Variable:
    codebook: Codebook = study.codebook
    rules = codebook.maturity_rules["rules"]
    levels = tuple(str(rule["level"]) for rule in rules)
    table = maturity_levels(study, maturity)
    if table is None:
        raise LookupError("no maturity levels: the study has no maturity table and none was given")
    table = _select_year(table, year).drop_duplicates("respondent_id")
    level = table["level"].astype("object")
    known = level.isin(levels)
    responses = pd.DataFrame(
        {
            "respondent_id": table["respondent_id"].astype(str).to_numpy(),
            "value": level.where(known, None).to_numpy(),
            "missing_reason": _unless_known(known, UNCLASSIFIED),
        }
    )
    text = {
        lang: {str(rule["level"]): rule[f"label_{lang}"] for rule in rules} | missing_text[lang]
        for lang in ("ja", "en")
    }
    return Variable(
        "maturity",
        "single",
        levels,
        (UNCLASSIFIED,),
        text,
        {lang: words[lang]["var:maturity"] for lang in ("ja", "en")},
        responses,
    )


def _presurvey_universe(study: Any, year: int | None, answers: pd.DataFrame) -> list[str]:
    codebook: Codebook = study.codebook
    instruments = codebook.instruments
    groups = str(instruments.loc[instruments["instrument"] == "presurvey", "respondent_groups"].iloc[0]).split(";")
    roster = _select_year(study.tables["respondents"], year)
    ids = roster.loc[roster["group"].isin(groups), "respondent_id"].astype(str).tolist()
    ids += answers["respondent_id"].astype(str).tolist()
    return list(dict.fromkeys(ids))


def _presurvey_variable(study: Any, question_id: str, year: int | None, missing_text) -> Variable:
    codebook: Codebook = study.codebook
    questions = codebook.table("presurvey_questions")
    question = questions[questions["question_id"] == question_id].iloc[0]
    if question["kind"] == "text":
        raise ValueError(f"{question_id} is a free-text question; it cannot be cross-tabulated")
    options = codebook.table("presurvey_options")
    options = options[options["question_id"] == question_id]
    categories = tuple(str(c) for c in options["code"])
    presurvey = _select_year(study.tables["presurvey"], year)
    rows = presurvey[presurvey["question_id"] == question_id]
    universe = _presurvey_universe(study, year, rows)
    rule = codebook.filters.get(question_id)
    not_asked: set[str] = set()
    undecided: set[str] = set()
    if rule is not None:
        not_asked, undecided = _not_asked(presurvey, rows, rule, universe)
        rows = rows[~rows["respondent_id"].astype(str).isin(not_asked)]
        universe = [r for r in universe if r not in not_asked]
    chosen = rows[rows["option_code"].notna()]
    chosen = chosen.assign(value=chosen["option_code"].astype("Int64").astype(str))
    unknown = sorted(set(chosen["value"]) - set(categories))
    if unknown:
        raise ValueError(f"{question_id} has option codes not in the codebook: {unknown}")
    records: list[dict[str, object]] = []
    answered: set[str] = set()
    for respondent_id, value in zip(chosen["respondent_id"].astype(str), chosen["value"], strict=True):
        records.append({"respondent_id": respondent_id, "value": value, "missing_reason": None})
        answered.add(respondent_id)
    reasons = rows[rows["option_code"].isna()].drop_duplicates("respondent_id")
    reason_of = dict(zip(reasons["respondent_id"].astype(str), reasons["missing_reason"].astype("object"), strict=True))
    for respondent_id in universe:
        if respondent_id not in answered:
            reason = reason_of.get(respondent_id)
            reason = reason if isinstance(reason, str) and reason else "unanswered"
            records.append({"respondent_id": respondent_id, "value": None, "missing_reason": reason})
    if question["kind"] == "single":
        counts = pd.Series([r["respondent_id"] for r in records if r["value"] is not None]).value_counts()
        if (counts > 1).any():
            raise ValueError(
                f"{question_id} is single response but {list(counts[counts > 1].index)} chose several options"
            )
    # Reasons only the ingest gives (invalid answers) get a row only where they occur.
    given = {r["missing_reason"] for r in records}
    reasons_all = tuple(
        code["reason"] for code in codebook.missing_entries if code.get("entered", True) or code["reason"] in given
    )
    text = {
        lang: {str(c): str(label) for c, label in zip(options["code"], options[f"label_{lang}"], strict=True)}
        | missing_text[lang]
        for lang in ("ja", "en")
    }
    title = {lang: f"{question_id} {question[f'text_{lang}']}" for lang in ("ja", "en")}
    responses = pd.DataFrame(records, columns=["respondent_id", "value", "missing_reason"])
    return Variable(
        question_id,
        str(question["kind"]),
        categories,
        reasons_all,
        text,
        title,
        responses,
        filter=rule,
        not_asked=len(not_asked),
        eligibility_unknown=len(undecided),
    )


def _not_asked(
    presurvey: pd.DataFrame, rows: pd.DataFrame, rule: QuestionFilter, universe: Sequence[str]
) -> tuple[set[str], set[str]]:
    """Who of ``universe`` is not asked the question of ``rows``, and whose eligibility is unknown.

    The ingest's ``eligible`` mark decides where it is set (an answer given while not
    eligible is then left out). Where it is not (no row of the question, a table from before
    the column, or the filter question answered in another file), the respondent's answers to
    the filter question in the table decide; with none, eligibility is unknown and the
    respondent counts as asked.
    """
    ids = rows["respondent_id"].astype(str)
    eligible = (rows["eligible"] if "eligible" in rows else pd.Series(pd.NA, index=rows.index)).astype("boolean")
    marked_out = set(ids[eligible.eq(False).fillna(False).astype(bool)])
    marked_in = set(ids[eligible.eq(True).fillna(False).astype(bool)]) - marked_out
    on = presurvey[(presurvey["question_id"] == rule.on) & presurvey["option_code"].notna()]
    codes: dict[str, set[int]] = {}
    for rid, code in zip(on["respondent_id"].astype(str), on["option_code"], strict=True):
        codes.setdefault(rid, set()).add(int(code))
    out, unknown = set(marked_out), set()
    for rid in dict.fromkeys([*universe, *ids]):
        if rid in marked_out or rid in marked_in:
            continue
        if rid not in codes:
            unknown.add(rid)
        elif not rule.asks(codes[rid]):
            out.add(rid)
    return out, unknown


# -- the cross-tabulation -----------------------------------------------------------------------


@dataclass(frozen=True)
class CrossTab:
    """A cross-tabulation of ``row`` against ``column`` (see :func:`crosstab`).

    ``counts`` is indexed by row keys (categories, ``missing:<reason>``, then for multiple
    response ``answered``, and ``total`` = everybody), its columns are column keys and
    ``total``. ``base`` is the row whose counts are the denominators of the column
    percentages of category rows. ``test`` is the test of the category block (single
    response); ``option_tests`` one test per option (multiple response).
    """

    row: Variable
    column: Variable
    counts: pd.DataFrame
    base: str
    test: AssociationResult | None
    codebook: Codebook = field(repr=False)
    option_tests: dict[str, AssociationResult] = field(default_factory=dict)

    @property
    def multiple(self) -> bool:
        return self.row.kind == "multiple"

    @property
    def eligibility(self) -> dict[str, object]:
        """Who the table counts when the row question is asked of some respondents only (the
        codebook's filter); empty otherwise. ``filter`` is the codebook's text (``Q1-1 in 1;2``),
        ``eligible_n`` the respondents asked (the ``total`` row), ``answered_n`` those of them who
        answered (the denominator of an option's share), ``not_asked_n`` the respondents left out
        and ``eligibility_unknown_n`` those counted as asked for want of an answer to decide by."""
        rule, column_rule = self.row.filter, self.column.filter
        if rule is None and column_rule is None:
            return {}
        answered = self.base if self.multiple else TOTAL
        if not self.multiple:
            missing = [k for k in self.counts.index if k.startswith("missing:")]
            n_answered = int(_cell(self.counts, TOTAL, TOTAL)) - int(self.counts.loc[missing, TOTAL].sum())
        else:
            n_answered = int(_cell(self.counts, answered, TOTAL))
        out: dict[str, object] = {
            "filter": None if rule is None else rule.text,
            "eligible_n": int(_cell(self.counts, TOTAL, TOTAL)),
            "answered_n": n_answered,
            "not_asked_n": self.row.not_asked,
            "eligibility_unknown_n": self.row.eligibility_unknown,
        }
        if column_rule is not None:
            out |= {
                "column_filter": column_rule.text,
                "column_not_asked_n": self.column.not_asked,
                "column_eligibility_unknown_n": self.column.eligibility_unknown,
            }
        return out

    def _denominator_row(self, key: str) -> str:
        return self.base if key in self.row.categories else TOTAL

    def denominators(self, kind: str = "column") -> pd.DataFrame:
        """The denominator of every share of :meth:`percent` (same shape as ``counts``)."""
        counts = self.counts.astype("float64")
        out = pd.DataFrame(index=counts.index, columns=counts.columns, dtype="float64")
        for key in counts.index:
            if kind == "column":
                denominator = counts.loc[self._denominator_row(key)]
            elif kind == "row":
                denominator = pd.Series(_cell(counts, key, TOTAL), index=counts.columns)
            elif kind == "total":
                denominator = pd.Series(_cell(counts, self._denominator_row(key), TOTAL), index=counts.columns)
            else:
                raise ValueError(f"kind must be column, row or total, not {kind!r}")
            out.loc[key] = denominator.to_numpy()
        return out

    def percent(self, kind: str = "column") -> pd.DataFrame:
        """Proportions (0..1) of ``counts``: ``column``, ``row`` or ``total`` percentages."""
        return self.counts.astype("float64") / self.denominators(kind).replace(0, np.nan)

    def _own_denominator(self, kind: str) -> pd.DataFrame:
        """Cells that are their own denominator (a share of 1 by definition: no interval)."""
        rows = pd.Series([self._denominator_row(k) == k for k in self.counts.index], index=self.counts.index)
        columns = pd.Series([c == TOTAL for c in self.counts.columns], index=self.counts.columns)
        if kind == "column":
            mask = np.repeat(rows.to_numpy()[:, None], len(columns), axis=1)
        elif kind == "row":
            mask = np.repeat(columns.to_numpy()[None, :], len(rows), axis=0)
        else:
            mask = rows.to_numpy()[:, None] & columns.to_numpy()[None, :]
        return pd.DataFrame(mask, index=self.counts.index, columns=self.counts.columns)

    def intervals(self, kind: str = "column", confidence: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Exact (Clopper-Pearson) bounds of every share of :meth:`percent`, as ``(low, high)``.

        NaN where the denominator is 0 and where a cell is its own denominator (the total row
        of column percentages, say), whose share is 1 by definition.
        """
        low, high = clopper_pearson(
            self.counts.to_numpy(dtype="float64"), self.denominators(kind).to_numpy(), confidence
        )
        skip = self._own_denominator(kind).to_numpy()
        frames = [
            pd.DataFrame(np.where(skip, np.nan, bound), index=self.counts.index, columns=self.counts.columns)
            for bound in (low, high)
        ]
        return frames[0], frames[1]

    def q_values(self) -> dict[str, float]:
        """Benjamini-Hochberg q-values of the per-option tests (multiple response), the options
        of this question being one family; NaN for an option with no test. Empty otherwise."""
        options = [k for k in self.row.categories if k in self.option_tests]
        q = bh_q_values([self.option_tests[k].p_value for k in options])
        return dict(zip(options, (float(v) for v in q), strict=True))

    def with_ci(self, kind: str = "column", confidence: float = 0.95) -> pd.DataFrame:
        """Long form: one row per cell with ``row``, ``column``, ``n``, ``denominator``,
        ``share``, ``ci_low``, ``ci_high`` (exact, at ``confidence``), and for a
        multiple-response question the option's ``p_value`` and ``q_value``."""
        share = self.percent(kind)
        low, high = self.intervals(kind, confidence)
        denominators = self.denominators(kind)
        q = self.q_values()
        rows = []
        for key in self.counts.index:
            for column in self.counts.columns:
                record = {
                    "row": key,
                    "column": column,
                    "n": int(_cell(self.counts, key, column)),
                    "denominator": denominators.loc[key, column],
                    "share": share.loc[key, column],
                    "ci_low": low.loc[key, column],
                    "ci_high": high.loc[key, column],
                }
                if self.option_tests:
                    test = self.option_tests.get(key)
                    record |= {"p_value": test.p_value if test is not None else np.nan, "q_value": q.get(key, np.nan)}
                rows.append(record)
        out = pd.DataFrame(rows)
        out["denominator"] = out["denominator"].astype("Int64")
        out.attrs["confidence"] = confidence
        return out

    def frame(
        self,
        lang: str = "ja",
        percent: str = "column",
        suppress: int | None = None,
        *,
        ci: bool = False,
        confidence: float = 0.95,
        q: bool = True,
        ids: bool = False,
    ) -> pd.DataFrame:
        """The table as printed: a label column, then ``n`` and ``%`` per column, then the total.

        ``ids=True`` keeps column ids (``option``, ``n:<column>``, ``pct:<column>``,
        ``ci_low:<column>``, ``ci_high:<column>``, ``p_value``, ``q_value``; the attrs name ids
        too) with their headers in ``lang`` in ``attrs["headers"]``, for a report that labels its
        tables when it writes them.

        ``ci=True`` adds the exact interval of every share after its ``%`` (columns listed in
        ``attrs["ci_columns"]``); a multiple-response table has its options' p-values and, with
        ``q``, their q-values (``attrs["table_statistics"]``: a q-value depends on every
        option's p). ``attrs["layout"]`` tells :func:`analysis.tabulation.suppression.suppress_counts`
        which rows and columns are totals, that each ``%`` is a percentage of its count
        (``percent_of``) and that each interval bound is derived from it (``derived_from``);
        ``suppress=k`` applies it (for publication),
        hiding interval bounds in every row with a hidden count or denominator and the
        q-values wholly as soon as any count is hidden.
        """
        words = Words(self.codebook, lang).words("crosstab")
        shares = self.percent(percent)
        intervals = self.intervals(percent, confidence) if ci else None
        level = f"{confidence * 100:g}"
        ci_columns: list[str] = []
        column_label = {
            key: (words["total"] if key == TOTAL else self.column.label(key, lang)) for key in self.counts.columns
        }
        row_label = {key: self._row_label(key, lang, words) for key in self.counts.index}
        out = pd.DataFrame({"option": [row_label[k] for k in self.counts.index]})
        headers = {"option": self.row.title(lang), "p_value": words["p_value"], "q_value": words["q_value"]}
        percent_of: dict[str, str] = {}
        derived_from: dict[str, tuple[str, ...]] = {}
        count_columns: list[str] = []
        total_n = f"n:{TOTAL}"
        for key in self.counts.columns:
            n_name, p_name = f"n:{key}", f"pct:{key}"
            headers[n_name] = f"{column_label[key]} {words['n']}"
            headers[p_name] = f"{column_label[key]} {words['pct']}"
            out[n_name] = pd.array(self.counts[key].to_numpy(), dtype="Int64")
            out[p_name] = pd.array(shares[key].to_numpy(), dtype="Float64")
            percent_of[p_name] = n_name
            count_columns.append(n_name)
            if intervals is not None:
                low, high = intervals
                for bound, values in (("ci_low", low), ("ci_high", high)):
                    name = f"{bound}:{key}"
                    headers[name] = f"{column_label[key]} {words[bound].replace('{level}', level)}"
                    out[name] = pd.array(values[key].to_numpy(), dtype="Float64")
                    # An interval bound gives its count away as a % does, and the bound of a 0
                    # count its denominator: declared derived from the count and the denominator
                    # (of a column %: the count's column in a denominator row; of a row or total
                    # %: the total column too).
                    derived_from[name] = (n_name,) if percent == "column" else (n_name, total_n)
                    ci_columns.append(name)
        table_statistics: list[str] = []
        if self.option_tests:
            out["p_value"] = pd.array(
                [self.option_tests[k].p_value if k in self.option_tests else None for k in self.counts.index],
                dtype="Float64",
            )
            if q:
                q_of = self.q_values()
                out["q_value"] = pd.array([q_of.get(k) for k in self.counts.index], dtype="Float64")
                table_statistics.append("q_value")
        positions = {key: i for i, key in enumerate(self.counts.index)}
        additive = (
            [positions[k] for k in self.counts.index if k.startswith("missing:")] + [positions[ANSWERED]]
            if self.multiple
            else None
        )
        layout = TableLayout(
            total_row=positions[TOTAL],
            total_column=total_n,
            additive_rows=tuple(additive) if additive is not None else None,
            percent_of=percent_of,
            denominator_rows=(positions[self.base], positions[TOTAL]),
            derived_from=derived_from,
            dependent_columns=("p_value",) if self.option_tests else (),
        )
        out.attrs["layout"] = layout.as_mapping()
        out.attrs["count_columns"] = count_columns
        # Shares and interval bounds are both proportions (printed as %).
        out.attrs["percent_columns"] = [c for c in out.columns if c in percent_of or c in derived_from]
        out.attrs["ci_columns"] = ci_columns
        out.attrs["table_statistics"] = table_statistics
        out.attrs["eligibility"] = self.eligibility
        if suppress is not None:
            shown = out
            out = suppress_counts(out, count_columns, k=suppress, percent_columns=percent_of, layout=layout)
            hidden = out[count_columns].isna().to_numpy() & shown[count_columns].notna().to_numpy()
            rows = hidden.any(axis=1)
            assert isinstance(rows, np.ndarray)  # any over axis 1 of a 2-D array: one flag per row
            if rows[[positions[TOTAL], positions[self.base]]].any():
                rows[:] = True
            for name in ci_columns:
                # Unlike a 0 %, the upper bound of 0 of n tells n: hide with the row, not the cell only.
                out[name] = out[name].mask(rows)
            if hidden.any():
                for name in table_statistics:
                    out[name] = out[name].mask(np.ones(len(out), dtype=bool))
        out.attrs["headers"] = {c: headers[c] for c in out.columns}
        return out if ids else _labelled(out)

    def __repr__(self) -> str:
        shape = f"{len(self.counts.index)}x{len(self.counts.columns)}"
        test = (
            describe_test(self.test, Words(self.codebook, "en").words("crosstab"))
            if self.test is not None
            else (f"{len(self.option_tests)} option tests" if self.option_tests else "no test")
        )
        n = int(_cell(self.counts, TOTAL, TOTAL))
        return f"CrossTab({self.row.name} by {self.column.name}, {shape}, n={n}; {test})"

    def to_html(self, lang: str = "ja", percent: str = "column") -> str:
        """The table as HTML: one spanning header per column (n and %), % with one decimal, the
        note (with the test) as caption. Rendered here so that no template engine is needed."""
        from html import escape

        words = Words(self.codebook, lang).words("crosstab")
        shares = self.percent(percent)
        columns = list(self.counts.columns)
        head_top = "".join(
            f"<th colspan='2' style='text-align:center;border-bottom:1px solid'>"
            f"{escape(words['total'] if key == TOTAL else self.column.label(key, lang))}</th>"
            for key in columns
        )
        head_sub = "".join(f"<th>{escape(words['n'])}</th><th>{escape(words['pct'])}</th>" for _ in columns)
        body = []
        for key in self.counts.index:
            cells = []
            for column in columns:
                share = _cell(shares, key, column)
                pct = f"{100 * share:.1f}%" if pd.notna(share) else "–"
                cells.append(
                    f"<td style='text-align:right'>{int(_cell(self.counts, key, column)):,}</td>"
                    f"<td style='text-align:right;color:#555'>{pct}</td>"
                )
            style = (
                " style='border-top:1px solid;font-weight:bold'"
                if key == TOTAL
                else (" style='color:#777'" if key.startswith("missing:") else "")
            )
            body.append(
                f"<tr{style}><th style='text-align:left'>{escape(self._row_label(key, lang, words))}</th>"
                + "".join(cells)
                + "</tr>"
            )
        title = f"{self.row.title(lang)} × {self.column.title(lang)}"
        return (
            f"<table><caption style='caption-side:top;text-align:left'><b>{escape(title)}</b></caption>"
            f"<thead><tr><th rowspan='2'>{escape(self.row.title(lang))}</th>{head_top}</tr>"
            f"<tr>{head_sub}</tr></thead><tbody>{''.join(body)}</tbody>"
            f"<tfoot><tr><td colspan='{1 + 2 * len(columns)}' style='text-align:left;font-size:smaller'>"
            f"{escape(self.note(lang))}</td></tr></tfoot></table>"
        )

    def _repr_html_(self) -> str:
        return self.to_html("ja")

    def _row_label(self, key: str, lang: str, words: Mapping[str, str]) -> str:
        if key == TOTAL:
            return words["all"] if self.multiple else words["total"]
        if key == ANSWERED:
            return words["answered"]
        return self.row.label(key, lang)

    def note(self, lang: str = "ja", with_test: bool = True, ci: bool = False, confidence: float = 0.95) -> str:
        """What the percentages are of, and which test was made (``with_test=False``: the
        test result is withheld, as in a published table with hidden cells); with ``ci`` what
        the intervals and q-values are."""
        words = Words(self.codebook, lang).words("crosstab")
        extra = [words["note:ci"].replace("{level}", f"{confidence * 100:g}")] if ci else []
        if with_test and self.option_tests:
            extra.append(words["note:q"])
        return join_sentences(lang, self._filter_note(lang, words), self._note(lang, with_test, words), *extra)

    def _filter_note(self, lang: str, words: Mapping[str, str]) -> str:
        """Who was asked a filtered question, row or column (no counts: the table's own rows give
        them)."""
        return join_sentences(
            lang,
            *(
                words["note:filter"]
                .replace("{question}", rule.question)
                .replace("{asked}", rule.describe(self.codebook, lang))
                .replace("{on}", rule.on)
                for rule in (self.row.filter, self.column.filter)
                if rule is not None
            ),
        )

    def _note(self, lang: str, with_test: bool, words: Mapping[str, str]) -> str:
        if self.multiple:
            names = sorted(
                {
                    describe_test(t, words, name_only=True)
                    for t in self.option_tests.values()
                    if t.test != "not_testable"
                }
            )
            note = words["note:multiple"].replace("{answered}", words["answered"]).replace("{tests}", ", ".join(names))
        else:
            note = words["note:single"]
            if with_test and self.test is not None:
                note = join_sentences(lang, note, words["note:test"].replace("{test}", describe_test(self.test, words)))
        return note if with_test else join_sentences(lang, note, words["test_withheld"])


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (of :meth:`CrossTab.frame` with ``ids=True``) with its columns named by their headers,
    and its attrs naming them so."""
    headers: dict[str, str] = frame.attrs["headers"]

    def name(column: str) -> str:
        return headers.get(column, column)

    out = frame.rename(columns=headers)
    out.attrs = dict(frame.attrs)
    out.attrs["layout"] = TableLayout.from_mapping(frame.attrs["layout"]).renamed(name).as_mapping()
    for key in ("count_columns", "percent_columns", "ci_columns", "table_statistics"):
        out.attrs[key] = [name(c) for c in frame.attrs[key]]
    del out.attrs["headers"]
    return out


def join_sentences(lang: str, *sentences: str) -> str:
    """Sentences in a row: no space between Japanese sentences, one between English ones."""
    return ("" if lang == "ja" else " ").join(s for s in sentences if s)


def describe_test(result: AssociationResult, words: Mapping[str, str], name_only: bool = False) -> str:
    """The test's name and result in the language of ``words`` (see :func:`labels`)."""
    name = words.get(f"test:{result.test}", result.name)
    if name_only:
        return name
    if result.test == "not_testable":
        return f"{name} ({words['no_test_reason']})"
    parts = [f"n = {result.details['n']}"]
    if "n_resamples" in result.details:
        parts.append(
            words["resamples"]
            .replace("{n}", f"{result.details['n_resamples']:,}")
            .replace("{seed}", str(result.details["seed"]))
        )
    v = result.details.get("cramers_v")
    if v is not None and not np.isnan(v):
        parts.append(f"{words['cramers_v']} = {v:.2f}")
    return f"{name}, p = {result.p_value:.3g} ({', '.join(parts)})"


def crosstab(
    study: Any,
    row: str | Variable,
    column: str | Variable,
    *,
    maturity: pd.DataFrame | None = None,
    fiscal_year: int | None = None,
    seed: int = DEFAULT_SEED,
    n_resamples: int = DEFAULT_RESAMPLES,
) -> CrossTab:
    """Cross-tabulate variable ``row`` against variable ``column`` (names or :class:`Variable`).

    The respondents of ``row`` are the base: a respondent without an answer to ``column`` is
    counted in its missing column (``unanswered``, or ``unclassified`` for maturity). A
    multiple-response variable must be the row. A filtered question (the codebook's
    ``filter``), row or column, counts only those asked it; the note says whom.
    """
    if isinstance(row, str):
        row = variable(study, row, maturity=maturity, fiscal_year=fiscal_year)
    if isinstance(column, str):
        column = variable(study, column, maturity=maturity, fiscal_year=fiscal_year)
    if column.kind == "multiple":
        raise ValueError(f"{column.name} is multiple response; put it on the rows")
    row_answers = row.answer_keys()
    if column.filter is not None:
        # A filtered column question: those not asked it are left out of the whole table (as
        # for a filtered row), not counted as if they had skipped it.
        asked = set(column.responses["respondent_id"].astype(str))
        row_answers = row_answers[row_answers["respondent_id"].isin(asked)]
    column_answers = column.answer_keys().drop_duplicates("respondent_id")
    fallback = missing_key(column.missing_reasons[0])
    column_of = dict(zip(column_answers["respondent_id"], column_answers["key"], strict=True))
    respondents = list(dict.fromkeys(row_answers["respondent_id"]))
    column_keys = column.keys
    row_keys = row.keys
    respondent_column = {r: column_of.get(r, fallback) for r in respondents}

    pairs = row_answers.assign(column=row_answers["respondent_id"].map(respondent_column))
    counts = (
        pd.crosstab(pairs["key"], pairs["column"])
        .reindex(index=row_keys, columns=column_keys, fill_value=0)
        .astype("int64")
    )
    counts.index.name, counts.columns.name = None, None
    everybody = (
        pd.Series([respondent_column[r] for r in respondents], dtype="object")
        .value_counts()
        .reindex(column_keys, fill_value=0)
        .astype("int64")
    )

    base = TOTAL
    if row.kind == "multiple":
        answered_pairs = pairs[~pairs["key"].str.startswith("missing:")].drop_duplicates("respondent_id")
        counts.loc[ANSWERED] = (
            answered_pairs["column"].value_counts().reindex(column_keys, fill_value=0).astype("int64")
        )
        base = ANSWERED
    counts.loc[TOTAL] = everybody
    counts[TOTAL] = counts.sum(axis=1)

    categories = list(row.categories)
    column_categories = list(column.categories)
    test = None
    option_tests: dict[str, AssociationResult] = {}
    if row.kind == "single":
        block = counts.loc[categories, column_categories].to_numpy()
        test = association_test(block, seed=seed, n_resamples=n_resamples)
    else:
        answered_block = counts.loc[ANSWERED, column_categories].to_numpy()
        for option in categories:
            chose = counts.loc[option, column_categories].to_numpy()
            option_tests[option] = association_test(
                np.vstack([chose, answered_block - chose]), seed=seed, n_resamples=n_resamples
            )
    return CrossTab(
        row=row, column=column, counts=counts, base=base, test=test, codebook=study.codebook, option_tests=option_tests
    )


def presurvey_by(
    study: Any,
    by: str = "maturity",
    *,
    maturity: pd.DataFrame | None = None,
    fiscal_year: int | None = None,
    questions: Sequence[str] | None = None,
) -> list[CrossTab]:
    """One cross-tabulation per pre-survey question (free text left out) against ``by``."""
    table = study.codebook.table("presurvey_questions")
    table = table[table["kind"] != "text"].sort_values(["topic", "order"], kind="stable")
    chosen = list(table["question_id"]) if questions is None else list(questions)
    column = variable(study, by, maturity=maturity, fiscal_year=fiscal_year)
    return [crosstab(study, q, column, maturity=maturity, fiscal_year=fiscal_year) for q in chosen]
