"""A bar chart drawn on the server as SVG: the page needs no script, and the chart prints and exports as is.

Only geometry here; templates/transparency/_bar_chart.html writes the elements (escaped by Jinja), with
presentation attributes rather than inline styles, which the console's Content-Security-Policy refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 720, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 44, 12, 16, 48


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = MARGIN_LEFT
    right: int = WIDTH - MARGIN_RIGHT
    baseline: float = HEIGHT - MARGIN_BOTTOM


def _nice_top(peak: int) -> int:
    """The axis' top: the peak rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    if peak <= 1:
        return 1
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= peak:
                return step * scale
        scale *= 10


def bar_chart(title: str, values: list[tuple[str, int]]) -> BarChart:
    top = _nice_top(max((v for _l, v in values), default=0))
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_width / max(len(values), 1)
    bars = []
    for i, (label, value) in enumerate(values):
        height = plot_height * value / top
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(MARGIN_LEFT + i * slot + slot * 0.15, 1),
                y=round(HEIGHT - MARGIN_BOTTOM - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
            )
        )
    marks = sorted({0, top} | ({top // 2} if top % 2 == 0 else set()))
    ticks = [Tick(value=m, y=round(HEIGHT - MARGIN_BOTTOM - plot_height * m / top, 1)) for m in marks]
    return BarChart(title=title, bars=bars, ticks=ticks)
