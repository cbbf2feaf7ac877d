"""The report at scale (issue 16): stage times recorded beside the report, per-company artefacts
only on request, aggregated figures by default, figures streamed to disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.cli import main


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    """The sample study (both years) ingested once for this module."""
    root = tmp_path_factory.mktemp("scale")
    assert main(["sample", "--out", str(root / "raw")]) == 0
    for year in ("2020", "2021"):
        assert main(["ingest", str(root / "raw" / year), "--out", str(root / "processed" / year), "--quiet"]) in (0, 1)
    return root / "processed" / "2021"


@pytest.fixture(scope="module")
def default_report(processed, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("default") / "report"
    assert main(["report", str(processed), "--out", str(out)]) == 0
    return out


def test_stage_times_are_recorded_beside_the_report_not_in_it(default_report):
    record = json.loads((default_report / "report.json").read_text(encoding="utf-8"))
    timings = record["timings"]
    for stage in ("load", "builder:maturity", "figures", "tables", "workbook", "page"):
        assert isinstance(timings[stage], float) and timings[stage] >= 0, stage
    # A record of the run: no table, and not a file the page or the workbook points at.
    assert not (default_report / "tables" / "report.csv").exists()
    assert "report.json" not in (default_report / "index.html").read_text(encoding="utf-8")


def test_publish_records_publication_and_audit_times(processed, tmp_path):
    out = tmp_path / "published"
    assert main(["report", str(processed), "--out", str(out), "--publish"]) == 0
    timings = json.loads((out / "report.json").read_text(encoding="utf-8"))["timings"]
    assert {"publication", "audit"} <= set(timings)
    spec = json.loads((out / "publication.json").read_text(encoding="utf-8"))
    assert "report.json" not in json.dumps(spec)


# -- per-company artefacts only on request (issue 16, item 2) ------------------------------------------


@pytest.fixture(scope="module")
def per_respondent_report(processed, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("per_respondent") / "report"
    assert main(["report", str(processed), "--out", str(out), "--per-respondent"]) == 0
    return out


def _companies(processed: Path) -> list[str]:
    import pandas as pd

    maturity = pd.read_parquet(processed / "maturity.parquet")
    return sorted(maturity.loc[maturity["fiscal_year"] == 2021, "respondent_id"])


def test_default_report_has_no_per_respondent_file(default_report):
    figures = {p.stem for p in (default_report / "figures").iterdir()}
    tables = {p.stem for p in (default_report / "tables").iterdir()}
    assert "maturity_level_heatmap" in figures  # the aggregated heatmap
    assert not [f for f in figures if f.startswith("maturity_radar_")]
    assert "maturity_respondent_heatmap" not in figures
    assert "maturity_respondents" not in tables


def test_per_respondent_report_has_one_radar_per_company(per_respondent_report, processed):
    companies = _companies(processed)
    assert len(companies) >= 5
    for suffix in ("png", "svg"):
        radars = sorted(p.stem for p in (per_respondent_report / "figures").glob(f"maturity_radar_*.{suffix}"))
        assert radars == [f"maturity_radar_{rid}" for rid in companies]
    assert (per_respondent_report / "figures" / "maturity_respondent_heatmap.png").is_file()
    assert (per_respondent_report / "tables" / "maturity_respondents.csv").is_file()


def test_aggregated_heatmap_equals_the_per_company_table(processed, codebook):
    """The level heatmap's numbers are the per-company table's directive means averaged by level."""
    import numpy as np
    import pandas as pd

    from analysis.figures.maturity import level_label
    from analysis.report.build import collect_items
    from analysis.report.registry import ReportContext, ReportFigure, ReportTable
    from analysis.study.load import load_study

    study = load_study(processed)
    items, failures = collect_items(study, ReportContext(lang="en", per_respondent=True))
    assert not failures
    by_name = {i.name: i for i in items}
    table = by_name["maturity_respondents"]
    assert isinstance(table, ReportTable)
    figure = by_name["maturity_level_heatmap"]
    assert isinstance(figure, ReportFigure) and not figure.respondent_level
    frame = table.frame
    directives = [c for c in frame.columns if c[:1].isdigit() and ". " in c]
    assert len(directives) == len(codebook.directives)
    level = frame.columns[frame.columns.get_loc(directives[-1]) + 1]  # the level follows the means
    unclassified = codebook.words("en", "maturity")["unclassified"]
    names = frame[level].map(lambda v: level_label(None if v == unclassified else v, codebook, "en"))
    expected = frame.groupby(names, sort=False)[directives].mean()
    drawn = figure.render().axes[0]
    mesh = drawn.collections[0]
    values = np.ma.filled(mesh.get_array(), np.nan).reshape(-1, len(directives))
    rows = [t.get_text().rsplit(" (n=", 1)[0] for t in drawn.get_yticklabels()]
    assert sorted(rows) == sorted(expected.index)
    np.testing.assert_allclose(values, expected.loc[rows].to_numpy(dtype=float), rtol=1e-12)
    sizes = frame.groupby(names).size()
    assert [int(t.get_text().rsplit("(n=", 1)[1].rstrip(")")) for t in drawn.get_yticklabels()] == [
        int(sizes[r]) for r in rows
    ]
    assert pd.Index(rows).is_unique


# -- figures streamed: drawn, saved and let go one at a time (issue 16, item 3) ------------------------


def _small_figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(layout="constrained", figsize=(3, 2))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot(111)
    ax.plot([1, 2, 3], [2, 1, 3])
    ax.set_title("成熟度")
    return figure


def test_writer_draws_each_figure_after_the_previous_is_let_go(tmp_path):
    import gc
    import weakref

    from analysis.codebook.words import Words
    from analysis.report.registry import ReportFigure
    from analysis.report.writers import write_report

    drawn: list[weakref.ref] = []
    alive_when_drawn: list[int] = []

    def draw():
        gc.collect()
        alive_when_drawn.append(sum(ref() is not None for ref in drawn))
        figure = _small_figure()
        drawn.append(weakref.ref(figure))
        return figure

    items = [ReportFigure(f"f{i}", "図", "figure", draw=draw) for i in range(4)]
    write_report(tmp_path / "out", items, Words(None, "ja"), "見出し")
    assert alive_when_drawn == [0, 0, 0, 0]  # none held while the next one is drawn
    for i in range(4):
        assert (tmp_path / "out" / "figures" / f"f{i}.png").is_file()
        assert (tmp_path / "out" / "figures" / f"f{i}.svg").is_file()


def test_png_and_svg_come_from_one_layout(tmp_path, monkeypatch):
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from analysis.report.writers import save_figure

    calls = []
    original = ConstrainedLayoutEngine.execute
    monkeypatch.setattr(ConstrainedLayoutEngine, "execute", lambda self, fig: calls.append(1) or original(self, fig))
    saved = save_figure(_small_figure(), tmp_path, "one")
    assert [p.name for p in saved] == ["one.png", "one.svg"]
    assert len(calls) == 1
    from PIL import Image

    with Image.open(tmp_path / "one.png") as png:
        assert round(png.info["dpi"][0]) == 300


def test_a_figure_publication_leaves_out_is_never_drawn(processed, default_report, tmp_path, monkeypatch):
    """Publish mode drops respondent-level figures before writing: their draw is never called."""
    from analysis.figures import disclosure

    calls = []
    original = disclosure.heatmap_figure

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    from analysis.report.builders import disclosures

    monkeypatch.setattr(disclosures, "heatmap_figure", counted)
    assert main(["report", str(processed), "--out", str(tmp_path / "p"), "--publish"]) == 0
    assert calls == []
    assert (default_report / "figures" / "disclosure_heatmap.png").is_file()  # drawn when internal
    assert not (tmp_path / "p" / "figures" / "disclosure_heatmap.png").exists()


# -- the radars' references computed once (issue 16, item 4) -------------------------------------------


def _traces(axis) -> dict[str, list[float]]:
    """Labelled lines of a polar axis: label -> radii (closed polygon)."""
    lines = [line for line in axis.get_lines() if not str(line.get_label()).startswith("_")]
    return {str(line.get_label()): list(line.get_ydata()) for line in lines}


def test_radars_compare_with_the_overall_and_industry_means(processed, codebook):
    """Every company's radar, drawn from references computed once, shows the means a direct
    computation over its year's companies gives (industry mean when it has enough peers)."""
    import numpy as np

    from analysis.figures.maturity import radar_references, respondent_radar
    from analysis.maturity.scores import directive_scores, wide_means
    from analysis.study.load import load_study

    study = load_study(processed)
    scores = directive_scores(study.self_assessment[study.self_assessment["fiscal_year"] == 2021], codebook)
    references = radar_references(scores, study.respondents, 2021)
    wide = wide_means(scores)
    roster = study.respondents[study.respondents["fiscal_year"] == 2021].set_index("respondent_id")["industry"]
    checked_industry = 0
    for rid, _ in wide.index:
        figure = respondent_radar(None, None, rid, 2021, codebook, "en", min_industry_n=2, references=references)
        left, right = figure.axes[:2]
        own = list(wide.loc[(rid, 2021)].to_numpy()) + [wide.loc[(rid, 2021)].iloc[0]]
        peers = [r for r, _ in wide.index if roster.get(r) == roster.get(rid) and isinstance(roster.get(r), str)]
        expected = wide.mean().to_numpy() if len(peers) < 2 else wide.loc[[(r, 2021) for r in peers]].mean().to_numpy()
        checked_industry += len(peers) >= 2
        expected = np.append(expected, expected[0])
        for axis, reference in ((left, np.append(wide.mean().to_numpy(), wide.mean().iloc[0])), (right, expected)):
            traces = list(_traces(axis).values())
            assert len(traces) == 2
            np.testing.assert_allclose(traces[0], reference, equal_nan=True)
            np.testing.assert_allclose(traces[1], own, equal_nan=True)
        # The same figure as without references.
        alone = respondent_radar(scores, study.respondents, rid, 2021, codebook, "en", min_industry_n=2)
        assert [t.get_text() for t in alone.findobj(lambda a: hasattr(a, "get_text"))] == [
            t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))
        ]
    assert checked_industry


def test_per_respondent_radars_share_one_computation(processed, monkeypatch):
    from analysis.figures import maturity as figures
    from analysis.report.build import collect_items
    from analysis.report.registry import ReportContext, ReportFigure
    from analysis.study.load import load_study

    calls = []
    original = figures.wide_means
    monkeypatch.setattr(figures, "wide_means", lambda frame: calls.append(1) or original(frame))
    items, failures = collect_items(load_study(processed), ReportContext(per_respondent=True))
    assert not failures
    radars = [i for i in items if isinstance(i, ReportFigure) and i.name.startswith("maturity_radar_")]
    assert len(radars) >= 5
    before = len(calls)
    for radar in radars:
        radar.render()
    assert len(calls) == before  # no radar recomputes the year's means
