"""Level bounds: the range of maturity levels an unclassified company could still reach.

A company left unclassified because of unanswered directives or invalid answers is not "no
information": the classification keeps the lowest and highest level those answers leave
reachable (``level_min``, ``level_max`` of the maturity table). Here the range gets a name, in a
machine form (``B..A``) and in words from the codebook (「B以上」, "B or better"), and unclassified
companies are counted per range, with rows fixed by the rules so that which rows a table has
tells nothing about the companies.

A range whose ``level_min`` is NA is one where some answers would meet no rule at all: the
company could end up with no level. Its machine form starts at ``none`` (``none..B``) and its
words say "or no level" (「B以下または該当レベルなし」); with ``level_max`` NA too no level is
reachable whatever the answers (``none``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.maturity.classification import UNCLASSIFIED, MaturityRules

__all__ = ["NO_LEVEL", "LevelRange", "bound_counts", "level_range", "level_ranges", "no_level_possible"]

NO_LEVEL = "none"
LevelRange = tuple[str | None, str | None]  # (level_min, level_max); None: no level


def _level(value: object) -> str | None:
    """A level read from a maturity table cell: NA, empty and ``unclassified`` are no level."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    text = str(value)
    return None if text in ("", UNCLASSIFIED) else text


def _checked(level_min: object, level_max: object, levels: Sequence[str]) -> LevelRange:
    low, high = _level(level_min), _level(level_max)
    for level in (low, high):
        if level is not None and level not in levels:
            raise ValueError(f"{level!r} is not a level of {list(levels)}")
    if low is not None and high is None:
        raise ValueError(f"a lowest level ({low}) without a highest one")
    if low is not None and high is not None and levels.index(low) < levels.index(high):
        raise ValueError(f"lowest level {low} is above highest level {high} (levels {list(levels)}, best first)")
    return low, high


def level_range(
    level_min: object, level_max: object, levels: Sequence[str], words: Mapping[str, str] | None = None
) -> str:
    """Name the range from ``level_min`` to ``level_max`` (``levels`` best first).

    Parameters
    ----------
    level_min, level_max
        The lowest and highest reachable level (NA, empty or ``unclassified``: no level).
    levels
        The rules' levels, best first (:attr:`MaturityRules.levels`).
    words
        The codebook's words of one language (``codebook.words(lang, "maturity")``); without
        them the machine form.

    Returns
    -------
    str
        Machine form: ``B..A`` (lowest..highest), ``none..B`` (B at best, or no level), ``none``
        (no level reachable), or the level itself when both ends agree. Words: 「B以上」 when
        the highest level is the best one, 「C〜B」 otherwise; 「B以下または該当レベルなし」
        (「Cまたは該当レベルなし」 when B is the lowest level) and 「該当レベルなし」.
    """
    low, high = _checked(level_min, level_max, levels)
    if words is None:
        if high is None:
            return NO_LEVEL
        return high if low == high else f"{low or NO_LEVEL}..{high}"
    if low is not None and low == high:
        return low
    if high is None:
        key = "range:none"
    elif low is None:
        key = "range:or_none" if high == levels[-1] else "range:at_most_or_none"
    else:
        key = "range:at_least" if high == levels[0] else "range:between"
    return words[key].replace("{min}", low or "").replace("{max}", high or "")


def no_level_possible(rules: MaturityRules) -> bool:
    """Whether some complete set of directive means meets no rule (a company could get no level).

    Every directive has a mean or is open in a classification, so the cases are complete
    profiles; one mean per interval between thresholds stands for all (as in
    :meth:`MaturityRules.representatives`).
    """
    profiles = itertools.combinations_with_replacement(rules.representatives(), rules.n_directives)
    return any(not rules.matched(profile) for profile in profiles)


def level_ranges(levels: Sequence[str], no_level: bool = True) -> tuple[LevelRange, ...]:
    """Every range an unclassified company can have, in a fixed order.

    Pairs of different levels by their highest level, then their lowest, best first (B..A, C..A,
    C..B); then, when ``no_level`` (:func:`no_level_possible`), the ranges that may end in no
    level (none..A, none..B, none..C) and no level at all (none). Only the levels decide the
    rows, never the companies.
    """
    pairs: list[LevelRange] = [(low, high) for i, high in enumerate(levels) for low in levels[i + 1 :]]
    if no_level:
        pairs += [(None, high) for high in levels]
        pairs.append((None, None))
    return tuple(pairs)


def bound_counts(maturity: pd.DataFrame, levels: Sequence[str], no_level: bool = True) -> pd.Series:
    """Unclassified respondents of ``maturity`` per range of :func:`level_ranges`, zeros included.

    Unclassified as in :func:`~analysis.maturity.classification.level_counts` (no level, or one
    outside ``levels``), so the counts add up to its unclassified count. Indexed by the machine
    form of each range (:func:`level_range`).

    Raises
    ------
    ValueError
        When an unclassified row's range is not one of the rows (a decided range, or one that
        ends in no level while ``no_level`` is false): the table does not come from these rules.
    """
    ranges = level_ranges(levels, no_level)
    names = [level_range(low, high, levels) for low, high in ranges]
    counts = dict.fromkeys(names, 0)
    unclassified = ~maturity["level"].astype("object").isin(list(levels))
    for low, high in zip(maturity.loc[unclassified, "level_min"], maturity.loc[unclassified, "level_max"], strict=True):
        name = level_range(low, high, levels)
        if name not in counts:
            raise ValueError(f"an unclassified company with range {name!r}: not one of {names}")
        counts[name] += 1
    return pd.Series(list(counts.values()), index=names, dtype="Int64")
