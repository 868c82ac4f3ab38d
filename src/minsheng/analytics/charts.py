"""Chart images (PNG) for documents: the monthly briefing's trend, category breakdown and
ranking. Drawn with matplotlib's Agg backend (no display, no pyplot state, safe in a web
worker's threads) in the vendored CJK font, so Chinese labels look the same on every machine.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

FONT_PATH = Path(__file__).resolve().parent.parent / "static" / "vendor" / "fonts" / "NotoSansSC-Regular-GB2312.otf"

RED = "#c00000"
BLUE = "#1f5fa8"
GREEN = "#2e8b57"
ORANGE = "#d9822b"
GREY = "#8a8a8a"
DPI = 150


@lru_cache(maxsize=1)
def _font():
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=str(FONT_PATH))


def _figure(width_cm: float, height_cm: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_cm / 2.54, height_cm / 2.54), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _label(ax, *, title: str = "", xlabel: str = "", ylabel: str = "", size: float = 9) -> None:
    font = _font()
    if title:
        ax.set_title(title, fontproperties=font, fontsize=size + 2)
    if xlabel:
        ax.set_xlabel(xlabel, fontproperties=font, fontsize=size)
    if ylabel:
        ax.set_ylabel(ylabel, fontproperties=font, fontsize=size)
    for tick in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        tick.set_fontproperties(font)
        tick.set_fontsize(size - 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _png(figure) -> bytes:
    from matplotlib import rc_context

    buffer = io.BytesIO()
    # A hyphen for negative numbers: the font subset has no U+2212 MINUS SIGN.
    with rc_context({"axes.unicode_minus": False}):
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def trend_chart(series: list[dict], *, title: str = "近12个月诉求量与三率走势") -> bytes:
    """Bars: appeals received per month; lines (right axis, %): response, resolution and
    satisfaction rates. `series` rows are `month_figures` dicts, oldest first."""
    figure = _figure(16, 8)
    ax = figure.add_subplot()
    labels = [row["month"][2:].replace("-", ".") for row in series]
    positions = list(range(len(series)))
    ax.bar(positions, [row["received"] for row in series], color="#d6e2f0", edgecolor=BLUE, linewidth=0.6, label="受理量")
    ax.set_xticks(positions, labels)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _label(ax, title=title, ylabel="受理量（件）")
    rates = ax.twinx()
    for key, name, colour in (("response_rate", "响应率", BLUE), ("resolution_rate", "解决率", GREEN), ("satisfaction_rate", "满意率", RED)):
        values = [_percent(row[key]) for row in series]
        points = [(x, y) for x, y in zip(positions, values) if y is not None]
        if points:
            rates.plot([x for x, _ in points], [y for _, y in points], marker="o", markersize=3, linewidth=1.4, color=colour, label=name)
    rates.set_ylim(0, 105)
    _label(rates, ylabel="比率（%）")
    rates.spines["right"].set_visible(True)
    handles = ax.get_legend_handles_labels()[0] + rates.get_legend_handles_labels()[0]
    names = ax.get_legend_handles_labels()[1] + rates.get_legend_handles_labels()[1]
    ax.legend(handles, names, prop=_font(), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, frameon=False)
    return _png(figure)


def category_chart(rows: list[dict], *, title: str = "本月诉求分类构成", limit: int = 10) -> bytes:
    """Horizontal bars of appeals per category, most first; the rest summed as 其他."""
    shown = list(rows[:limit])
    rest = sum(row["count"] for row in rows[limit:])
    if rest:
        shown.append({"category": "其他", "count": rest})
    figure = _figure(16, max(5.0, 1.0 + 0.7 * len(shown)))
    ax = figure.add_subplot()
    names = [row["category"] for row in reversed(shown)]
    counts = [row["count"] for row in reversed(shown)]
    bars = ax.barh(range(len(names)), counts, color=BLUE)
    ax.set_yticks(range(len(names)), names)
    for bar, count in zip(bars, counts):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {count}", va="center", fontproperties=_font(), fontsize=8)
    if not shown:
        ax.text(0.5, 0.5, "本月无诉求", ha="center", va="center", transform=ax.transAxes, fontproperties=_font())
    _label(ax, title=title, xlabel="件数")
    return _png(figure)


def ranking_chart(rows: list[tuple[str, float]], *, title: str) -> bytes:
    """Horizontal bars of composite scores (0..100), best at the top; the top three in red
    and the bottom three in grey, as a 红黑榜 reads."""
    figure = _figure(16, max(5.0, 1.0 + 0.55 * len(rows)))
    ax = figure.add_subplot()
    names = [name for name, _ in reversed(rows)]
    scores = [score for _, score in reversed(rows)]
    count = len(rows)
    colours = []
    for index in range(count):
        position = count - index  # 1 = best
        colours.append(RED if position <= 3 else (GREY if position > count - 3 and count > 6 else BLUE))
    bars = ax.barh(range(count), scores, color=colours)
    ax.set_yticks(range(count), names)
    ax.set_xlim(0, 105)
    for bar, score in zip(bars, scores):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {score:.1f}", va="center", fontproperties=_font(), fontsize=8)
    if not rows:
        ax.text(0.5, 0.5, "本月无可排名单位", ha="center", va="center", transform=ax.transAxes, fontproperties=_font())
    _label(ax, title=title, xlabel="综合得分")
    return _png(figure)
