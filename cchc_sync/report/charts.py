"""Charts for the annex: horizontal bars of a rate by unit, as PNG bytes in memory.

Uses matplotlib's object API with the Agg canvas (no pyplot, no global backend switch),
so it is safe in a daemon and in tests. Labels are Vietnamese; percentages use the comma
decimal mark through vnformat.

matplotlib is imported where a chart or a font is made, not with this module: every
`cchc-sync` process imports the report package (for its error type), and matplotlib
would double the start-up time of the ones that never draw (`run`, `sync`, `status`).
"""

from __future__ import annotations

import io
import textwrap
from functools import lru_cache

from cchc_sync.domain.vnformat import format_percent
from cchc_sync.report.model import TAINT_MARK

BAR = "#2f5597"
BAR_TAINTED = "#c55a11"
REFERENCE = "#7f7f7f"
CM = 1 / 2.54


VIETNAMESE_SAMPLE = "ệạưởĐỦờ"


def _covers_vietnamese(path: str) -> bool:
    from matplotlib import ft2font

    font = ft2font.FT2Font(path)
    return all(font.get_char_index(ord(c)) for c in VIETNAMESE_SAMPLE)


@lru_cache(maxsize=8)
def serif_font_file(bold: bool = False) -> str | None:
    """Times New Roman, or a metric-compatible twin, that has every Vietnamese letter
    (Liberation Serif 1.x has not: it needs the fonts-liberation2 package)."""
    from matplotlib import font_manager

    for family in ("Times New Roman", "Liberation Serif", "Tinos"):
        prop = font_manager.FontProperties(family=family, weight="bold" if bold else "normal")
        try:
            path = font_manager.findfont(prop, fallback_to_default=False)
        except ValueError:
            continue
        if _covers_vietnamese(path):
            return path
    return None


@lru_cache(maxsize=1)
def chart_font() -> str:
    """Times New Roman (or its twin) when installed with Vietnamese letters, so the charts
    match the document; else DejaVu Serif, bundled with matplotlib."""
    from matplotlib import font_manager

    path = serif_font_file()
    if path is not None:
        return font_manager.FontProperties(fname=path).get_name()
    return "DejaVu Serif"


def bar_chart(
    title: str,
    bars: list[tuple[str, float, bool]],
    reference: tuple[str, float] | None = None,
    width_cm: float = 16.0,
) -> bytes:
    """bars: (unit name, percent points, tainted), drawn highest first.

    reference: (label, value) of the area's rate, drawn as a dashed line.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    bars = sorted(bars, key=lambda b: b[1], reverse=True)
    font = chart_font()
    height_cm = 2.4 + 0.78 * len(bars)
    fig = Figure(figsize=(width_cm * CM, height_cm * CM), dpi=200)
    ax = fig.add_subplot()
    labels = [
        textwrap.fill(name + (f" {TAINT_MARK}" if tainted else ""), 34) for name, _, tainted in bars
    ]
    values = [v for _, v, _ in bars]
    colors = [BAR_TAINTED if tainted else BAR for _, _, tainted in bars]
    y = list(range(len(bars)))
    ax.barh(y, values, color=colors, height=0.62)
    ax.set_yticks(y, labels, fontfamily=font, fontsize=8)
    ax.invert_yaxis()
    top = max(100.0, *values)
    ax.set_xlim(0, top * 1.12)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: format_percent(float(x), 0)))
    for tick in ax.get_xticklabels():
        tick.set_fontfamily(font)
        tick.set_fontsize(8)
    for yi, v in zip(y, values, strict=True):
        # Inside the bar's end when there is room: clear of the reference line.
        inside = v > top * 0.2
        ax.text(v - top * 0.01 if inside else v + top * 0.01, yi, format_percent(v),
                va="center", ha="right" if inside else "left", fontsize=7, fontfamily=font,
                color="white" if inside else "black")
    if reference is not None:
        label, value = reference
        ax.axvline(value, color=REFERENCE, linestyle="--", linewidth=0.9)
        ax.text(value, -0.75, label, ha="center", va="bottom", fontsize=7, color="#404040",
                fontfamily=font)
    if title:
        ax.set_title(title, fontfamily=font, fontsize=9, fontweight="bold", pad=16)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
