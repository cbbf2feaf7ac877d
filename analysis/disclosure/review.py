"""Comparisons of the disclosure review (report 2.4): overseas companies against domestic ones.

Every function takes the tidy ``disclosures`` table (one row per company x fiscal year x
content item) and returns a new frame of codes and numbers; labels are added by the report.

Conventions, the same everywhere:

* Cross-sectional comparisons use the *review year*: each company's latest fiscal year
  reviewed, or ``fiscal_year`` when given (:func:`current_disclosures`).
* An item whose ``disclosed`` is empty (or that has no row) is not known for that company: it
  is left out of that item's denominator. Company-level measures (items disclosed, depth,
  venue, basis, sustainability) count only items coded as disclosed.
* Depth of disclosure is the deepest depth class a company reaches (:func:`company_depth`;
  classes and thresholds in ``disclosure_depths.csv``).
* Counts are companies, shown beside shares with their denominators; tests are exact:
  Fisher's exact test (two-sided) between the two regions, and the exact McNemar test
  (two-sided binomial test on the discordant pairs) between an overseas company and its
  domestic peers.
"""

from __future__ import annotations

from typing import Protocol, cast

import pandas as pd
from scipy.stats import binomtest, fisher_exact

from analysis.codebook import Codebook

__all__ = [
    "DOMESTIC",
    "OVERSEAS",
    "bases_by_region",
    "companies",
    "company_depth",
    "current_disclosures",
    "depth_by_region",
    "fisher_p",
    "heatmap_matrix",
    "items_by_country",
    "items_by_region",
    "mcnemar_exact_p",
    "peer_item_comparison",
    "peer_item_tests",
    "peer_pair_summary",
    "peer_pairs",
    "sustainability_by_region",
    "trend_by_region",
    "venues_by_region",
]

# Region codes of the tidy table (analysis.study.schema: region is domestic/overseas).
DOMESTIC = "domestic"
OVERSEAS = "overseas"

_COMPANY_COLUMNS = ["company_id", "region", "country", "industry", "peer_ids", "large_cap"]


# -- exact tests ----------------------------------------------------------------------------
class _FisherResult(Protocol):
    # scipy builds fisher_exact's result class at run time, so pyright cannot see its fields.
    pvalue: float


def fisher_p(n_a: int, total_a: int, n_b: int, total_b: int) -> float:
    """Two-sided Fisher exact p of ``n_a/total_a`` against ``n_b/total_b`` (NaN if a group is empty)."""
    if total_a == 0 or total_b == 0:
        return float("nan")
    table = [[n_a, total_a - n_a], [n_b, total_b - n_b]]
    result = cast(_FisherResult, fisher_exact(table, alternative="two-sided"))
    return float(result.pvalue)


def mcnemar_exact_p(first_only: int, second_only: int) -> float:
    """Exact McNemar p: two-sided binomial test of the discordant pairs at 1/2 (NaN if none)."""
    discordant = first_only + second_only
    if discordant == 0:
        return float("nan")
    return float(binomtest(first_only, discordant, 0.5, alternative="two-sided").pvalue)


# -- selecting and reshaping ------------------------------------------------------------------
def _plain(disclosures: pd.DataFrame) -> pd.DataFrame:
    # Study tables carry ordered categoricals; comparisons work on plain codes.
    frame = disclosures.copy()
    for column in ("company_id", "region", "country", "item", "venue", "basis", "peer_ids", "industry"):
        if column in frame:
            frame[column] = frame[column].astype("str")
    return frame


def current_disclosures(disclosures: pd.DataFrame, fiscal_year: int | None = None) -> pd.DataFrame:
    """Rows of the review year: each company's latest fiscal year, or ``fiscal_year`` when given."""
    frame = _plain(disclosures)
    frame = frame[frame["fiscal_year"].notna()]
    if fiscal_year is not None:
        return frame[frame["fiscal_year"] == fiscal_year].reset_index(drop=True)
    latest = frame.groupby("company_id")["fiscal_year"].transform("max")
    return frame[frame["fiscal_year"] == latest].reset_index(drop=True)


def companies(disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None) -> pd.DataFrame:
    """One row per company of the review year with its profile and the number of items disclosed.

    Sorted by region and country in codebook order, then company id.
    """
    frame = current_disclosures(disclosures, fiscal_year)
    profile = frame.groupby("company_id", sort=False)[_COMPANY_COLUMNS[1:] + ["fiscal_year"]].first()
    disclosed = _true(frame["disclosed"])
    profile["n_items"] = disclosed.groupby(frame["company_id"]).sum().reindex(profile.index).astype("int64")
    profile["n_coded"] = frame["disclosed"].notna().groupby(frame["company_id"]).sum().reindex(profile.index)
    profile = profile.reset_index()
    return _sort_companies(profile, codebook)


def _sort_companies(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    region_rank = {r: i for i, r in enumerate(codebook.table("regions")["region"])}
    country_rank = {c: i for i, c in enumerate(codebook.table("countries")["country"])}
    keys = pd.DataFrame(
        {
            "r": frame["region"].map(region_rank).fillna(len(region_rank)),
            "c": frame["country"].map(country_rank).fillna(len(country_rank)),
            "id": frame["company_id"],
        }
    )
    order = keys.sort_values(["r", "c", "id"], kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _true(values: pd.Series) -> pd.Series:
    # An empty yes/no counts as "no" where a company-level yes needs a coded yes.
    return values.fillna(False).astype(bool)


def _regions(codebook: Codebook) -> list[str]:
    return list(codebook.table("regions")["region"])


def _items(codebook: Codebook) -> list[str]:
    return list(codebook.table("disclosure_items").sort_values("order")["item"])


def _region_comparison(flags: pd.DataFrame, keys: list[str], regions: list[str], key_name: str) -> pd.DataFrame:
    """Companies with ``value`` true per key and region, with Fisher's p between the two regions.

    ``flags`` has columns company_id, region, key, value (rows with an empty value are left out).
    """
    known = flags[flags["value"].notna()]
    rows = []
    for key in keys:
        part = known[known["key"] == key]
        row: dict[str, object] = {key_name: key}
        counts: dict[str, tuple[int, int]] = {}
        for region in regions:
            values = part.loc[part["region"] == region, "value"].astype(bool)
            n, total = int(values.sum()), int(len(values))
            counts[region] = (n, total)
            row[f"n_{region}"] = n
            row[f"total_{region}"] = total
            row[f"share_{region}"] = n / total if total else float("nan")
        if len(regions) == 2:
            a, b = regions
            row["p_value"] = fisher_p(*counts[a], *counts[b])
        else:
            row["p_value"] = float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


# -- content items --------------------------------------------------------------------------
def items_by_region(disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None) -> pd.DataFrame:
    """Each content item: companies disclosing it per region (n, total, share) and Fisher's p.

    Columns: ``item``, ``n_<region>``, ``total_<region>``, ``share_<region>`` for every region
    of the codebook, ``p_value``.
    """
    frame = current_disclosures(disclosures, fiscal_year)
    flags = frame.rename(columns={"item": "key", "disclosed": "value"})
    flags = flags[["company_id", "region", "key", "value"]]
    return _region_comparison(flags, _items(codebook), _regions(codebook), "item")


def items_by_country(disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None) -> pd.DataFrame:
    """Each content item by country: companies disclosing it (n, total, share).

    Long: one row per country reviewed and item (countries in codebook order). No test: a
    country holds one to three companies.
    """
    frame = current_disclosures(disclosures, fiscal_year)
    known = frame[frame["disclosed"].notna()]
    items = _items(codebook)
    rows = []
    reviewed = companies(disclosures, codebook, fiscal_year)[["region", "country"]].drop_duplicates()
    for _, company in reviewed.iterrows():
        part = known[known["country"] == company["country"]]
        for item in items:
            values = part.loc[part["item"] == item, "disclosed"].astype(bool)
            n, total = int(values.sum()), int(len(values))
            rows.append(
                {
                    "region": company["region"],
                    "country": company["country"],
                    "item": item,
                    "n": n,
                    "total": total,
                    "share": n / total if total else float("nan"),
                }
            )
    return pd.DataFrame(rows, columns=["region", "country", "item", "n", "total", "share"])


# -- depth ----------------------------------------------------------------------------------
def company_depth(disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None) -> pd.DataFrame:
    """Each company's depth of disclosure: the deepest depth class it reaches.

    Item depths come from ``disclosure_items.csv`` (column ``depth``); the classes, their order
    and ``min_share`` from ``disclosure_depths.csv``. A company reaches a class when it discloses
    at least one of the class's items and at least ``min_share`` of those reviewed for it. The
    first class (``none``) is for a company that discloses nothing; a company that discloses
    something but reaches no class counts in the next one (it goes no further).
    """
    depths = codebook.table("disclosure_depths").sort_values("order")
    classes = list(depths["depth"])
    min_share = dict(zip(depths["depth"], pd.to_numeric(depths["min_share"]).fillna(0.0), strict=True))
    item_depth = dict(
        zip(codebook.table("disclosure_items")["item"], codebook.table("disclosure_items")["depth"], strict=True)
    )
    frame = current_disclosures(disclosures, fiscal_year)
    known = frame[frame["disclosed"].notna()].assign(depth=lambda f: f["item"].map(item_depth))
    shown = known.assign(shown=known["disclosed"].astype(bool))
    counts = shown.groupby(["company_id", "depth"])["shown"].agg(["sum", "count"])
    # (company, depth) -> (items of that depth disclosed, items of that depth reviewed)
    reviewed_by_depth: dict[tuple[str, str], tuple[int, int]] = {
        key: (int(n), int(reviewed))
        for key, n, reviewed in zip(counts.index, counts["sum"], counts["count"], strict=True)
    }
    out = companies(disclosures, codebook, fiscal_year)

    def deepest(company: str, n_items: int) -> str:
        if n_items == 0:
            return classes[0]
        reached = classes[1]
        for depth in classes[1:]:
            if (company, depth) in reviewed_by_depth:
                n, reviewed = reviewed_by_depth[(company, depth)]
                if n >= 1 and n / reviewed >= min_share[depth]:
                    reached = depth
        return reached

    out["depth"] = [deepest(c, n) for c, n in zip(out["company_id"], out["n_items"], strict=True)]
    return out[["company_id", "region", "country", "large_cap", "n_items", "depth"]]


def depth_by_region(disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None) -> pd.DataFrame:
    """Companies per depth class and region (n, total, share), Fisher's p of that class against the rest."""
    depths = list(codebook.table("disclosure_depths").sort_values("order")["depth"])
    per_company = company_depth(disclosures, codebook, fiscal_year)
    flags = pd.DataFrame(
        [
            {"company_id": c, "region": r, "key": depth, "value": d == depth}
            for c, r, d in per_company[["company_id", "region", "depth"]].itertuples(index=False)
            for depth in depths
        ],
        columns=["company_id", "region", "key", "value"],
    )
    return _region_comparison(flags, depths, _regions(codebook), "depth")


# -- venue, basis, sustainability --------------------------------------------------------------
def _uses(
    disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None, column: str, codes: list[str], key_name: str
) -> pd.DataFrame:
    frame = current_disclosures(disclosures, fiscal_year)
    shown = frame[_true(frame["disclosed"]) & frame[column].notna()]
    used = set(zip(shown["company_id"], shown[column], strict=True))
    per_company = companies(disclosures, codebook, fiscal_year)
    flags = pd.DataFrame(
        [
            {"company_id": c, "region": r, "key": code, "value": (c, code) in used}
            for c, r in zip(per_company["company_id"], per_company["region"], strict=True)
            for code in codes
        ],
        columns=["company_id", "region", "key", "value"],
    )
    return _region_comparison(flags, codes, _regions(codebook), key_name)


def venues_by_region(disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None) -> pd.DataFrame:
    """Companies disclosing at least one item in each venue, per region (denominator: all companies)."""
    venues = list(codebook.table("disclosure_venues").sort_values("order")["venue"])
    return _uses(disclosures, codebook, fiscal_year, "venue", venues, "venue")


def bases_by_region(disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None) -> pd.DataFrame:
    """Companies citing each legal or standard basis for a disclosed item, per region."""
    bases = list(codebook.table("disclosure_bases").sort_values("order")["basis"])
    return _uses(disclosures, codebook, fiscal_year, "basis", bases, "basis")


def sustainability_by_region(
    disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None
) -> pd.DataFrame:
    """Companies framing cyber under sustainability (at least one disclosed item marked so), per region.

    One row (``measure`` = ``sustainability``); an item with an empty mark counts as not marked.
    """
    frame = current_disclosures(disclosures, fiscal_year)
    marked = _true(frame["disclosed"]) & _true(frame["sustainability"])
    framing = marked.groupby(frame["company_id"]).any()
    per_company = companies(disclosures, codebook, fiscal_year)
    flags = pd.DataFrame(
        {
            "company_id": per_company["company_id"],
            "region": per_company["region"],
            "key": "sustainability",
            "value": per_company["company_id"].map(framing).fillna(False).astype(bool),
        }
    )
    return _region_comparison(flags, ["sustainability"], _regions(codebook), "measure")


# -- overseas companies against their domestic peers --------------------------------------------
def peer_pairs(disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None) -> pd.DataFrame:
    """Pairs (``overseas_id``, ``domestic_id``) named in ``peer_ids`` of either company.

    Only pairs whose two companies are both in the review year are kept.
    """
    per_company = companies(disclosures, codebook, fiscal_year)
    region = dict(zip(per_company["company_id"], per_company["region"], strict=True))
    pairs: set[tuple[str, str]] = set()
    for company, peers in zip(per_company["company_id"], per_company["peer_ids"], strict=True):
        if not isinstance(peers, str):
            continue
        for peer in (p.strip() for p in peers.split(";")):
            kinds = (region.get(company), region.get(peer))
            if kinds == (OVERSEAS, DOMESTIC):
                pairs.add((company, peer))
            elif kinds == (DOMESTIC, OVERSEAS):
                pairs.add((peer, company))
    return pd.DataFrame(sorted(pairs), columns=["overseas_id", "domestic_id"])


def peer_item_comparison(disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None) -> pd.DataFrame:
    """Each pair and item coded for both companies: ``overseas`` and ``domestic`` disclosed (bool)."""
    frame = current_disclosures(disclosures, fiscal_year)
    known = frame[frame["disclosed"].notna()]
    coded = known[["company_id", "item", "disclosed"]].itertuples(index=False)
    shown = {(c, i): bool(d) for c, i, d in coded}
    rows = []
    for overseas, domestic in peer_pairs(disclosures, codebook, fiscal_year).itertuples(index=False):
        for item in _items(codebook):
            if (overseas, item) in shown and (domestic, item) in shown:
                rows.append(
                    {
                        "overseas_id": overseas,
                        "domestic_id": domestic,
                        "item": item,
                        "overseas": shown[(overseas, item)],
                        "domestic": shown[(domestic, item)],
                    }
                )
    return pd.DataFrame(rows, columns=["overseas_id", "domestic_id", "item", "overseas", "domestic"])


def _concordance(frame: pd.DataFrame) -> dict[str, int | float]:
    o, d = frame["overseas"].astype(bool), frame["domestic"].astype(bool)
    overseas_only, domestic_only = int((o & ~d).sum()), int((~o & d).sum())
    return {
        "compared": int(len(frame)),
        "both": int((o & d).sum()),
        "overseas_only": overseas_only,
        "domestic_only": domestic_only,
        "neither": int((~o & ~d).sum()),
        "p_value": mcnemar_exact_p(overseas_only, domestic_only),
    }


def peer_pair_summary(disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None) -> pd.DataFrame:
    """Each overseas company against each domestic peer over the items coded for both.

    Columns: overseas_id, domestic_id, compared (items), overseas_items, domestic_items, both,
    overseas_only, domestic_only, neither, p_value (exact McNemar over the items).
    """
    long = peer_item_comparison(disclosures, codebook, fiscal_year)
    rows = []
    for overseas, domestic in peer_pairs(disclosures, codebook, fiscal_year).itertuples(index=False):
        part = long[(long["overseas_id"] == overseas) & (long["domestic_id"] == domestic)]
        counts = _concordance(part)
        rows.append(
            {
                "overseas_id": overseas,
                "domestic_id": domestic,
                "compared": counts.pop("compared"),
                "overseas_items": int(part["overseas"].sum()),
                "domestic_items": int(part["domestic"].sum()),
                **counts,
            }
        )
    columns = [
        "overseas_id",
        "domestic_id",
        "compared",
        "overseas_items",
        "domestic_items",
        "both",
        "overseas_only",
        "domestic_only",
        "neither",
        "p_value",
    ]
    return pd.DataFrame(rows, columns=columns)


def peer_item_tests(disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None) -> pd.DataFrame:
    """Each item over all overseas-domestic pairs: concordance counts and exact McNemar p.

    Columns: item, compared (pairs), both, overseas_only, domestic_only, neither, p_value. An
    overseas company with two peers gives two pairs, which are not independent.
    """
    long = peer_item_comparison(disclosures, codebook, fiscal_year)
    rows = [{"item": item, **_concordance(long[long["item"] == item])} for item in _items(codebook)]
    return pd.DataFrame(
        rows, columns=["item", "compared", "both", "overseas_only", "domestic_only", "neither", "p_value"]
    )


# -- trend ----------------------------------------------------------------------------------
def trend_by_region(disclosures: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Companies disclosing each item per fiscal year and region (every year a company was reviewed).

    Long: fiscal_year, region, item, n, total, share; ``total`` is the companies reviewed that
    year in that region with the item coded.
    """
    frame = _plain(disclosures)
    frame = frame[frame["fiscal_year"].notna() & frame["disclosed"].notna()]
    rows = []
    for year in sorted(frame["fiscal_year"].unique()):
        in_year = frame[frame["fiscal_year"] == year]
        for region in _regions(codebook):
            part = in_year[in_year["region"] == region]
            for item in _items(codebook):
                values = part.loc[part["item"] == item, "disclosed"].astype(bool)
                n, total = int(values.sum()), int(len(values))
                rows.append(
                    {
                        "fiscal_year": int(year),
                        "region": region,
                        "item": item,
                        "n": n,
                        "total": total,
                        "share": n / total if total else float("nan"),
                    }
                )
    return pd.DataFrame(rows, columns=["fiscal_year", "region", "item", "n", "total", "share"])


# -- heatmap --------------------------------------------------------------------------------
def heatmap_matrix(disclosures: pd.DataFrame, codebook: Codebook, fiscal_year: int | None = None) -> pd.DataFrame:
    """Companies x items of the review year: 1.0 disclosed, 0.0 not, NaN not coded.

    Index: (region, country, company_id), grouped in codebook order; columns: items in order.
    """
    frame = current_disclosures(disclosures, fiscal_year)
    known = frame[frame["disclosed"].notna()]
    values = pd.Series(
        known["disclosed"].astype(bool).astype(float).to_numpy(),
        index=pd.MultiIndex.from_arrays([known["company_id"], known["item"]]),
    )
    wide = values.unstack() if len(values) else pd.DataFrame()
    order = companies(disclosures, codebook, fiscal_year)
    matrix = wide.reindex(index=list(order["company_id"]), columns=_items(codebook)).astype(float)
    matrix.index = pd.MultiIndex.from_frame(order[["region", "country", "company_id"]])
    matrix.columns.name = "item"
    return matrix
