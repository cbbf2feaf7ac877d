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

__all__ = ["use_japanese_font", "missing_glyphs", "assert_no_missing_glyphs", "render_checked"]

FONT_FAMILY = "IPAexGothic"


def use_japanese_font() -> None:
    """Make matplotlib (and seaborn) draw text with a font that has Japanese glyphs."""
    matplotlib_fontja.japanize()
    plt.rcParams["axes.unicode_minus"] = False  # the font lacks U+2212; use '-'


@contextmanager
def _capture_glyph_warnings() -> Iterator[list[str]]:
    found: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield found
    found.extend(str(w.message) for w in caught if "missing from font" in str(w.message)
                 or "Glyph" in str(w.message))


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
