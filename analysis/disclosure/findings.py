"""The published findings of the disclosure review (report 2.4(2)) as checks that can be rerun.

A check is one function decorated with :func:`finding`. It takes the disclosures of the review
year, the codebook and its thresholds as keyword arguments, and returns a :class:`FindingResult`
saying whether the finding holds and the numbers behind it. The thresholds (what "tend to",
"many", "almost nothing" mean) are read from the codebook file ``disclosure_findings.toml``,
one table per check, which also holds the finding's title as the report words it
(``title_ja``, ``title_en``); a researcher adds a check for a new study by writing one function
and one table in that file::

    @finding("name")
    def name(disclosures, codebook, *, threshold):
        ...
        return FindingResult(holds=..., evidence="...")
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.codebook import Codebook
from analysis.disclosure.review import (
    DOMESTIC,
    OVERSEAS,
    companies,
    company_depth,
    current_disclosures,
    peer_pair_summary,
)

__all__ = ["FINDINGS", "Finding", "FindingResult", "finding", "finding_parameters", "finding_title", "run_checks"]

PARAMETERS_FILE = "disclosure_findings.toml"


@dataclass(frozen=True)
class FindingResult:
    """Whether a finding holds on the data, and the numbers that say so.

    ``evidence`` is the sentence for the researcher in English and ``evidence_ja`` in Japanese
    (they name companies and small counts: internal reports only); ``numbers`` holds the same
    numbers as separate fields (counts, shares, thresholds), for machines and for checks of what a
    publication may show.
    """

    holds: bool
    evidence: str
    numbers: Mapping[str, float | int] = field(default_factory=dict)
    evidence_ja: str = ""


@dataclass(frozen=True)
class Finding:
    """A registered check: its name and function, and titles given in code (a check tried in a
    notebook); the edition's titles, when it has them, win (:func:`finding_title`)."""

    name: str
    check: Callable[..., FindingResult]
    title_ja: str = ""
    title_en: str = ""


FINDINGS: dict[str, Finding] = {}


def finding(
    name: str, *, title_ja: str = "", title_en: str = ""
) -> Callable[[Callable[..., FindingResult]], Callable[..., FindingResult]]:
    """Register the decorated function as the check ``name`` (its docstring documents it).

    The titles are read from the edition (``disclosure_findings.toml``); ``title_ja`` and
    ``title_en`` serve a check the edition does not know yet.
    """

    def register(check: Callable[..., FindingResult]) -> Callable[..., FindingResult]:
        FINDINGS[name] = Finding(name, check, title_ja, title_en)
        return check

    return register


_TITLE_KEYS = ("title_ja", "title_en")


def _document(codebook: Codebook) -> dict[str, dict[str, Any]]:
    return codebook.documents.get(PARAMETERS_FILE.removesuffix(".toml"), {})


def finding_parameters(codebook: Codebook) -> dict[str, dict[str, Any]]:
    """Thresholds of every check from the edition's ``disclosure_findings.toml`` (a new copy)."""
    return {
        name: {k: v for k, v in values.items() if k not in _TITLE_KEYS} for name, values in _document(codebook).items()
    }


def finding_title(name: str, codebook: Codebook, lang: str = "ja") -> str:
    """The finding's title as the edition words it (else as its check was registered, else its name)."""
    key = "title_ja" if lang == "ja" else "title_en"
    registered = FINDINGS.get(name)
    return str(_document(codebook).get(name, {}).get(key) or (registered and getattr(registered, key)) or name)


def run_checks(
    disclosures: pd.DataFrame,
    codebook: Codebook,
    parameters: dict[str, dict[str, Any]] | None = None,
    fiscal_year: int | None = None,
) -> pd.DataFrame:
    """Run every registered check on the review year of ``disclosures``.

    ``parameters`` overrides the codebook's thresholds per check (``{check: {key: value}}``).
    Returns one row per check: finding, title_ja, title_en, holds, evidence (English), evidence_ja and numbers (the
    result's ``numbers`` as JSON).
    """
    current = current_disclosures(disclosures, fiscal_year)
    settings = finding_parameters(codebook)
    for name, values in (parameters or {}).items():
        settings.setdefault(name, {}).update(values)
    rows = []
    for name, entry in FINDINGS.items():
        result = entry.check(current, codebook, **settings.get(name, {}))
        rows.append(
            {
                "finding": name,
                "title_ja": finding_title(name, codebook, "ja"),
                "title_en": finding_title(name, codebook, "en"),
                "holds": bool(result.holds),
                "evidence": result.evidence,
                "evidence_ja": result.evidence_ja or result.evidence,
                "numbers": json.dumps(dict(result.numbers), ensure_ascii=False, sort_keys=True),
            }
        )
    frame = pd.DataFrame(
        rows, columns=["finding", "title_ja", "title_en", "holds", "evidence", "evidence_ja", "numbers"]
    )
    return frame.astype({"holds": "bool"})


def _true(values: pd.Series) -> pd.Series:
    return values.fillna(False).astype(bool)


def _region_labels(codebook: Codebook) -> dict[str, str]:
    regions = codebook.table("regions")
    return dict(zip(regions["region"].astype(str), regions["label_ja"].astype(str), strict=True))


def _depth_labels(codebook: Codebook, depths: list[str]) -> list[str]:
    table = codebook.table("disclosure_depths")
    labels = dict(zip(table["depth"].astype(str), table["label_ja"].astype(str), strict=True))
    return [labels.get(d, d) for d in depths]


def _share(n: int, total: int) -> str:
    return f"{n}/{total} ({n / total:.0%})" if total else f"{n}/0"


# -- the findings of FY2021, report 2.4(2) -------------------------------------------------------
# Each check quotes the report's sentence and says how each of its words is read; the numbers
# (bands, shares, item and venue lists) are in disclosure_findings.toml so a reader can see and
# change the reading without touching code.
@finding("overseas_disclose_more")
def overseas_disclose_more(
    disclosures: pd.DataFrame, codebook: Codebook, *, match_low: float, match_high: float, min_matching: int
) -> FindingResult:
    """「一般に海外企業のほうが国内企業より開示が積極的な傾向がみられるが、一部国内企業は海外の同業企業と
    同程度の開示を行っている。」

    * 「一般に…積極的な傾向」: overseas companies disclose more content items per company on
      average than domestic ones (every company of the review year, silent ones included).
    * 「海外の同業企業」: an overseas company named as a peer (``peer_ids``) of the domestic one.
    * 「同程度」: a ratio band, not "at least": the domestic company discloses between
      ``match_low`` and ``match_high`` times the items of that peer, over the items coded for both.
    * 「一部国内企業」: at least ``min_matching`` domestic companies match a peer, and not all of
      the domestic companies that have a peer (a part, not the whole).
    """
    per_company = companies(disclosures, codebook)
    means = {}
    for region in (OVERSEAS, DOMESTIC):
        items = per_company.loc[per_company["region"] == region, "n_items"]
        means[region] = (float(items.mean()) if len(items) else float("nan"), len(items))
    pairs = peer_pair_summary(disclosures, codebook)
    ratio = pairs["domestic_items"] / pairs["overseas_items"].where(pairs["overseas_items"] > 0)
    matching_pairs = pairs[ratio.between(match_low, match_high)]
    matching = sorted(set(matching_pairs["domestic_id"]))
    with_peer = pairs["domestic_id"].nunique()
    more = means[OVERSEAS][0] > means[DOMESTIC][0]
    holds = bool(more) and min_matching <= len(matching) < with_peer
    pairs_listed = matching_pairs[["overseas_id", "domestic_id"]].itertuples(index=False)
    listed = ", ".join(f"{d}≈{o}" for o, d in pairs_listed) or "none"
    evidence = (
        f"items disclosed per company: overseas {means[OVERSEAS][0]:.2f} (n={means[OVERSEAS][1]}), "
        f"domestic {means[DOMESTIC][0]:.2f} (n={means[DOMESTIC][1]}); "
        f"domestic companies matching a peer ({match_low:g}–{match_high:g}× its items): "
        f"{len(matching)} of {with_peer} with a peer, need ≥{min_matching} and not all "
        f"[{listed}]"
    )
    pairs_ja = matching_pairs[["overseas_id", "domestic_id"]].itertuples(index=False)
    listed_ja = "、".join(f"{d}≈{o}" for o, d in pairs_ja)
    evidence_ja = (
        f"1社あたりの開示項目数: 海外 {means[OVERSEAS][0]:.2f} (n={means[OVERSEAS][1]})、"
        f"国内 {means[DOMESTIC][0]:.2f} (n={means[DOMESTIC][1]})。同業の海外企業と同程度"
        f"({match_low:g}〜{match_high:g}倍の項目数)の国内企業: 同業企業のある {with_peer} 社中 "
        f"{len(matching)} 社(基準: {min_matching} 社以上、かつ全社ではない)"
        f"[{listed_ja or 'なし'}]"
    )
    return FindingResult(
        holds,
        evidence,
        evidence_ja=evidence_ja,
        numbers={
            "mean_items_overseas": means[OVERSEAS][0],
            "n_overseas": means[OVERSEAS][1],
            "mean_items_domestic": means[DOMESTIC][0],
            "n_domestic": means[DOMESTIC][1],
            "n_matching": len(matching),
            "n_domestic_with_peer": int(pairs["domestic_id"].nunique()),
            "match_low": match_low,
            "match_high": match_high,
            "min_matching": min_matching,
        },
    )


@finding("domestic_stop_at_governance")
def domestic_stop_at_governance(
    disclosures: pd.DataFrame, codebook: Codebook, *, tend_to: float, stop_depths: list[str], measures_depths: list[str]
) -> FindingResult:
    """「国内企業はセキュリティ体制の説明までにとどまる場合が多く、海外企業は対策まで踏み込んだ内容が多い。」

    * 「セキュリティ体制の説明までにとどまる」: the deepest depth class the company reaches is in
      ``stop_depths`` (``governance`` only: a company that goes on to describe the risk has not
      stopped at the structure). Depth classes: ``disclosure_depths.csv``.
    * 「対策まで踏み込んだ」: the deepest class is in ``measures_depths``.
    * 「場合が多く」「多い」: at least ``tend_to`` of the region's companies that disclose anything.
    """
    depth = company_depth(disclosures, codebook)
    lowest = codebook.table("disclosure_depths").sort_values("order")["depth"].iloc[0]
    disclosing = depth[depth["depth"] != lowest]
    domestic = disclosing[disclosing["region"] == DOMESTIC]
    overseas = disclosing[disclosing["region"] == OVERSEAS]
    n_stop = int(domestic["depth"].isin(stop_depths).sum())
    n_measures = int(overseas["depth"].isin(measures_depths).sum())
    stop_ok = len(domestic) > 0 and n_stop / len(domestic) >= tend_to
    measures_ok = len(overseas) > 0 and n_measures / len(overseas) >= tend_to
    evidence = (
        f"domestic stopping at {'/'.join(stop_depths)}: {_share(n_stop, len(domestic))}; "
        f"overseas going on to {'/'.join(measures_depths)}: {_share(n_measures, len(overseas))}; "
        f"threshold ≥{tend_to:.0%} of companies disclosing anything"
    )
    evidence_ja = (
        f"{'・'.join(_depth_labels(codebook, stop_depths))}にとどまる国内企業: {_share(n_stop, len(domestic))}。"
        f"{'・'.join(_depth_labels(codebook, measures_depths))}踏み込んだ海外企業: "
        f"{_share(n_measures, len(overseas))}。基準: 何らかを開示する企業の{tend_to:.0%}以上"
    )
    return FindingResult(
        bool(stop_ok and measures_ok),
        evidence,
        evidence_ja=evidence_ja,
        numbers={
            "n_domestic_stop": n_stop,
            "n_domestic": len(domestic),
            "n_overseas_measures": n_measures,
            "n_overseas": len(overseas),
            "tend_to": tend_to,
        },
    )


@finding("large_cap_almost_nothing")
def large_cap_almost_nothing(
    disclosures: pd.DataFrame,
    codebook: Codebook,
    *,
    almost_nothing_max_items: int,
    min_companies: int,
    investor_venues: list[str],
) -> FindingResult:
    """「世界的に著名な企業であっても、投資家向けにサイバーセキュリティ関連情報をほとんど開示していない企業もある。」

    * 「世界的に著名な企業」: companies coded ``large_cap``.
    * 「投資家向けに」: items disclosed in a venue of ``investor_venues`` (statutory and investor
      reports, not a sustainability report or the web site); a disclosed item whose venue is not
      coded counts as for investors, so missing venues cannot make the finding hold.
    * 「ほとんど開示していない」: at most ``almost_nothing_max_items`` such items.
    * 「企業もある」: at least ``min_companies`` companies.
    """
    per_company = companies(disclosures, codebook)
    shown = disclosures[_true(disclosures["disclosed"])]
    to_investors = shown[shown["venue"].isna() | shown["venue"].isin(investor_venues)]
    counts = to_investors.groupby("company_id")["item"].nunique()
    large = per_company[per_company["large_cap"].pipe(_true)].copy()
    large["n_investor"] = large["company_id"].map(counts).fillna(0).astype(int)
    quiet = large[large["n_investor"] <= almost_nothing_max_items]
    listed = (
        ", ".join(
            f"{c} ({r}, {n} items)"
            for c, r, n in zip(quiet["company_id"], quiet["region"], quiet["n_investor"], strict=True)
        )
        or "none"
    )
    evidence = (
        f"large_cap companies disclosing ≤{almost_nothing_max_items} items to investors: "
        f"{len(quiet)} of {len(large)}, need ≥{min_companies} [{listed}]"
    )
    regions = _region_labels(codebook)
    listed_ja = "、".join(
        f"{c}({regions.get(r, r)}、{n}項目)"
        for c, r, n in zip(quiet["company_id"], quiet["region"], quiet["n_investor"], strict=True)
    )
    evidence_ja = (
        f"投資家向けの開示が{almost_nothing_max_items}項目以下の大企業: {len(large)} 社中 {len(quiet)} 社"
        f"(基準: {min_companies} 社以上)[{listed_ja or 'なし'}]"
    )
    return FindingResult(
        len(quiet) >= min_companies,
        evidence,
        evidence_ja=evidence_ja,
        numbers={
            "n_quiet": len(quiet),
            "n_large_cap": len(large),
            "almost_nothing_max_items": almost_nothing_max_items,
            "min_companies": min_companies,
        },
    )


@finding("sustainability_framing")
def sustainability_framing(
    disclosures: pd.DataFrame, codebook: Codebook, *, many: float, risk_items: list[str], mitigation_items: list[str]
) -> FindingResult:
    """「国内外を問わず、「Sustainability」の一環としてサイバーセキュリティリスクとその軽減策について
    開示している企業が多い。」

    * 「「Sustainability」の一環として…リスクとその軽減策」: the company discloses an item of
      ``risk_items`` AND an item of ``mitigation_items``, both marked as framed under
      sustainability (a mark on any other item, or on the risk alone, is not enough).
    * 「企業が多い」: at least ``many`` of all the companies reviewed.
    * 「国内外を問わず」: found on both sides: at least one such company in each region.
      (Not "a majority in each region": with 「国内企業は…体制の説明までにとどまる場合が多く」, a
      majority of domestic companies cannot also describe risk and mitigation.)
    """
    disclosures = current_disclosures(disclosures)
    per_company = companies(disclosures, codebook)
    marked = disclosures[_true(disclosures["disclosed"]) & _true(disclosures["sustainability"])]
    with_risk = set(marked.loc[marked["item"].isin(risk_items), "company_id"])
    with_mitigation = set(marked.loc[marked["item"].isin(mitigation_items), "company_id"])
    framing = with_risk & with_mitigation
    parts, parts_ja, everywhere, numbers = [], [], True, {"many": many}
    regions = _region_labels(codebook)
    for region in (OVERSEAS, DOMESTIC):
        ids = per_company.loc[per_company["region"] == region, "company_id"]
        n = int(ids.isin(framing).sum())
        everywhere = everywhere and n > 0
        parts.append(f"{region} {_share(n, len(ids))}")
        parts_ja.append(f"{regions.get(region, region)} {_share(n, len(ids))}")
        numbers.update({f"n_framing_{region}": n, f"n_{region}": len(ids)})
    n_all = int(per_company["company_id"].isin(framing).sum())
    numbers.update({"n_framing": n_all, "n_companies": len(per_company)})
    holds = everywhere and len(per_company) > 0 and n_all / len(per_company) >= many
    return FindingResult(
        bool(holds),
        f"framing cyber risk and its mitigation under sustainability: "
        f"all {_share(n_all, len(per_company))} ({'; '.join(parts)}); "
        f"threshold ≥{many:.0%} of all companies, ≥1 in each region",
        numbers,
        evidence_ja="サステナビリティの一環としてリスクとその軽減策を開示する企業: "
        f"全体 {_share(n_all, len(per_company))}({'、'.join(parts_ja)})。"
        f"基準: 全企業の{many:.0%}以上、かつ各地域に1社以上",
    )


@finding("uk_all_mitigation")
def uk_all_mitigation(disclosures: pd.DataFrame, codebook: Codebook, *, country: str, item: str) -> FindingResult:
    """「海外企業のうち、英国企業はすべての企業がリスクに関するMitigationの取組を具体的に示している。」

    * 「海外企業のうち、英国企業」: overseas companies of ``country``.
    * 「すべての企業」: every one of them, and at least one (no UK company, no finding); a
      company with the item not coded counts as not showing it.
    * 「Mitigationの取組を具体的に示している」: discloses ``item`` (concrete mitigation measures).
    """
    disclosures = current_disclosures(disclosures)
    per_company = companies(disclosures, codebook)
    uk = (per_company["country"] == country) & (per_company["region"] == OVERSEAS)
    ids = list(per_company.loc[uk, "company_id"])
    rows = disclosures[(disclosures["item"] == item) & disclosures["company_id"].isin(ids)]
    showing = set(rows.loc[rows["disclosed"].pipe(_true), "company_id"])
    lacking = [c for c in ids if c not in showing]
    evidence = f"{country} companies disclosing {item}: {_share(len(showing), len(ids))}" + (
        f"; not: {', '.join(lacking)}" if lacking else ""
    )
    items = codebook.table("disclosure_items").set_index("item")["label_ja"].to_dict()
    countries = codebook.table("countries").set_index("country")["label_ja"].to_dict()
    evidence_ja = (
        f"{items.get(item, item)}を開示する{countries.get(country, country)}の企業: "
        + _share(len(showing), len(ids))
        + (f"。開示なし: {'、'.join(lacking)}" if lacking else "")
    )
    return FindingResult(
        bool(ids) and not lacking,
        evidence,
        {"n_showing": len(showing), "n_companies": len(ids)},
        evidence_ja=evidence_ja,
    )
