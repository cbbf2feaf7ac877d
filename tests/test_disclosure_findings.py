"""The published findings of report 2.4(2) as checks: each holds on a hand-made review and
fails when the data (or a threshold) says otherwise, read literally (see each check's docstring).

Review year (each company's latest year; items governance / risk / mitigation, "-" not coded,
"s" = marked as framed under sustainability):

    O1 US large 2021 T Ts Ts   (2019: nothing; must be ignored)   peer D1
    O2 GB       2021 T Ts Ts
    O3 GB large 2021 T T  Ts
    O4 DE large 2021 F(s) F F  (the mark sits on an item not disclosed)
    D1 JP       2021 T Ts Ts   names O1 as peer
    D2 JP large 2021 T F F     names O2;O3 as peers
    D3 JP       2021 Ts Ts Ts
    D4 JP       2020 T         (reviewed in 2020 only)

Items per company: overseas 3, 3, 3, 0 (mean 2.25); domestic 3, 1, 3, 1 (mean 2.00).
Depth: O1-O3 measures; D2, D4 governance only, D1, D3 measures.
Risk and mitigation both framed under sustainability: O1, O2, D1, D3 (4 of 8 companies).
Investor venues: none coded, so every disclosed item counts as disclosed to investors.
"""

from __future__ import annotations

import copy
import re

import pandas as pd
import pytest

import analysis.disclosure.findings as df
from analysis.disclosure.findings import FindingResult, finding, finding_parameters, run_checks
from analysis.study.schema import conform

G, R, M = "governance_structure", "risk_description", "mitigation_measures"
PROFILES = {
    "O1": ["overseas", "US", "D1", True],
    "O2": ["overseas", "GB", None, False],
    "O3": ["overseas", "GB", None, True],
    "O4": ["overseas", "DE", None, True],
    "D1": ["domestic", "JP", "O1", False],
    "D2": ["domestic", "JP", "O2;O3", True],
    "D3": ["domestic", "JP", None, False],
    "D4": ["domestic", "JP", None, False],
}
# company -> year -> item -> (disclosed, sustainability)
CODING = {
    "O1": {
        2021: {G: (True, None), R: (True, True), M: (True, True)},
        2019: {G: (False, None), R: (False, None), M: (False, None)},
    },
    "O2": {2021: {G: (True, False), R: (True, True), M: (True, True)}},
    "O3": {2021: {G: (True, False), R: (True, False), M: (True, True)}},
    "O4": {2021: {G: (False, True), R: (False, None), M: (False, None)}},
    "D1": {2021: {G: (True, False), R: (True, True), M: (True, True)}},
    "D2": {2021: {G: (True, False), R: (False, None), M: (False, None)}},
    "D3": {2021: {G: (True, True), R: (True, True), M: (True, True)}},
    "D4": {2020: {G: (True, False)}},
}


def make(change=None) -> pd.DataFrame:
    """The review above, after ``change(coding, profiles)`` edits copies of it."""
    coding, profiles = copy.deepcopy(CODING), copy.deepcopy(PROFILES)
    if change:
        change(coding, profiles)
    rows = [
        {
            "company_id": c,
            "fiscal_year": y,
            "region": profiles[c][0],
            "country": profiles[c][1],
            "peer_ids": profiles[c][2],
            "large_cap": profiles[c][3],
            "item": i,
            "disclosed": d,
            "sustainability": s,
        }
        for c, years in coding.items()
        for y, items in years.items()
        for i, (d, s) in items.items()
    ]
    return conform("disclosures", pd.DataFrame(rows))


def checks(frame: pd.DataFrame, codebook, parameters=None) -> pd.DataFrame:
    return run_checks(frame, codebook, parameters).set_index("finding")


def test_thresholds_are_read_from_the_codebook(codebook):
    parameters = finding_parameters(codebook)
    assert parameters["domestic_stop_at_governance"] == {
        "tend_to": 0.5,
        "stop_depths": ["governance"],
        "measures_depths": ["measures"],
    }
    assert parameters["sustainability_framing"] == {
        "many": 0.5,
        "risk_items": ["risk_description"],
        "mitigation_items": ["mitigation_measures"],
    }
    assert parameters["large_cap_almost_nothing"]["almost_nothing_max_items"] == 1
    assert "sustainability_report" not in parameters["large_cap_almost_nothing"]["investor_venues"]
    assert parameters["overseas_disclose_more"] == {"match_low": 0.8, "match_high": 1.25, "min_matching": 1}
    assert parameters["uk_all_mitigation"] == {"country": "GB", "item": "mitigation_measures"}
    parameters["sustainability_framing"]["many"] = 0.9  # a copy: the next caller sees the file
    assert finding_parameters(codebook)["sustainability_framing"]["many"] == 0.5


def test_all_findings_hold_on_the_review(codebook):
    result = run_checks(make(), codebook)
    assert list(result.columns) == ["finding", "title_ja", "title_en", "holds", "evidence", "evidence_ja", "numbers"]
    # The Japanese evidence is Japanese, and says the same numbers as the English.
    for en, ja in zip(result["evidence"], result["evidence_ja"], strict=True):
        assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in ja), ja
        assert re.findall(r"\d+/\d+ \(\d+%\)", en) == re.findall(r"\d+/\d+ \(\d+%\)", ja)
    assert list(result["finding"]) == [
        "overseas_disclose_more",
        "domestic_stop_at_governance",
        "large_cap_almost_nothing",
        "sustainability_framing",
        "uk_all_mitigation",
    ]
    assert result["holds"].dtype == bool and result["holds"].all(), result[["finding", "evidence"]].to_string()
    assert result["title_ja"].str.len().gt(0).all() and result["title_en"].str.len().gt(0).all()


def test_overseas_disclose_more_evidence(codebook):
    evidence = checks(make(), codebook).loc["overseas_disclose_more", "evidence"]
    assert "overseas 2.25 (n=4)" in evidence and "domestic 2.00 (n=4)" in evidence
    assert "1 of 2 with a peer" in evidence and "D1≈O1" in evidence


def test_overseas_disclose_more_fails_when_no_domestic_company_matches(codebook):
    def d1_without_mitigation(coding, profiles):
        coding["D1"][2021][M] = (False, None)

    got = checks(make(d1_without_mitigation), codebook).loc["overseas_disclose_more"]
    assert not got["holds"] and "0 of 2 with a peer" in got["evidence"]


def test_overseas_disclose_more_fails_when_overseas_disclose_less(codebook):
    def o2_silent(coding, profiles):
        coding["O2"][2021] = {G: (False, None), R: (False, None), M: (False, None)}

    got = checks(make(o2_silent), codebook).loc["overseas_disclose_more"]
    assert not got["holds"] and "overseas 1.50 (n=4)" in got["evidence"]


def test_same_degree_is_a_band_not_at_least(codebook):
    # 「同程度」: a domestic company disclosing far more than its peer does not match it.
    def d1_discloses_double(coding, profiles):
        coding["O1"][2021][R] = (False, None)
        coding["O1"][2021][M] = (False, None)  # O1: 1 item against D1's 3

    got = checks(make(d1_discloses_double), codebook).loc["overseas_disclose_more"]
    assert not got["holds"] and "0 of 2 with a peer" in got["evidence"]


def test_some_is_not_all(codebook):
    # 「一部国内企業」: when every domestic company with a peer matches one, it is not "some".
    def d2_matches_o3(coding, profiles):
        coding["D2"][2021][R] = (True, None)
        coding["D2"][2021][M] = (True, None)

    got = checks(make(d2_matches_o3), codebook).loc["overseas_disclose_more"]
    assert not got["holds"] and "2 of 2 with a peer" in got["evidence"]


def test_band_and_min_matching_are_parameters(codebook):
    # At 0.3-0.5x the peer's items D2 (1 item) matches O2 and O3 (3 items each), D1 (3) does not.
    loose = {"overseas_disclose_more": {"match_low": 0.3, "match_high": 0.5}}
    got = checks(make(), codebook, loose).loc["overseas_disclose_more"]
    assert got["holds"] and "[D2≈O2, D2≈O3]" in got["evidence"]
    strict = {"overseas_disclose_more": {"min_matching": 2}}
    assert not checks(make(), codebook, strict).loc["overseas_disclose_more", "holds"]


def test_domestic_stop_at_governance(codebook):
    got = checks(make(), codebook).loc["domestic_stop_at_governance"]
    # Domestic: D2, D4 governance only, D1, D3 measures -> 2/4; overseas disclosing: O1-O3 measures -> 3/3.
    assert got["holds"] and "2/4 (50%)" in got["evidence"] and "3/3 (100%)" in got["evidence"]
    higher = {"domestic_stop_at_governance": {"tend_to": 0.8}}
    assert not checks(make(), codebook, higher).loc["domestic_stop_at_governance", "holds"]


def test_describing_the_risk_is_not_stopping_at_governance(codebook):
    # 「体制の説明までにとどまる」 is governance only: D2 going on to describe the risk (and no
    # measures) no longer stops there, so 1 of 4 stop and the finding fails.
    def d2_describes_risk(coding, profiles):
        coding["D2"][2021][R] = (True, None)

    got = checks(make(d2_describes_risk), codebook).loc["domestic_stop_at_governance"]
    assert not got["holds"] and "domestic stopping at governance: 1/4 (25%)" in got["evidence"]


def test_domestic_stop_at_governance_fails_when_domestic_go_on_to_measures(codebook):
    def measures(coding, profiles):
        coding["D2"][2021][M] = (True, None)
        coding["D4"][2020][M] = (True, None)

    got = checks(make(measures), codebook).loc["domestic_stop_at_governance"]
    assert not got["holds"] and "0/4 (0%)" in got["evidence"]


def test_large_cap_almost_nothing(codebook):
    got = checks(make(), codebook).loc["large_cap_almost_nothing"]
    assert got["holds"] and "2 of 4" in got["evidence"] and "O4 (overseas, 0 items)" in got["evidence"]

    def no_quiet_large_caps(coding, profiles):
        profiles["O4"][3] = False
        profiles["D2"][3] = None  # not coded counts as not large

    got = checks(make(no_quiet_large_caps), codebook).loc["large_cap_almost_nothing"]
    assert not got["holds"] and "0 of 2" in got["evidence"]


def _with_venue(frame: pd.DataFrame, company: str, venue: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["venue"] = frame["venue"].astype("object")
    frame.loc[frame["company_id"] == company, "venue"] = venue
    return conform("disclosures", frame)


def test_almost_nothing_is_counted_in_investor_venues(codebook):
    def loud_large_caps(coding, profiles):
        profiles["O4"][3] = False
        profiles["D2"][3] = False

    # O1 and O3 (large) disclose 3 items each: not quiet when the venue is unknown or a 10-K ...
    frame = make(loud_large_caps)
    assert not checks(frame, codebook).loc["large_cap_almost_nothing", "holds"]
    assert not checks(_with_venue(frame, "O1", "form_10k"), codebook).loc["large_cap_almost_nothing", "holds"]
    # ... but O1 telling only its sustainability report's readers says nothing to investors.
    got = checks(_with_venue(frame, "O1", "sustainability_report"), codebook).loc["large_cap_almost_nothing"]
    assert got["holds"] and "O1 (overseas, 0 items)" in got["evidence"]


def test_sustainability_framing(codebook):
    got = checks(make(), codebook).loc["sustainability_framing"]
    assert got["holds"] and "all 4/8 (50%)" in got["evidence"]
    assert "overseas 2/4 (50%)" in got["evidence"] and "domestic 2/4 (50%)" in got["evidence"]

    def d3_mitigation_unmarked(coding, profiles):
        coding["D3"][2021][M] = (True, False)  # the risk is still framed, its mitigation is not

    got = checks(make(d3_mitigation_unmarked), codebook).loc["sustainability_framing"]
    assert not got["holds"] and "all 3/8 (38%)" in got["evidence"]


def test_sustainability_framing_needs_risk_and_its_mitigation(codebook):
    # Marks on governance alone frame no risk: with O1 and O2 marked only on governance the
    # pooled share drops to 2/8 although every overseas company but O4 carries a mark.
    def governance_only(coding, profiles):
        for company in ("O1", "O2"):
            coding[company][2021] = {G: (True, True), R: (True, False), M: (True, False)}

    got = checks(make(governance_only), codebook).loc["sustainability_framing"]
    assert not got["holds"] and "overseas 0/4 (0%)" in got["evidence"]


def test_sustainability_framing_needs_both_regions(codebook):
    # 「国内外を問わず」: a pooled majority from one region alone is not the finding.
    def overseas_only(coding, profiles):
        for company in ("D1", "D3"):
            coding[company][2021][M] = (True, False)
        coding["O3"][2021][R] = (True, True)
        coding["O4"][2021] = {G: (True, False), R: (True, True), M: (True, True)}

    got = checks(make(overseas_only), codebook).loc["sustainability_framing"]
    assert "all 4/8 (50%)" in got["evidence"] and "domestic 0/4 (0%)" in got["evidence"]
    assert not got["holds"]


def test_every_uk_company_shows_mitigation(codebook):
    got = checks(make(), codebook).loc["uk_all_mitigation"]
    assert got["holds"] and got["evidence"] == "GB companies disclosing mitigation_measures: 2/2 (100%)"


@pytest.mark.parametrize("o3_mitigation", [(False, None), (None, None)])
def test_uk_finding_fails_with_one_uk_company_without_mitigation(codebook, o3_mitigation):
    def o3_without(coding, profiles):
        coding["O3"][2021][M] = o3_mitigation

    got = checks(make(o3_without), codebook).loc["uk_all_mitigation"]
    assert not got["holds"] and got["evidence"].endswith("1/2 (50%); not: O3")


def test_uk_finding_counts_overseas_uk_companies_only(codebook):
    # 「海外企業のうち、英国企業」: a domestic company coded GB is not one of them.
    def domestic_gb(coding, profiles):
        profiles["D2"][1] = "GB"

    got = checks(make(domestic_gb), codebook).loc["uk_all_mitigation"]
    assert got["holds"] and "2/2 (100%)" in got["evidence"]


def test_uk_finding_does_not_hold_without_uk_companies(codebook):
    def no_uk(coding, profiles):
        profiles["O2"][1] = profiles["O3"][1] = "US"

    got = checks(make(no_uk), codebook).loc["uk_all_mitigation"]
    assert not got["holds"] and "0/0" in got["evidence"]


def test_checks_use_the_review_year(codebook):
    # In 2020 only D4 was reviewed: no overseas company, so nothing comparative holds.
    result = run_checks(make(), codebook, fiscal_year=2020).set_index("finding")
    assert not result["holds"].any()
    assert "domestic 1.00 (n=1)" in result.loc["overseas_disclose_more", "evidence"]


def test_a_new_check_is_one_function(codebook, monkeypatch):
    monkeypatch.setattr(df, "FINDINGS", dict(df.FINDINGS))

    @finding("any_company_reviewed", title_ja="企業を調査した", title_en="Companies were reviewed")
    def any_company_reviewed(disclosures, codebook, *, at_least=1):
        n = disclosures["company_id"].nunique()
        return FindingResult(n >= at_least, f"{n} companies")

    result = run_checks(make(), codebook).set_index("finding")
    assert result.loc["any_company_reviewed", "evidence"] == "8 companies"
    assert result.loc["any_company_reviewed", "title_en"] == "Companies were reviewed"
    assert not run_checks(make(), codebook, {"any_company_reviewed": {"at_least": 9}}).iloc[-1]["holds"]


def test_a_check_without_its_thresholds_is_an_error(codebook, monkeypatch):
    monkeypatch.setattr(df, "FINDINGS", {"uk_all_mitigation": df.FINDINGS["uk_all_mitigation"]})
    monkeypatch.setattr(df, "finding_parameters", lambda codebook: {})
    with pytest.raises(TypeError, match="country"):
        run_checks(make(), codebook)


def _sample_disclosures(tmp_path, codebook, seed=None):
    """The sample's disclosure review through the ingest real returns take (committed, or
    regenerated with another ``seed``)."""
    from pathlib import Path

    from analysis.collect.sample.generate import generate_sample
    from analysis.collect.template import build_workbook, workbook_bytes
    from analysis.ingest.folder import ingest

    if seed is None:
        folder = Path(__file__).resolve().parents[1] / "data" / "raw" / "2021"
        source = tmp_path / "disclosures.xlsx"
        source.write_bytes((folder / "disclosures.xlsx").read_bytes())
    else:
        sample = next(s for s in generate_sample(seed, codebook) if s.instrument == "disclosures")
        (tmp_path / "disclosures.xlsx").write_bytes(
            workbook_bytes(build_workbook(codebook, "disclosures", "ja", sample.data))
        )
    result = ingest(tmp_path, fiscal_year=2021)
    assert result.n_errors == 0
    return result.tables["disclosures"]


@pytest.mark.parametrize("seed", [None, 7, 12345])
def test_all_five_findings_hold_on_the_sample(tmp_path, codebook, seed):
    # The sample is made to agree with the report under the literal reading, for any seed.
    result = run_checks(_sample_disclosures(tmp_path, codebook, seed), codebook).set_index("finding")
    assert result["holds"].all(), result["evidence"].to_string()
    # 「体制の説明までにとどまる」: governance only (4 of the 7 domestic companies in the sample).
    assert "domestic stopping at governance: 4/7" in result.loc["domestic_stop_at_governance", "evidence"]
