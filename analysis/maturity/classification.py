"""Maturity classification (A/B/C) from per-directive mean scores, with the rules as codebook data.

The rules (``[maturity]`` in the edition's ``edition.toml``) are counts of directives whose mean
is below or at least a threshold. They overlap, so a level is the first rule in ``precedence``
that holds; and they are silent on unanswered directives, so a respondent with directives that
have no answered question gets a level only when every possible mean of those directives
(anything on the answer scale) gives the same level. An answer rejected at ingest (reason
``invalid``) is left out of its directive's mean like any missing answer, but it was given: the
level stands only when every answer it could have been gives the same level. The lowest and
highest reachable levels are kept either way (``level_min``, ``level_max``: "B or better").
Means are compared as exact fractions: a mean of exactly 3 is never "below 3".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.codebook import Codebook
from analysis.maturity.scores import INVALID, KEYS, directive_scores, exact_means, respondent_years

if TYPE_CHECKING:
    from analysis.study.load import Study

__all__ = [
    "DEFAULT_DELTA",
    "Bound",
    "Classification",
    "MaturityRules",
    "Rule",
    "UNCLASSIFIED",
    "classify",
    "classify_scores",
    "describe",
    "describe_rule",
    "directive_change",
    "directive_change_summary",
    "level_counts",
    "maturity_table",
    "one_year_only",
    "possible_means",
    "rules_from_codebook",
    "sensitivity",
    "transition_matrix",
]

UNCLASSIFIED = "unclassified"
DEFAULT_DELTA = Fraction(1, 4)
_COUNTER = re.compile(r"n_(below|at_least)_(\w+)")


def _fraction(value: object) -> Fraction:
    # str() first so that a TOML float such as 3.25 becomes 13/4, not its binary neighbour.
    return Fraction(str(value))


def _counter(counter: str) -> tuple[str, str]:
    """``(kind, threshold name)`` of a counter such as ``n_below_low``."""
    match = _COUNTER.fullmatch(counter)
    if match is None:
        raise ValueError(f"{counter!r} is not a counter (n_below_<t> or n_at_least_<t>)")
    return match.group(1), match.group(2)


def _number(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else format(float(value), "g")


@dataclass(frozen=True)
class Bound:
    """Bounds on one counter: ``min <= count <= max`` (either side may be open)."""

    min: int | None = None
    max: int | None = None

    def holds(self, count: int) -> bool:
        return (self.min is None or count >= self.min) and (self.max is None or count <= self.max)


@dataclass(frozen=True)
class Rule:
    """One level's rule: it holds when any clause holds; a clause holds when all its bounds do."""

    level: str
    label_ja: str
    label_en: str
    clauses: tuple[tuple[tuple[str, Bound], ...], ...]

    def holds(self, counts: Mapping[str, int]) -> bool:
        return any(all(bound.holds(counts[name]) for name, bound in clause) for clause in self.clauses)

    def label(self, lang: str) -> str:
        return self.label_ja if lang == "ja" else self.label_en


@dataclass(frozen=True)
class MaturityRules:
    """Thresholds, rules and precedence of the classification, and the range a mean can take."""

    thresholds: tuple[tuple[str, Fraction], ...]  # e.g. (("low", 3), ("high", 4))
    rules: tuple[Rule, ...]  # listed from the highest level to the lowest
    precedence: tuple[str, ...]
    scale_min: Fraction
    scale_max: Fraction
    n_directives: int

    @property
    def levels(self) -> tuple[str, ...]:
        """Levels from the highest to the lowest (the order the rules are listed in)."""
        return tuple(rule.level for rule in self.rules)

    def rule(self, level: str) -> Rule:
        return next(r for r in self.rules if r.level == level)

    def threshold(self, name: str) -> Fraction:
        return dict(self.thresholds)[name]

    @cached_property
    def counters(self) -> tuple[str, ...]:
        """Counters the rules use (``n_below_low`` …): "below" ones first, then by threshold."""
        names = dict.fromkeys(name for rule in self.rules for clause in rule.clauses for name, _ in clause)

        def key(counter: str) -> tuple[int, Fraction]:
            kind, name = _counter(counter)
            return (kind != "below", self.threshold(name))

        return tuple(sorted(names, key=key))

    def counter_column(self, counter: str) -> str:
        """Column name of a counter, named from its threshold's value (``n_below_3``)."""
        kind, name = _counter(counter)
        return f"n_{kind}_{_number(self.threshold(name))}"

    def counts(self, means: Sequence[Fraction]) -> dict[str, int]:
        """Evaluate every counter on the given means."""
        out = {}
        for counter in self.counters:
            kind, name = _counter(counter)
            t = self.threshold(name)
            out[counter] = sum(1 for m in means if (m < t if kind == "below" else m >= t))
        return out

    def matched(self, means: Sequence[Fraction]) -> tuple[str, ...]:
        """Levels whose rule holds for ``means``, in precedence order."""
        counts = self.counts(means)
        return tuple(level for level in self.precedence if self.rule(level).holds(counts))

    def shifted(self, deltas: Mapping[str, Fraction]) -> MaturityRules:
        """The same rules with thresholds moved by ``deltas`` (threshold name -> signed shift)."""
        moved = tuple((name, value + _fraction(deltas.get(name, 0))) for name, value in self.thresholds)
        return replace(self, thresholds=moved)

    def representatives(self) -> tuple[Fraction, ...]:
        """One mean from every interval between thresholds that the scale reaches.

        Counters only compare means with thresholds, so any value of an interval gives the same
        counts; checking one value per interval is checking every possible mean.
        """
        cuts = sorted({value for _, value in self.thresholds})
        lows = [self.scale_min, *cuts]
        highs = [*cuts, None]
        reps = []
        for low, high in zip(lows, highs, strict=True):
            value = max(low, self.scale_min)
            if value <= self.scale_max and (high is None or value < high):
                reps.append(value)
        return tuple(reps)

    def representative(self, mean: Fraction) -> Fraction:
        """The value of :meth:`representatives` in the same interval between thresholds as ``mean``."""
        return max(r for r in self.representatives() if r <= mean)

    @cached_property
    def implications(self) -> frozenset[tuple[str, str]]:
        """Pairs ``(x, y)`` where rule x holding always means rule y holds (over complete profiles)."""
        profiles = [
            self.matched(p) for p in itertools.combinations_with_replacement(self.representatives(), self.n_directives)
        ]
        return frozenset((x, y) for x in self.levels for y in self.levels if all(y in m for m in profiles if x in m))


def rules_from_codebook(codebook: Codebook) -> MaturityRules:
    """Read thresholds, rules and precedence from ``codebook.maturity_rules``.

    Thresholds are the keys ``<name>_threshold``; counters are ``n_below_<name>`` and
    ``n_at_least_<name>``; each clause maps counters to ``{min = …, max = …}``.
    """
    spec = codebook.maturity_rules
    thresholds = tuple(
        (key.removesuffix("_threshold"), _fraction(value)) for key, value in spec.items() if key.endswith("_threshold")
    )
    known = {name for name, _ in thresholds}
    rules = []
    for entry in spec["rules"]:
        clauses = []
        for clause in entry["clauses"]:
            bounds = []
            for counter, bound in clause.items():
                match = _COUNTER.fullmatch(counter)
                if not match or match.group(2) not in known:
                    raise ValueError(
                        f"maturity rule {entry['level']}: unknown counter {counter!r}; expected "
                        f"n_below_<t> or n_at_least_<t> with t in {sorted(known)}"
                    )
                bounds.append((counter, Bound(bound.get("min"), bound.get("max"))))
            clauses.append(tuple(bounds))
        rules.append(
            Rule(
                entry["level"],
                entry.get("label_ja", entry["level"]),
                entry.get("label_en", entry["level"]),
                tuple(clauses),
            )
        )
    precedence = tuple(spec.get("precedence", [r.level for r in rules]))
    if sorted(precedence) != sorted(r.level for r in rules):
        raise ValueError(f"maturity precedence {precedence} must list every rule's level once")
    values = codebook.scale_values
    return MaturityRules(
        thresholds=thresholds,
        rules=tuple(rules),
        precedence=precedence,
        scale_min=_fraction(min(values)),
        scale_max=_fraction(max(values)),
        n_directives=len(codebook.directives),
    )


# -- one respondent ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Classification:
    """The classification of one respondent-year and what decided it."""

    level: str | None  # None: unclassified
    counts: dict[str, int]  # counters over the answered directives
    missing_directives: tuple[int, ...]
    rules_matched: tuple[str, ...]  # rules that hold whatever the missing directives' means
    conflict: bool  # rules that do not imply each other held and precedence decided
    possible_levels: tuple[str, ...]  # levels the missing directives could give (UNCLASSIFIED included)
    also_matched: tuple[str, ...]  # other rules that held in some possible case
    invalid_directives: tuple[int, ...] = ()  # directives with an answer rejected at ingest
    level_min: str | None = None  # the lowest level reachable (None when no rule might hold)
    level_max: str | None = None  # the highest level reachable


def possible_means(score_sum: int, n_answered: int, n_invalid: int, rules: MaturityRules) -> frozenset[Fraction | None]:
    """Every mean a directive could have had if its ``n_invalid`` rejected answers had been valid.

    Each rejected answer could have been any scale level or a missing answer, so ``j`` of them
    (0 … ``n_invalid``) add a sum anywhere from ``j`` × lowest to ``j`` × highest level (the
    levels are consecutive whole numbers). ``None`` stands for "no answered question".
    """
    low, high = int(rules.scale_min), int(rules.scale_max)
    out: set[Fraction | None] = set()
    for j in range(n_invalid + 1):
        n = n_answered + j
        for added in range(j * low, j * high + 1):
            out.add(Fraction(score_sum + added, n) if n else None)
    return frozenset(out)


def classify(
    means: Mapping[int, Fraction | None],
    rules: MaturityRules,
    open_means: Mapping[int, Collection[Fraction | None]] | None = None,
) -> Classification:
    """Classify one respondent-year from its directive means (``None`` for no answered question).

    Every possible mean of the missing directives is considered (one value per interval between
    thresholds), and so is every mean in ``open_means`` (by directive, what the mean could have
    been without its rejected answers: see :func:`possible_means`); the level is given only when
    all of them give the same level.
    """
    open_means = open_means or {}
    answered = [m for m in means.values() if m is not None]
    missing = tuple(sorted(d for d, m in means.items() if m is None))
    everything = set(rules.representatives())
    # Counters only see which interval each mean is in, so the cases are multisets of intervals:
    # built directive by directive, they stay few (at most 66 for 10 directives and 3 intervals).
    cases: set[tuple[Fraction, ...]] = {()}
    for directive, mean in means.items():
        options: set[Fraction] = set()
        for value in open_means.get(directive, (mean,)):
            options |= everything if value is None else {rules.representative(value)}
        cases = {tuple(sorted((*case, value))) for case in cases for value in options}
    outcomes = [rules.matched(case) for case in sorted(cases)]
    levels = [m[0] if m else UNCLASSIFIED for m in outcomes]
    reached = [x for x in rules.levels if x in levels]
    possible = tuple(x for x in (*rules.precedence, UNCLASSIFIED) if x in levels)
    level = possible[0] if len(possible) == 1 and possible[0] != UNCLASSIFIED else None
    always = tuple(x for x in rules.precedence if all(x in m for m in outcomes))
    ever = {x for m in outcomes for x in m}
    conflict = level is not None and any(
        (level, other) not in rules.implications for m in outcomes for other in m if other != level
    )
    also = tuple(x for x in rules.precedence if x in ever and x != level)
    return Classification(
        level=level,
        counts=rules.counts(answered),
        missing_directives=missing,
        rules_matched=always,
        conflict=conflict,
        possible_levels=possible,
        also_matched=also,
        invalid_directives=tuple(sorted(open_means)),
        level_min=reached[-1] if reached and UNCLASSIFIED not in levels else None,
        level_max=reached[0] if reached else None,
    )


_WORDS = {
    "en": {
        "below": "directives with mean below {t}",
        "at_least": "directives with mean {t} or higher",
        "min": "{n} or more {what}",
        "max0": "no {what}",
        "max": "at most {n} {what}",
        "between": "{lo} to {hi} {what}",
        "and": " and ",
        "or": " or ",
        "list": ", ",
        "last": " or ",
        "conflict": "{level} by precedence ({order}): meets {matched} ({counts})",
        "also": "{level} by precedence ({order}); {others} would also hold for some means of the unanswered directives",
        "counts": "{n} {what}",
        "missing_fixed": "{ds} no answered question, but every possible mean gives {level}",
        "missing_open": "{ds} no answered question; depending on the missing means the level could be {levels}",
        "directives": ("directive {ds} has", "directives {ds} have"),
        "invalid_open": "{ds} an invalid answer (rejected at ingest, see issues.csv); depending on what it "
        "should have been the level could be {levels}",
        "invalid_fixed": "{ds} an invalid answer (rejected at ingest, see issues.csv), but whatever it should have "
        "been the level is {level}",
        "none": "no rule holds ({counts})",
        "unclassified": "unclassified",
    },
    "ja": {
        "below": "平均値{t}未満の指示",
        "at_least": "平均値{t}以上の指示",
        "min": "{what}が{n}個以上",
        "max0": "{what}がない",
        "max": "{what}が{n}個以下",
        "between": "{what}が{lo}〜{hi}個",
        "and": "かつ",
        "or": "または",
        "list": "・",
        "last": "・",
        "conflict": "{matched}の条件がいずれも成り立つ({counts})ため、優先順位({order})により{level}",
        "also": "優先順位({order})により{level}。未回答の指示の平均値によっては{others}の条件も成り立つ",
        "counts": "{what}{n}個",
        "missing_fixed": "{ds}に回答がないが、その平均値がいくつであっても{level}となる",
        "missing_open": "{ds}に回答がなく、その平均値によって{levels}のいずれにもなりうる",
        "directives": ("指示{ds}", "指示{ds}"),
        "invalid_open": "{ds}に無効回答があり(取り込み時に却下、issues.csv参照)、本来の回答によって{levels}の"
        "いずれにもなりうる",
        "invalid_fixed": "{ds}に無効回答があるが(取り込み時に却下、issues.csv参照)、本来の回答が何であっても"
        "{level}となる",
        "none": "どの条件も成り立たない({counts})",
        "unclassified": "判定不能",
    },
}


def _counter_words(rules: MaturityRules, counter: str, lang: str) -> str:
    kind, name = _counter(counter)
    return _WORDS[lang][kind].format(t=_number(rules.threshold(name)))


def describe_rule(rules: MaturityRules, level: str, lang: str = "en") -> str:
    """The rule of ``level`` in plain words, built from its clauses."""
    words = _WORDS[lang]
    parts = []
    for clause in rules.rule(level).clauses:
        bits = []
        for counter, bound in clause:
            what = _counter_words(rules, counter, lang)
            if bound.min is not None and bound.max is not None:
                bits.append(words["between"].format(lo=bound.min, hi=bound.max, what=what))
            elif bound.min is not None:
                bits.append(words["min"].format(n=bound.min, what=what))
            elif bound.max == 0:
                bits.append(words["max0"].format(what=what))
            else:
                bits.append(words["max"].format(n=bound.max, what=what))
        parts.append(words["and"].join(bits))
    return words["or"].join(parts)


def describe(result: Classification, rules: MaturityRules, lang: str = "en") -> str:
    """Plain-words reason for a conflict, a missing directive or an unclassified respondent ("" otherwise)."""
    words = _WORDS[lang]
    sep = words["list"]
    order = " > ".join(rules.precedence)
    counts = sep.join(
        words["counts"].format(n=result.counts[c], what=_counter_words(rules, c, lang)) for c in rules.counters
    )
    missing = result.missing_directives
    directives = words["directives"][len(missing) > 1].format(ds=sep.join(str(d) for d in missing))
    invalid = result.invalid_directives
    invalid_ds = words["directives"][len(invalid) > 1].format(ds=sep.join(str(d) for d in invalid))
    names = [words["unclassified"] if x == UNCLASSIFIED else x for x in result.possible_levels]
    names = sep.join(names[:-1]) + words["last"] + names[-1] if len(names) > 1 else "".join(names)
    reasons = []
    if invalid:
        if result.level is None:
            reasons.append(words["invalid_open"].format(ds=invalid_ds, levels=names))
        else:
            reasons.append(words["invalid_fixed"].format(ds=invalid_ds, level=result.level))
    if result.missing_directives:
        if result.level is None:
            reasons.append(words["missing_open"].format(ds=directives, levels=names))
        else:
            reasons.append(words["missing_fixed"].format(ds=directives, level=result.level))
    elif result.level is None and not invalid:
        reasons.append(words["none"].format(counts=counts))
    if result.conflict:
        others = [x for x in result.also_matched if (result.level, x) not in rules.implications]
        if result.missing_directives and not set(others) <= set(result.rules_matched):
            reasons.append(words["also"].format(level=result.level, order=order, others=sep.join(others)))
        else:
            matched = words["and"].join(f"{x} ({describe_rule(rules, x, lang)})" for x in result.rules_matched)
            reasons.append(words["conflict"].format(level=result.level, order=order, matched=matched, counts=counts))
    return "; ".join(reasons) if lang == "en" else "。".join(reasons)


# -- tables -----------------------------------------------------------------------------------


def classify_scores(scores: pd.DataFrame, rules: MaturityRules, lang: str = "en") -> pd.DataFrame:
    """Classify every respondent-year of a :func:`analysis.maturity.scores.directive_scores` frame.

    Columns: ``respondent_id``, ``fiscal_year``, ``level`` (NA when unclassified), ``level_min`` and
    ``level_max`` (the lowest and highest level the missing and invalid answers leave reachable;
    ``level_min`` is NA when no rule might hold), one count column per counter named from its
    threshold (``n_below_3``, ``n_at_least_3``, ``n_at_least_4``), ``n_missing_directives``,
    ``rules_matched`` (``;``-joined), ``conflict`` and ``reason`` (in ``lang``).
    """
    return _classified(scores, rules, {"reason": lang})


def _classified(scores: pd.DataFrame, rules: MaturityRules, reasons: Mapping[str, str]) -> pd.DataFrame:
    """:func:`classify_scores` with one reason column per entry of ``reasons`` (column -> language).

    Exact without fractions: a mean ``score_sum / n_answered`` is compared with a threshold
    ``p / q`` as ``score_sum * q`` with ``p * n_answered``, in integer numpy over all rows at
    once. What :func:`classify` makes of a respondent depends only on the counters, on which
    interval between thresholds each directive's mean is in (or may be in) and on which
    directives are missing or invalid; respondents alike in those share one call of it.
    :func:`_classified_exact` (one :class:`~fractions.Fraction` mean at a time) is the oracle
    that this must equal (a property test holds them together).
    """
    reps = rules.representatives()
    counters = [(counter, *_counter(counter)) for counter in rules.counters]
    total = scores["score_sum"].to_numpy(dtype="int64", na_value=0)
    n = scores["n_answered"].to_numpy(dtype="int64", na_value=0)
    column = f"n_{INVALID}"
    invalid = (
        scores[column].to_numpy(dtype="int64", na_value=0) if column in scores.columns else np.zeros(len(n), "int64")
    )
    fractions = [*reps, *(rules.threshold(name) for _, _, name in counters)]
    if len(n) and not _fits(total, n, fractions):
        return _classified_exact(scores, rules, reasons)
    answered = n > 0
    # The interval of each mean: how many representatives it reaches (the oracle's representative()).
    interval = _at_least(total, n, reps).sum(axis=1) - 1
    if (answered & (interval < 0)).any():
        return _classified_exact(scores, rules, reasons)  # a mean below the scale: the oracle says why
    # Which counter each answered mean counts in: at least the threshold, or (for "below") not.
    hits = np.zeros((len(n), len(counters)), dtype=bool)
    for j, (_, kind, name) in enumerate(counters):
        hits[:, j] = _at_least(total, n, [rules.threshold(name)])[:, 0] ^ (kind == "below")
    hits &= answered[:, None]
    group, respondents = respondent_years(scores)
    directives = scores["directive"].to_numpy(dtype="int64")
    made: dict[tuple, dict[str, Any]] = {}
    records = []
    # A respondent's case, without invalid answers, is a signature of counts: answered
    # directives per interval (the sorted intervals), missing directives per directive, and
    # the counters; respondents with equal signatures are one case (found by numpy at once).
    opened_groups = np.zeros(len(respondents), dtype=bool)
    opened_groups[group[invalid > 0]] = True
    plain_rows, missing_rows = answered & (invalid <= 0), ~answered & (invalid <= 0)
    known_directives, directive_index = np.unique(directives, return_inverse=True)
    signature = np.zeros((len(respondents), len(reps) + len(known_directives) + len(counters)), dtype="int64")
    np.add.at(signature, (group[plain_rows], interval[plain_rows]), 1)
    np.add.at(signature, (group[missing_rows], len(reps) + directive_index[missing_rows]), 1)
    np.add.at(signature[:, len(reps) + len(known_directives) :], group, hits.astype("int64"))
    closed = np.flatnonzero(~opened_groups)
    if len(closed):
        cases, case_of = np.unique(signature[closed], axis=0, return_inverse=True)
        records_of_case = []
        for row in cases:
            plain = tuple(x for x in range(len(reps)) for _ in range(int(row[x])))
            missing = tuple(int(d) for j, d in enumerate(known_directives) for _ in range(int(row[len(reps) + j])))
            counts = tuple(int(c) for c in row[len(reps) + len(known_directives) :])
            case = (plain, missing, (), counts)
            if case not in made:
                made[case] = _case_record(case, rules, reasons)
            records_of_case.append(made[case])
        for g, c in zip(closed.tolist(), case_of.reshape(-1).tolist(), strict=True):
            rid, year = respondents[g]
            records.append({"respondent_id": rid, "fiscal_year": year, **records_of_case[c]})
    # Respondents with invalid answers: their possible means, one respondent at a time.
    # Rows of each respondent-year, found once (not one pass over every row per respondent).
    by_group = np.argsort(group, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=len(respondents)))])
    for g in np.flatnonzero(opened_groups).tolist():
        plain, missing, opened = [], [], []
        rows = by_group[bounds[g] : bounds[g + 1]]
        for row in rows.tolist():
            d, current = int(directives[row]), int(interval[row]) if answered[row] else None
            if invalid[row] > 0:
                options = possible_means(int(total[row]), int(n[row]), int(invalid[row]), rules)
                reached = tuple(sorted({reps.index(rules.representative(m)) if m is not None else -1 for m in options}))
                opened.append((d, current, reached))
            elif current is None:
                missing.append(d)
            else:
                plain.append(current)
        counts = tuple(int(c) for c in hits[rows].sum(axis=0))
        case = (tuple(sorted(plain)), tuple(sorted(missing)), tuple(sorted(opened)), counts)
        if case not in made:
            made[case] = _case_record(case, rules, reasons)
        rid, year = respondents[g]
        records.append({"respondent_id": rid, "fiscal_year": year, **made[case]})
    return _frame(records, rules, reasons)


def _fits(total: np.ndarray, n: np.ndarray, fractions: Sequence[Fraction]) -> bool:
    """Whether every product of the integer comparisons stays far inside int64."""
    largest = max([abs(f.numerator) for f in fractions] + [f.denominator for f in fractions] + [1])
    return max(int(np.abs(total).max()), int(n.max()), 1) * largest < 1 << 62


def _at_least(total: np.ndarray, n: np.ndarray, values: Sequence[Fraction]) -> np.ndarray:
    """``total / n >= value`` for every row and value, exactly: ``total * q >= p * n`` for ``value = p / q``."""
    p = np.array([v.numerator for v in values], dtype="int64")
    q = np.array([v.denominator for v in values], dtype="int64")
    return total[:, None] * q[None, :] >= p[None, :] * n[:, None]


def _case_record(case: tuple, rules: MaturityRules, reasons: Mapping[str, str]) -> dict[str, Any]:
    """The columns of every respondent in ``case`` (see :func:`_classified`): :func:`classify` of
    one mean per interval, with the counters as counted exactly."""
    plain, missing, opened, counts = case
    reps = rules.representatives()
    # The answered directives' numbers appear in no output: stand-ins below any real one.
    means: dict[int, Fraction | None] = {-1 - i: reps[x] for i, x in enumerate(plain)}
    means.update(dict.fromkeys(missing))
    means.update({d: None if current is None else reps[current] for d, current, _ in opened})
    open_means = {d: frozenset(None if x < 0 else reps[x] for x in reached) for d, _, reached in opened}
    result = replace(classify(means, rules, open_means), counts=dict(zip(rules.counters, counts, strict=True)))
    return _record(result, rules, reasons)


def _record(result: Classification, rules: MaturityRules, reasons: Mapping[str, str]) -> dict[str, Any]:
    """One row of the table but its keys."""
    record: dict[str, Any] = {"level": result.level, "level_min": result.level_min, "level_max": result.level_max}
    record.update({rules.counter_column(c): result.counts[c] for c in rules.counters})
    record.update(
        n_missing_directives=len(result.missing_directives),
        rules_matched=";".join(result.rules_matched) or None,
        conflict=result.conflict,
    )
    record.update({column: describe(result, rules, lang) or None for column, lang in reasons.items()})
    return record


def _classified_exact(scores: pd.DataFrame, rules: MaturityRules, reasons: Mapping[str, str]) -> pd.DataFrame:
    """:func:`_classified` one respondent at a time with :class:`~fractions.Fraction` means: the oracle."""
    open_means = _open_means(scores, rules)
    records = []
    for (rid, year), means in exact_means(scores).items():
        result = classify(means, rules, open_means.get((rid, year)))
        records.append({"respondent_id": rid, "fiscal_year": year, **_record(result, rules, reasons)})
    return _frame(records, rules, reasons)


def _frame(records: list[dict[str, Any]], rules: MaturityRules, reasons: Mapping[str, str]) -> pd.DataFrame:
    """The classification table from its rows, typed and sorted."""
    count_columns = [rules.counter_column(c) for c in rules.counters]
    columns = [
        *KEYS,
        "level",
        "level_min",
        "level_max",
        *count_columns,
        "n_missing_directives",
        "rules_matched",
        "conflict",
        *reasons,
    ]
    frame = pd.DataFrame(records, columns=columns)
    dtypes: dict[str, Any] = {
        "respondent_id": "str",
        "fiscal_year": "Int64",
        "level": "str",
        "level_min": "str",
        "level_max": "str",
        "n_missing_directives": "Int64",
        "rules_matched": "str",
        "conflict": "boolean",
    }
    dtypes.update(dict.fromkeys(count_columns, "Int64"))
    dtypes.update(dict.fromkeys(reasons, "str"))
    frame = pd.DataFrame(
        {
            c: pd.array(frame[c].astype("object").where(frame[c].notna(), None).tolist(), dtype=dtypes[c])
            for c in columns
        }
    )
    return frame.sort_values(KEYS, kind="stable").reset_index(drop=True)


def _open_means(
    scores: pd.DataFrame, rules: MaturityRules
) -> dict[tuple[str, int], dict[int, frozenset[Fraction | None]]]:
    """For respondent-years with invalid answers: the possible mean of each directive that has some."""
    column = f"n_{INVALID}"
    if column not in scores.columns:
        return {}
    rows = scores[scores[column].fillna(0) > 0]
    out: dict[tuple[str, int], dict[int, frozenset[Fraction | None]]] = {}
    for rid, year, directive, total, n, k in zip(
        rows["respondent_id"],
        rows["fiscal_year"],
        rows["directive"],
        rows["score_sum"],
        rows["n_answered"],
        rows[column],
        strict=True,
    ):
        total = 0 if pd.isna(total) else int(total)
        out.setdefault((str(rid), int(year)), {})[int(directive)] = possible_means(total, int(n), int(k), rules)
    return out


def maturity_table(study: Study) -> pd.DataFrame:
    """The ``maturity`` table of ``study``: one row per self-assessed respondent and year.

    The one classification of the toolkit: the ingest writes it beside the tidy tables and a
    :class:`~analysis.study.load.Study` holds it (read back, or derived by
    :func:`~analysis.study.load.study_from_tables`), so every report and analysis reads the same
    levels. Columns as :func:`classify_scores` (``reason`` in English), then ``reason_ja``: the
    table is written once, for reports in either language.

    Only respondents with self-assessment rows are classified: a user company that was
    interviewed but did not self-assess has no level (it is not "unclassified"), so every
    table by maturity counts the same companies as the level distribution.
    """
    sa = study.tables.get("self_assessment")
    if sa is None:
        sa = pd.DataFrame(
            columns=["respondent_id", "fiscal_year", "directive", "question_id", "score", "missing_reason"]
        )
    scores = directive_scores(sa, study.codebook)
    return _classified(scores, rules_from_codebook(study.codebook), {"reason": "en", "reason_ja": "ja"})


def level_counts(maturity: pd.DataFrame, levels: Sequence[str]) -> pd.Series:
    """Respondents per level of ``maturity``: ``levels`` in order, then :data:`UNCLASSIFIED`.

    A row without a level, or with a level outside ``levels``, counts as unclassified, so the
    counts add up to the rows of ``maturity`` (a table as classified, with NA, or as loaded, with
    ``unclassified``).
    """
    level = maturity["level"].astype("object")
    counts = [int((level == code).sum()) for code in levels]
    counts.append(len(level) - sum(counts))
    return pd.Series(counts, index=[*levels, UNCLASSIFIED], dtype="Int64")


def _change(before: object, after: object, levels: Sequence[str]) -> int:
    """+1 when ``after`` is a higher level than ``before``, -1 lower, 0 same or not comparable."""
    if not isinstance(before, str) or not isinstance(after, str) or before == after:
        return 0  # unclassified (NA) on either side is not comparable
    return 1 if levels.index(after) < levels.index(before) else -1


def sensitivity(
    scores: pd.DataFrame, codebook: Codebook, delta: Fraction | float = DEFAULT_DELTA, *, list_changed: bool = True
) -> pd.DataFrame:
    """How many respondents change level when thresholds move by ±``delta``.

    One row per scenario: baseline, each threshold moved down and up alone, and all together.
    Columns: ``scenario``, one ``<name>_threshold`` per threshold, ``n_<level>`` per level,
    ``n_unclassified``, ``n_respondents``, ``n_changed``, ``n_up``, ``n_down`` (a higher or lower
    level than the baseline; changes to or from unclassified count in ``n_changed`` only) and,
    with ``list_changed``, ``changed`` (``id (year): before>after`` for every change: a list of
    companies, which grows with the study).
    """
    delta = _fraction(delta)
    base = rules_from_codebook(codebook)
    names = [name for name, _ in base.thresholds]
    scenarios: list[tuple[str, dict[str, Fraction]]] = [("baseline", {})]
    for name in names:
        scenarios += [(f"{name} -{_number(delta)}", {name: -delta}), (f"{name} +{_number(delta)}", {name: delta})]
    scenarios += [
        (f"all -{_number(delta)}", dict.fromkeys(names, -delta)),
        (f"all +{_number(delta)}", dict.fromkeys(names, delta)),
    ]
    baseline = classify_scores(scores, base)
    rows = []
    for label, shift in scenarios:
        rules = base.shifted(shift)
        table = classify_scores(scores, rules)
        merged = baseline[[*KEYS, "level"]].merge(table[[*KEYS, "level"]], on=KEYS, suffixes=("_base", ""))
        changed = merged[merged["level_base"].fillna(UNCLASSIFIED) != merged["level"].fillna(UNCLASSIFIED)]
        moves = [_change(b, a, base.levels) for b, a in zip(changed["level_base"], changed["level"], strict=True)]
        row: dict[str, Any] = {"scenario": label}
        row.update({f"{name}_threshold": float(rules.threshold(name)) for name in names})
        row.update({f"n_{level}": int((table["level"] == level).sum()) for level in base.levels})
        row.update(
            n_unclassified=int(table["level"].isna().sum()),
            n_respondents=len(table),
            n_changed=len(changed),
            n_up=moves.count(1),
            n_down=moves.count(-1),
        )
        if list_changed:
            row["changed"] = "; ".join(
                f"{r} ({y}): {b if pd.notna(b) else UNCLASSIFIED}>{a if pd.notna(a) else UNCLASSIFIED}"
                for r, y, b, a in zip(
                    changed["respondent_id"],
                    changed["fiscal_year"],
                    changed["level_base"],
                    changed["level"],
                    strict=True,
                )
            )
        rows.append(row)
    return pd.DataFrame(rows)


# -- year over year ---------------------------------------------------------------------------


def _year(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    return frame[frame["fiscal_year"] == year]


def transition_matrix(maturity: pd.DataFrame, from_year: int, to_year: int, levels: Sequence[str]) -> pd.DataFrame:
    """Counts of respondents present in both years by level in ``from_year`` (rows) and ``to_year``.

    Columns: ``from_level`` then one column per level of ``levels`` plus ``unclassified``, and ``total``.
    """
    categories = [*levels, UNCLASSIFIED]
    pairs = _year(maturity, from_year)[["respondent_id", "level"]].merge(
        _year(maturity, to_year)[["respondent_id", "level"]], on="respondent_id", suffixes=("_from", "_to")
    )
    counts = pd.crosstab(
        pd.Categorical(pairs["level_from"].fillna(UNCLASSIFIED), categories),
        pd.Categorical(pairs["level_to"].fillna(UNCLASSIFIED), categories),
        dropna=False,
    )
    counts = counts.reindex(index=categories, columns=categories, fill_value=0).astype("int64")
    counts.columns = list(categories)
    counts["total"] = counts.sum(axis=1)
    return counts.rename_axis("from_level").reset_index()


def one_year_only(maturity: pd.DataFrame, from_year: int, to_year: int) -> pd.DataFrame:
    """Respondents present in one of the two years only: ``respondent_id``, ``fiscal_year``, ``level``."""
    first, second = _year(maturity, from_year), _year(maturity, to_year)
    only = pd.concat(
        [
            first[~first["respondent_id"].isin(second["respondent_id"])],
            second[~second["respondent_id"].isin(first["respondent_id"])],
        ]
    )
    return only[[*KEYS, "level"]].sort_values([*KEYS], kind="stable").reset_index(drop=True)


def directive_change(scores: pd.DataFrame, from_year: int, to_year: int) -> pd.DataFrame:
    """Per respondent present in both years and directive: ``mean_from``, ``mean_to``, ``change``."""
    a = _year(scores, from_year)[["respondent_id", "directive", "mean"]]
    b = _year(scores, to_year)[["respondent_id", "directive", "mean"]]
    both = a.merge(b, on=["respondent_id", "directive"], suffixes=("_from", "_to"))
    both["change"] = both["mean_to"] - both["mean_from"]
    return both.sort_values(["respondent_id", "directive"], kind="stable").reset_index(drop=True)


def directive_change_summary(change: pd.DataFrame) -> pd.DataFrame:
    """Per directive: ``n`` (answered in both years), ``mean_change``, ``n_up``, ``n_same``, ``n_down``."""
    known = change.dropna(subset=["change"])
    grouped = known.groupby("directive", sort=True)["change"]
    out = pd.DataFrame(
        {
            "n": grouped.size(),
            "mean_change": grouped.mean().astype("float64"),
            "n_up": grouped.apply(lambda s: int((s > 0).sum())),
            "n_same": grouped.apply(lambda s: int((s == 0).sum())),
            "n_down": grouped.apply(lambda s: int((s < 0).sum())),
        }
    )
    directives = sorted(int(d) for d in change["directive"].dropna().unique())
    out = out.reindex(directives)
    out[["n", "n_up", "n_same", "n_down"]] = out[["n", "n_up", "n_same", "n_down"]].fillna(0).astype("int64")
    return out.rename_axis("directive").reset_index()
