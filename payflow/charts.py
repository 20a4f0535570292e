"""Server-rendered SVG charts: geometry here, drawing in templates/charts/*.html.

No chart library and no build step: a bar chart is a list of rectangles, a line a polyline, and
each chart carries a text alternative (a table of the same numbers) for screen readers and for
anyone who would rather read.
"""

from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT = 600, 160
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 36, 22, 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    failed: int
    failure_rate: float | None

    @property
    def failure_percent(self) -> str:
        return "—" if self.failure_rate is None else f"{self.failure_rate * 100:.0f}%"


@dataclass(frozen=True)
class VolumeChart:
    bars: list[Bar]
    rate_points: str  # SVG polyline points for the failure rate (0-100% on the same height)
    max_value: int
    ticks: list[tuple[float, str]]  # (x, label) along the time axis
    total: int
    failed: int
    width: int = WIDTH
    height: int = HEIGHT
    pad_left: int = PAD_LEFT
    plot_bottom: int = HEIGHT - PAD_BOTTOM

    @property
    def failure_percent(self) -> str:
        return "—" if not self.total else f"{self.failed / self.total * 100:.1f}%"

    @property
    def summary(self) -> str:
        busiest = max(self.bars, key=lambda b: b.value, default=None)
        if not self.total or busiest is None:
            return "No transactions in this period."
        return (
            f"{self.total} transactions, {self.failed} failed or declined "
            f"({self.failure_percent}); busiest minute {busiest.label} with {busiest.value}."
        )


def volume_chart(buckets: list[tuple[datetime, int, int]], *, label_of) -> VolumeChart:
    """``buckets``: (start, count, failed) oldest first; ``label_of(start)`` writes the time."""
    n = max(len(buckets), 1)
    plot_width = WIDTH - PAD_LEFT - 4
    plot_height = HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_width / n
    top = max((count for _, count, _ in buckets), default=0) or 1
    bars, points, ticks = [], [], []
    for index, (start, count, failed) in enumerate(buckets):
        height = plot_height * count / top
        x = PAD_LEFT + index * step
        rate = failed / count if count else None
        bars.append(
            Bar(
                x=round(x + step * 0.1, 1),
                y=round(HEIGHT - PAD_BOTTOM - height, 1),
                width=round(step * 0.8, 1),
                height=round(height, 1),
                label=label_of(start),
                value=count,
                failed=failed,
                failure_rate=rate,
            )
        )
        if rate is not None:
            y = HEIGHT - PAD_BOTTOM - plot_height * rate
            points.append(f"{x + step / 2:.1f},{y:.1f}")
        if index % max(1, n // 6) == 0:
            ticks.append((round(x + step / 2, 1), label_of(start)))
    return VolumeChart(
        bars=bars,
        rate_points=" ".join(points),
        max_value=top,
        ticks=ticks,
        total=sum(count for _, count, _ in buckets),
        failed=sum(failed for _, _, failed in buckets),
    )


@dataclass(frozen=True)
class CalendarDay:
    day: object  # date
    in_month: bool
    is_today: bool
    batches: int
    amount_label: str
    overdue: int
    settled: int


def month_grid(first_day, days: dict, *, today) -> list[list[CalendarDay]]:
    """Weeks (Monday first) covering ``first_day``'s month; ``days`` maps date -> dict of
    batches, amount_label, overdue, settled."""
    import calendar

    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(
        first_day.year, first_day.month
    ):
        row = []
        for day in week:
            info = days.get(day, {})
            row.append(
                CalendarDay(
                    day=day,
                    in_month=day.month == first_day.month,
                    is_today=day == today,
                    batches=info.get("batches", 0),
                    amount_label=info.get("amount_label", ""),
                    overdue=info.get("overdue", 0),
                    settled=info.get("settled", 0),
                )
            )
        weeks.append(row)
    return weeks
