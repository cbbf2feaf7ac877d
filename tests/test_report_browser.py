"""The sample report's index.html as a reader's browser shows it: one self-contained file, tables
with captions and header scopes, and (where Chromium is installed) no horizontal overflow at
1280 px and every figure loaded."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


@pytest.fixture(scope="module")
def report(sample_reports) -> Path:
    """The sample's 2021 report as ``survey run`` builds it (its processed folder at ../../processed)."""
    return sample_reports / "2021"


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_page_embeds_every_figure_and_labels_every_table(report):
    page = _parse(report / "index.html")
    count = lambda tag: sum(1 for t, _ in page.tags if t == tag)  # noqa: E731
    images = [a for t, a in page.tags if t == "img"]
    assert images and all(a["src"].startswith("data:image/") for a in images)  # nothing loads from a file
    assert all(a.get("alt") for a in images)
    assert not [a for t, a in page.tags if t in ("script", "link", "iframe", "object")]
    assert count("table") == count("caption") > 50
    cols = [a for t, a in page.tags if t == "th" and a.get("scope") in ("col", "colgroup")]
    rows = [a for t, a in page.tags if t == "th" and a.get("scope") == "row"]
    assert len(cols) >= 3 * count("table") and len(rows) > count("table")
    assert all(a.get("scope") for t, a in page.tags if t == "th")
    assert any(a.get("colspan") for a in cols)  # spanning headers over grouped columns (n, %, interval)
    scrolls = [a for t, a in page.tags if t == "div" and a.get("class") == "scroll"]
    assert len(scrolls) == count("table")
    style = re.search(r"<style>(.*?)</style>", (report / "index.html").read_text(encoding="utf-8"), re.S).group(1)
    assert '"Hiragino Kaku Gothic ProN"' in style and '"Noto Sans CJK JP"' in style and "@media print" in style
    assert "overflow-x:auto" in style and "white-space:nowrap" in style


def test_the_default_page_has_no_respondent_by_category_matrix(report):
    # One row per company: only with --per-respondent (its headers name the categories, as
    # tests/test_report_statements.py checks).
    page = (report / "index.html").read_text(encoding="utf-8")
    assert "findings_user" in page and "statements_matrix" not in page


_PROBE = """<script>
window.addEventListener("load", function () {
  var d = document.documentElement, imgs = [].slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length;
  // Table cells whose last line holds one character alone (a date ending in 日, いいえ)
  var orphans = [];
  [].slice.call(document.querySelectorAll("td, th")).forEach(function (cell) {
    var node = cell.firstChild;
    if (!node || node.nodeType !== 3 || node.length < 2) return;
    var r = document.createRange(), tops = [];
    [node.length - 2, node.length - 1].forEach(function (i) {
      r.setStart(node, i); r.setEnd(node, i + 1); tops.push(r.getBoundingClientRect().top);
    });
    if (node.data.slice(-2, -1).trim() && tops[1] > tops[0] + 2) orphans.push(node.data);
  });
  var p = document.createElement("pre"); p.id = "probe";
  p.textContent = JSON.stringify({scrollWidth: d.scrollWidth, clientWidth: d.clientWidth,
                                  images: imgs.length, broken: broken, orphans: orphans.slice(0, 20)});
  document.body.appendChild(p);
});
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_chromium_at_1280px_shows_no_overflow_and_every_figure(report, tmp_path):
    # The page alone in another folder: what it shows cannot come from the report's other files.
    page = (report / "index.html").read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>")
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=1280,1600",
        "--virtual-time-budget=10000",
    ]
    dom = subprocess.run(
        [*command, "--dump-dom", (tmp_path / "page.html").as_uri()], capture_output=True, text=True, timeout=120
    )
    found = re.search(r'<pre id="probe">([^<]*)</pre>', dom.stdout)
    assert found, dom.stderr[-2000:]
    probe = json.loads(found.group(1).replace("&quot;", '"'))
    assert probe["scrollWidth"] <= probe["clientWidth"], probe  # no horizontal scrolling of the page
    assert probe["images"] > 0 and probe["broken"] == 0, probe
    assert probe["orphans"] == [], probe["orphans"]  # no cell wraps one character onto a line alone
    shot = tmp_path / "page.png"
    subprocess.run(
        [*command, f"--screenshot={shot}", (report / "index.html").as_uri()], capture_output=True, timeout=120
    )
    assert shot.is_file() and shot.stat().st_size > 10_000


# -- figures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def figures(report):
    from analysis.report.build import collect_items
    from analysis.report.registry import ReportContext, ReportFigure
    from analysis.study.load import load_study

    processed = report.parent.parent / "processed"
    study, previous = load_study(processed / "2021"), load_study(processed / "2020")
    out = {}
    for lang in ("ja", "en"):
        items, failures = collect_items(study, ReportContext(lang=lang, previous=previous))
        assert not failures, failures
        out[lang] = [i for i in items if isinstance(i, ReportFigure)]
    yield out
    import matplotlib.pyplot as plt

    plt.close("all")


def test_no_two_labels_of_any_figure_overlap(figures):
    from analysis.figures.plotting import overlapping_texts

    assert len(figures["ja"]) >= 4
    for lang, items in figures.items():
        for item in items:
            assert overlapping_texts(item.render()) == [], (lang, item.name)


def test_overlap_check_sees_an_overlap():
    import matplotlib.pyplot as plt

    from analysis.figures.plotting import overlapping_texts

    figure, ax = plt.subplots()
    ax.annotate("7/7", (0.5, 1.0), xytext=(0, 5), textcoords="offset points")
    ax.annotate("7/8", (0.5, 1.0), xytext=(0, 6), textcoords="offset points")
    assert ("7/7", "7/8") in overlapping_texts(figure)
    plt.close(figure)


def test_figures_are_colour_blind_safe_and_print_ready(figures, report):
    from matplotlib.colors import to_hex

    from analysis.figures.plotting import OKABE_ITO

    by_name = {i.name: i.render() for i in figures["ja"]}
    heatmap = by_name["maturity_level_heatmap"].axes[0].collections[0]
    assert heatmap.get_cmap().name == "cividis"  # not red-green
    trend = by_name["disclosure_trend_figure"].axes[0]
    assert {to_hex(line.get_color()).upper() for line in trend.get_lines()} <= set(OKABE_ITO)
    items = by_name["disclosure_heatmap"].axes[0].get_xticklabels()
    assert items and all(t.get_rotation() == 0 for t in items)
    svg = (report / "figures" / "disclosure_trend_figure.svg").read_text(encoding="utf-8")
    assert "<text" in svg and "'Noto Sans CJK JP'" in svg and "font-family: 'IPAexGothic'" in svg  # live text
    from PIL import Image

    with Image.open(report / "figures" / "disclosure_trend_figure.png") as png:
        assert round(png.info["dpi"][0]) == 300


def test_wrap_label_keeps_every_character():
    from analysis.figures.plotting import wrap_label

    for text in ("委託先・サプライチェーン管理", "Third-party and supply-chain risk management", "短い"):
        wrapped = wrap_label(text, 5)
        assert wrapped.replace("\n", "").replace(" ", "") == text.replace(" ", "")
        assert all(len(line) <= 10 for line in wrapped.split("\n"))


# -- administrative text from the year's records ----------------------------------------------------


def test_table_1_1_says_when_a_year_has_no_records(report):
    from analysis.report.builders.records import survey_items_table
    from analysis.study.load import load_study

    processed = report.parent.parent / "processed"
    empty, full = load_study(processed / "2020"), load_study(processed / "2021")
    assert empty.meetings.empty and not full.meetings.empty  # the sample: no meetings in FY2020
    for lang, none, zero in (
        ("ja", "本年度は会議の記録がありません。", "全0回"),
        ("en", "No meetings are recorded for this year.", " 0 meetings"),
    ):
        before = survey_items_table(empty, lang)["description"].tolist()
        assert before.count(none) == 3 and not [d for d in before if zero in d], before
        after = survey_items_table(full, lang)["description"].tolist()
        assert none not in after and any(str(len(full.meetings[full.meetings["table"] == "4.1"])) in d for d in after)


def test_meeting_table_titles_carry_the_reports_year(report):
    from analysis.report.builders.records import meetings_tables
    from analysis.study.load import load_study

    study = load_study(report.parent.parent / "processed" / "2021")
    titles = {t.name: t.title_ja for t in meetings_tables(study)}
    assert "2021年度" in titles["table_4_1"] and "{year}" not in titles["table_4_1"]
    study = type(study)(**{**study.__dict__, "fiscal_year": 2022})
    assert "2022年度開催状況" in {t.name: t.title_ja for t in meetings_tables(study)}["table_4_1"]
