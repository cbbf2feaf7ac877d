"""Figure helpers shared by every analysis: a Japanese font, and a check that no glyph is missing."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")  # figures are rendered to files and notebooks, never to a window

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib_fontja  # noqa: E402,F401  (registers IPAexGothic, a font with Japanese glyphs)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.rcsetup import cycler  # noqa: E402  (what matplotlib.cycler is)
from matplotlib.text import Text  # noqa: E402

__all__ = [
    "OKABE_ITO",
    "SEQUENTIAL",
    "use_japanese_font",
    "missing_glyphs",
    "assert_no_missing_glyphs",
    "overlapping_texts",
    "render_checked",
    "wrap_label",
]

FONT_FAMILY = "IPAexGothic"
# Fonts an SVG viewer tries, in order, for its live text (the SVG names them; IPAexGothic is the
# font the figure was laid out with).
SVG_FONTS = [FONT_FAMILY, "Hiragino Kaku Gothic ProN", "Yu Gothic", "Meiryo", "Noto Sans CJK JP", "sans-serif"]
# Okabe & Ito's qualitative palette: told apart with every common colour-vision deficiency and in
# grey print (black left out: it is the colour of the text).
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
SEQUENTIAL = "cividis"  # perceptually even, readable with red–green colour blindness


def use_japanese_font() -> None:
    """Make matplotlib (and seaborn) draw text with a font that has Japanese glyphs."""
    matplotlib_fontja.japanize()
    plt.rcParams["axes.unicode_minus"] = False  # the font lacks U+2212; use '-'
    plt.rcParams["axes.prop_cycle"] = cycler(color=OKABE_ITO)


def wrap_label(text: str, width: int = 6) -> str:
    """``text`` on lines of at most ``width`` full-width characters (a half-width one counts as
    half), broken at a space or "・" where there is one: item names set horizontally."""
    import unicodedata

    lines, line, size = [], "", 0.0
    for ch in text:
        step = 1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5
        if size + step > width and line:
            cut = max(line.rfind(" "), line.rfind("・"))
            if cut > 0:
                lines.append(line[: cut + (line[cut] == "・")].rstrip())
                line = line[cut + 1 :]
            else:
                lines.append(line)
                line = ""
            size = sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in line)
        line += ch
        size += step
    lines.append(line)
    return "\n".join(x for x in lines if x)


def overlapping_texts(figure: Figure) -> list[tuple[str, str]]:
    """Draw ``figure`` and return the pairs of visible texts whose boxes overlap on the canvas."""
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = figure.canvas
    if type(canvas) is FigureCanvasBase:
        canvas = FigureCanvasAgg(figure)
    canvas.draw()
    # The backend is Agg (set above; a notebook's inline canvas derives from it): it has a renderer.
    assert isinstance(canvas, FigureCanvasAgg)
    renderer = canvas.get_renderer()
    found_objects = figure.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent"))
    texts = [
        t
        for t in dict.fromkeys(found_objects)  # a legend's TextArea holds a Text: count that once
        if isinstance(t, Text)
        and t.get_visible()
        and str(t.get_text()).strip()
        and (t.axes is None or t.axes.get_visible())
    ]
    boxes = [(t, t.get_window_extent(renderer)) for t in texts]
    boxes = [(t, b) for t, b in boxes if b.width > 0 and b.height > 0]
    found = []
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            if box_a.overlaps(box_b):
                found.append((str(a.get_text()), str(b.get_text())))
    return found


@contextmanager
def _capture_glyph_warnings() -> Iterator[list[str]]:
    found: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield found
    found.extend(str(w.message) for w in caught if "missing from font" in str(w.message) or "Glyph" in str(w.message))


def missing_glyphs(figure: Figure) -> list[str]:
    """Draw ``figure`` and return matplotlib's missing-glyph warnings (empty when all render)."""
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if type(figure.canvas) is FigureCanvasBase:
        # A bare Figure() has a canvas whose draw() renders nothing, so nothing would be checked.
        FigureCanvasAgg(figure)
    with _capture_glyph_warnings() as found:
        figure.canvas.draw()
    return found


def assert_no_missing_glyphs(figure: Figure) -> None:
    """Raise AssertionError naming the characters that would show as empty boxes."""
    found = missing_glyphs(figure)
    if found:
        raise AssertionError("missing glyphs: " + "; ".join(found[:5]))


def render_checked(figure: Figure) -> Figure:
    """Return ``figure`` after checking it renders without missing glyphs."""
    assert_no_missing_glyphs(figure)
    return figure


use_japanese_font()
