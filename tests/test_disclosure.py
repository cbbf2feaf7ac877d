"""Comparisons of the disclosure review on a hand-made table; every figure worked out by hand.

Companies (latest year reviewed; items governance_structure / risk_description /
mitigation_measures; "-" = not coded):

    O1 US large 2021 T T T  (2020 T T F)   peer D1 (and D1 names O1 back)
    O2 GB       2021 T T T  (2020 T F F)   peer D2
    O3 GB large 2021 T F T  (only 2021)    peer D2
    O4 DE large 2021 F F F  (2020 F F F)   peers D3 and D9 (D9 is not in the review)
    D1 JP       2021 T T T  (2020 T F F)
    D2 JP large 2021 T F F  (only 2021)
    D3 JP       2021 T T -  (2020 F F F)
    D4 JP       2020 T - -  (only 2020: its latest year is 2020)
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.disclosure import review as ds
from analysis.study.load import study_from_tables
from analysis.study.schema import conform

G, R, M = "governance_structure", "risk_description", "mitigation_measures"

PROFILES = {
    "O1": ("overseas", "US", "D1", True),
    "O2": ("overseas", "GB", "D2", False),
    "O3": ("overseas", "GB", "D2", True),
    "O4": ("overseas", "DE", "D3;D9", True),
    "D1": ("domestic", "JP", "O1", False),
    "D2": ("domestic", "JP", None, True),
    "D3": ("domestic", "JP", None, False),
    "D4": ("domestic", "JP", None, False),
}
# company -> year -> item -> (disclosed, venue, basis, sustainability)
CODING = {
    "O1": {
        2021: {
            G: (True, "form_10k", "us_sec", False),
            R: (True, "form_10k", "us_sec", False),
            M: (True, "form_10k", "us_sec", False),
        },
        2020: {
            G: (True, "form_10k", "us_sec", False),
            R: (True, "form_10k", "us_sec", False),
            M: (False, None, None, None),
        },
    },
    "O2": {
        2021: {
            G: (True, "annual_report", "uk_companies_act", False),
            R: (True, "annual_report", "uk_companies_act", False),
            M: (True, "annual_report", "uk_companies_act", True),
        },
        2020: {G: (True, "annual_report", None, False), R: (False, None, None, None), M: (False, None, None, None)},
    },
    "O3": {
        2021: {
            G: (True, "annual_report", "uk_companies_act", False),
            R: (False, None, None, None),
            M: (True, "sustainability_report", "uk_companies_act", True),
        }
    },
    # Venue and sustainability on items NOT disclosed must be ignored.
    "O4": {
        2021: {G: (False, "annual_report", None, True), R: (False, None, None, None), M: (False, None, None, None)},
        2020: {G: (False, None, None, None), R: (False, None, None, None), M: (False, None, None, None)},
    },
    "D1": {
        2021: {
            G: (True, "yuho", "jp_fiea", False),
            R: (True, "yuho", "jp_fiea", True),
            M: (True, "yuho", "jp_fiea", False),
        },
        2020: {G: (True, "yuho", "jp_fiea", False), R: (False, None, None, None), M: (False, None, None, None)},
    },
    "D2": {
        2021: {
            G: (True, "integrated_report", "voluntary", None),
            R: (False, None, None, None),
            M: (False, None, None, None),
        }
    },
    "D3": {
        2021: {G: (True, "yuho", "jp_fiea", True), R: (True, "website", "jp_fiea", None), M: (None, None, None, None)},
        2020: {G: (False, None, None, None), R: (False, None, None, None), M: (False, None, None, None)},
    },
    "D4": {2020: {G: (True, "yuho", "jp_fiea", False)}},
}


def make_disclosures(coding: dict = CODING, profiles: dict = PROFILES) -> pd.DataFrame:
    rows = []
    for company, years in coding.items():
        region, country, peers, large = profiles[company]
        for year, items in years.items():
            for item, (disclosed, venue, basis, sustainability) in items.items():
                rows.append(
                    {
                        "company_id": company,
                        "fiscal_year": year,
                        "region": region,
                        "country": country,
                        "industry": "manufacturing",
                        "peer_ids": peers,
                        "large_cap": large,
                        "item": item,
                        "disclosed": disclosed,
                        "venue": venue,
                        "basis": basis,
                        "sustainability": sustainability,
                        "source": f"d.xlsx!開示!{company}{year}{item}",
                    }
                )
    return conform("disclosures", pd.DataFrame(rows))


def fisher_two_sided(a: int, b: int, c: int, d: int) -> float:
    """Fisher's exact test from the hypergeometric law, written out (not scipy)."""
    row1, col1, n = a + b, a + c, a + b + c + d

    def prob(x: int) -> float:
        return math.comb(col1, x) * math.comb(n - col1, row1 - x) / math.comb(n, row1)

    observed = prob(a)
    support = range(max(0, row1 + col1 - n), min(row1, col1) + 1)
    return sum(prob(x) for x in support if prob(x) <= observed * (1 + 1e-7))


def binomial_two_sided(k: int, n: int) -> float:
    """Exact two-sided binomial test at 1/2, written out (symmetric: double the smaller tail)."""
    tail = sum(math.comb(n, i) for i in range(0, min(k, n - k) + 1)) / 2**n
    return min(1.0, 2 * tail)


@pytest.fixture
def disclosures() -> pd.DataFrame:
    return make_disclosures()


def row(frame: pd.DataFrame, column: str, key: str) -> pd.Series:
    hit = frame[frame[column] == key]
    assert len(hit) == 1, f"{key} appears {len(hit)} times"
    return hit.iloc[0]


def test_hand_written_tests_agree_with_known_values():
    # Guards the two reference functions the rest of this file relies on.
    assert fisher_two_sided(3, 1, 1, 3) == pytest.approx(34 / 70)
    assert fisher_two_sided(4, 0, 3, 1) == pytest.approx(1.0)
    assert binomial_two_sided(2, 2) == pytest.approx(0.5)
    assert binomial_two_sided(0, 5) == pytest.approx(1 / 16)


def test_current_takes_each_companys_latest_year_or_the_given_year(disclosures):
    latest = ds.current_disclosures(disclosures)
    years = latest.groupby("company_id")["fiscal_year"].unique().map(list).to_dict()
    assert years == {
        "D1": [2021],
        "D2": [2021],
        "D3": [2021],
        "D4": [2020],
        "O1": [2021],
        "O2": [2021],
        "O3": [2021],
        "O4": [2021],
    }
    assert set(ds.current_disclosures(disclosures, 2020)["company_id"]) == {"O1", "O2", "O4", "D1", "D3", "D4"}
    assert len(disclosures) == 37  # the input is not changed
    assert str(disclosures["region"].dtype) == "str"


def test_companies_profile_and_items_counted(codebook, disclosures):
    per_company = ds.companies(disclosures, codebook)
    assert list(per_company["company_id"]) == ["D1", "D2", "D3", "D4", "O1", "O2", "O3", "O4"]
    assert dict(zip(per_company["company_id"], per_company["n_items"], strict=True)) == {
        "D1": 3,
        "D2": 1,
        "D3": 2,
        "D4": 1,
        "O1": 3,
        "O2": 3,
        "O3": 2,
        "O4": 0,
    }


def test_items_by_region_counts_denominators_and_fisher(codebook, disclosures):
    table = ds.items_by_region(disclosures, codebook)
    assert list(table["item"])[:3] == [G, R, M] and len(table) == 10
    # item: (domestic n, N), (overseas n, N)
    expected = {G: ((4, 4), (3, 4)), R: ((2, 3), (2, 4)), M: ((1, 2), (3, 4))}
    for item, ((dn, dN), (on, oN)) in expected.items():
        got = row(table, "item", item)
        assert (got["n_domestic"], got["total_domestic"], got["n_overseas"], got["total_overseas"]) == (dn, dN, on, oN)
        assert got["share_domestic"] == pytest.approx(dn / dN)
        assert got["share_overseas"] == pytest.approx(on / oN)
        assert got["p_value"] == pytest.approx(fisher_two_sided(dn, dN - dn, on, oN - on))
    uncoded = row(table, "item", "insurance")
    assert uncoded["total_domestic"] == 0 and math.isnan(uncoded["share_domestic"]) and math.isnan(uncoded["p_value"])


def test_items_by_region_for_a_given_year(codebook, disclosures):
    table = ds.items_by_region(disclosures, codebook, fiscal_year=2021)
    got = row(table, "item", G)
    assert (got["n_domestic"], got["total_domestic"]) == (3, 3)  # D4 was not reviewed in 2021
    assert got["p_value"] == pytest.approx(fisher_two_sided(3, 0, 3, 1))


def test_study_tables_with_categoricals_give_the_same_result(codebook, disclosures):
    study = study_from_tables({"disclosures": disclosures}, codebook)
    assert isinstance(study.disclosures["region"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(
        ds.items_by_region(study.disclosures, codebook), ds.items_by_region(disclosures, codebook)
    )


def test_items_by_country(codebook, disclosures):
    table = ds.items_by_country(disclosures, codebook)
    assert list(dict.fromkeys(table["country"])) == ["JP", "US", "GB", "DE"]
    gb = table[(table["country"] == "GB")].set_index("item")
    assert (gb.loc[M, "n"], gb.loc[M, "total"]) == (2, 2)
    assert (gb.loc[R, "n"], gb.loc[R, "total"], gb.loc[R, "share"]) == (1, 2, 0.5)
    jp = table[(table["country"] == "JP")].set_index("item")
    assert (jp.loc[M, "n"], jp.loc[M, "total"]) == (1, 2)


def test_company_depth_is_the_deepest_class_reached(codebook, disclosures):
    depth = ds.company_depth(disclosures, codebook).set_index("company_id")["depth"].to_dict()
    assert depth == {
        "D1": "measures",
        "D2": "governance",
        "D3": "risk",
        "D4": "governance",
        "O1": "measures",
        "O2": "measures",
        "O3": "measures",
        "O4": "none",
    }


def test_going_on_to_measures_takes_min_share_of_the_measures_items(codebook):
    # disclosure_depths.csv: measures needs at least half of the measures items reviewed;
    # governance and risk need one item. Measures items here: mitigation, training, insurance.
    t, i = "training", "insurance"
    coding = {
        "X1": {G: True, M: True, t: False, i: False},  # 1/3 measures -> governance
        "X2": {G: True, R: True, M: True, t: True, i: False},  # 2/3 -> measures
        "X3": {t: True, M: False, i: False},  # 1/3 and nothing else -> governance
        "X4": {M: True, t: None, i: False},  # 1/2 of those reviewed -> measures
        "X5": {R: True, M: False},  # 0/1 -> risk
    }
    rows = [
        {"company_id": c, "fiscal_year": 2021, "region": "domestic", "country": "JP", "item": item, "disclosed": d}
        for c, items in coding.items()
        for item, d in items.items()
    ]
    depth = ds.company_depth(conform("disclosures", pd.DataFrame(rows)), codebook)
    assert dict(zip(depth["company_id"], depth["depth"], strict=True)) == {
        "X1": "governance",
        "X2": "measures",
        "X3": "governance",
        "X4": "measures",
        "X5": "risk",
    }
    assert codebook.table("disclosure_depths").set_index("depth").loc["measures", "min_share"] == "0.5"


def test_depth_by_region(codebook, disclosures):
    table = ds.depth_by_region(disclosures, codebook)
    assert list(table["depth"]) == ["none", "governance", "risk", "measures"]
    expected = {"none": (0, 1), "governance": (2, 0), "risk": (1, 0), "measures": (1, 3)}
    for depth, (domestic, overseas) in expected.items():
        got = row(table, "depth", depth)
        assert (got["n_domestic"], got["total_domestic"], got["n_overseas"], got["total_overseas"]) == (
            domestic,
            4,
            overseas,
            4,
        )
        assert got["p_value"] == pytest.approx(fisher_two_sided(domestic, 4 - domestic, overseas, 4 - overseas))


def test_venues_and_bases_count_companies_over_disclosed_items_only(codebook, disclosures):
    venues = ds.venues_by_region(disclosures, codebook).set_index("venue")
    assert venues.loc["yuho", ["n_domestic", "total_domestic"]].tolist() == [3, 4]
    assert venues.loc["website", "n_domestic"] == 1
    assert venues.loc["annual_report", ["n_overseas", "total_overseas"]].tolist() == [2, 4]  # not O4
    assert venues.loc["sustainability_report", "n_overseas"] == 1
    assert venues.loc["form_10k", "p_value"] == pytest.approx(fisher_two_sided(0, 4, 1, 3))
    bases = ds.bases_by_region(disclosures, codebook).set_index("basis")
    assert bases.loc["jp_fiea", "n_domestic"] == 3 and bases.loc["uk_companies_act", "n_overseas"] == 2
    assert bases.loc["us_sec", "n_domestic"] == 0


def test_sustainability_share(codebook, disclosures):
    table = ds.sustainability_by_region(disclosures, codebook)
    got = table.iloc[0]
    # D1 (risk) and D3 (governance); O2 and O3; O4's mark sits on an item it does not disclose.
    assert (got["n_domestic"], got["total_domestic"], got["n_overseas"], got["total_overseas"]) == (2, 4, 2, 4)
    assert got["p_value"] == pytest.approx(1.0)


def test_peer_pairs_from_either_side_and_only_reviewed_companies(codebook, disclosures):
    pairs = ds.peer_pairs(disclosures, codebook)
    assert list(pairs.itertuples(index=False, name=None)) == [("O1", "D1"), ("O2", "D2"), ("O3", "D2"), ("O4", "D3")]


def test_peer_pair_summary_and_exact_mcnemar(codebook, disclosures):
    table = ds.peer_pair_summary(disclosures, codebook).set_index(["overseas_id", "domestic_id"])
    columns = ["compared", "overseas_items", "domestic_items", "both", "overseas_only", "domestic_only", "neither"]
    assert table.loc[("O1", "D1"), columns].tolist() == [3, 3, 3, 3, 0, 0, 0]
    assert math.isnan(table.loc[("O1", "D1"), "p_value"])  # no discordant item
    assert table.loc[("O2", "D2"), columns].tolist() == [3, 3, 1, 1, 2, 0, 0]
    assert table.loc[("O2", "D2"), "p_value"] == pytest.approx(binomial_two_sided(2, 2))
    assert table.loc[("O3", "D2"), columns].tolist() == [3, 2, 1, 1, 1, 0, 1]
    assert table.loc[("O3", "D2"), "p_value"] == pytest.approx(1.0)
    # D3's mitigation is not coded: compared on two items only.
    assert table.loc[("O4", "D3"), columns].tolist() == [2, 0, 2, 0, 0, 2, 0]
    assert table.loc[("O4", "D3"), "p_value"] == pytest.approx(binomial_two_sided(0, 2))


def test_peer_item_tests(codebook, disclosures):
    table = ds.peer_item_tests(disclosures, codebook).set_index("item")
    columns = ["compared", "both", "overseas_only", "domestic_only", "neither"]
    assert table.loc[G, columns].tolist() == [4, 3, 0, 1, 0]
    assert table.loc[G, "p_value"] == pytest.approx(binomial_two_sided(0, 1))
    assert table.loc[R, columns].tolist() == [4, 1, 1, 1, 1]
    assert table.loc[M, columns].tolist() == [3, 1, 2, 0, 0]
    assert table.loc[M, "p_value"] == pytest.approx(binomial_two_sided(2, 2))
    assert table.loc["insurance", "compared"] == 0 and math.isnan(table.loc["insurance", "p_value"])


def test_trend_counts_each_company_in_every_year_it_was_reviewed(codebook, disclosures):
    trend = ds.trend_by_region(disclosures, codebook).set_index(["fiscal_year", "region", "item"])
    expected = {
        (2020, "domestic", G): (2, 3),
        (2020, "domestic", R): (0, 2),
        (2020, "domestic", M): (0, 2),
        (2020, "overseas", G): (2, 3),
        (2020, "overseas", R): (1, 3),
        (2020, "overseas", M): (0, 3),
        (2021, "domestic", G): (3, 3),
        (2021, "domestic", R): (2, 3),
        (2021, "domestic", M): (1, 2),
        (2021, "overseas", G): (3, 4),
        (2021, "overseas", R): (2, 4),
        (2021, "overseas", M): (3, 4),
    }
    for key, (n, total) in expected.items():
        assert trend.loc[key, ["n", "total"]].tolist() == [n, total], key
        assert trend.loc[key, "share"] == pytest.approx(n / total)
    assert sorted(set(trend.index.get_level_values("fiscal_year"))) == [2020, 2021]


def test_heatmap_matrix_grouped_by_region_and_country(codebook, disclosures):
    matrix = ds.heatmap_matrix(disclosures, codebook)
    assert list(matrix.index.get_level_values("company_id")) == ["D1", "D2", "D3", "D4", "O1", "O2", "O3", "O4"]
    assert list(matrix.index.get_level_values("country")) == ["JP"] * 4 + ["US", "GB", "GB", "DE"]
    assert list(matrix.columns)[:3] == [G, R, M] and matrix.shape == (8, 10)
    assert matrix.loc[("overseas", "GB", "O3"), [G, R, M]].tolist() == [1.0, 0.0, 1.0]
    assert math.isnan(matrix.loc[("domestic", "JP", "D3"), M])
    assert matrix.loc[("domestic", "JP", "D4"), G] == 1.0 and math.isnan(matrix.loc[("domestic", "JP", "D4"), R])


def test_empty_table_gives_empty_results(codebook):
    empty = conform("disclosures", pd.DataFrame())
    assert ds.companies(empty, codebook).empty
    assert ds.items_by_region(empty, codebook)["total_domestic"].eq(0).all()
    assert ds.peer_pair_summary(empty, codebook).empty
    assert ds.heatmap_matrix(empty, codebook).empty
    assert (ds.trend_by_region(empty, codebook)).empty
