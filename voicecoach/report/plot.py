"""One page with pain over time and minutes per session (matplotlib, the ``report`` extra)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from voicecoach.errors import ReportError
from voicecoach.history import SessionRecord
from voicecoach.report.build import wall_clock
from voicecoach.report.export import open_private

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

_LOGGER = logging.getLogger(__name__)


def missing_message() -> str:
    """What to do when matplotlib is missing, as a command for the Python running this."""
    return (
        "--plot needs matplotlib, which is not installed here; scripts/setup installs it, or "
        f"run: {sys.executable} -m pip install 'matplotlib>=3.7'"
    )


#: Pain bands on the 0-10 scale, as (low, high, colour, label); edges sit between whole scores.
BANDS = (
    (-0.5, 3.5, "#c8e6c9", "mild 0-3"),
    (3.5, 5.5, "#ffe0b2", "moderate 4-5"),
    (5.5, 10.5, "#ffcdd2", "severe 6-10"),
)
#: Bar colours for how each session ended.
END_COLOURS = {
    "completed": "#4e79a7",
    "stopped": "#9c9c9c",
    "interrupted": "#bab0ac",
    "pain": "#e15759",
    "error": "#7f7f7f",
}
_WIDTH_INCHES, _HEIGHT_INCHES, _DPI = 11.0, 7.5, 100


def require_matplotlib() -> tuple[type[Figure], type[FigureCanvasAgg], ModuleType]:
    """The figure, the Agg canvas and the date helpers, imported lazily: matplotlib is optional
    and slow to import, and the Agg canvas draws without any display."""
    try:
        import matplotlib.dates as mdates
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ReportError(missing_message(), event="matplotlib") from err
    return Figure, FigureCanvasAgg, mdates


#: Of each day, the share its sessions' bars fill together, centred on midday.
_DAY_FILLED = 0.6


def session_slots(records: Sequence[SessionRecord]) -> list[tuple[datetime, float]]:
    """Where each session's bar goes and its width in days: a day's sessions side by side, in
    the order they started, so two sessions on one day are two bars, not one."""
    by_day: dict[datetime, list[int]] = {}
    for index, record in enumerate(records):
        day = wall_clock(record).replace(hour=0, minute=0, second=0, microsecond=0)
        by_day.setdefault(day, []).append(index)
    slots: list[tuple[datetime, float]] = [(datetime.min, 0.0)] * len(records)
    for day, indices in by_day.items():
        ordered = sorted(indices, key=lambda i: wall_clock(records[i]))
        width = _DAY_FILLED / len(ordered)
        for place, index in enumerate(ordered):
            offset = 0.5 - _DAY_FILLED / 2 + (place + 0.5) * width
            slots[index] = (day + timedelta(days=offset), width * 0.9)
    return slots


def draw_sessions(records: Sequence[SessionRecord]) -> Figure:
    """The figure of pain (during sessions and ratings after) and minutes per session."""
    figure_class, canvas_class, mdates = require_matplotlib()
    finished = [r for r in records if r.end_reason is not None]
    if not finished:
        raise ValueError("a plot needs at least one finished session")
    figure = figure_class(figsize=(_WIDTH_INCHES, _HEIGHT_INCHES), dpi=_DPI, layout="constrained")
    canvas_class(figure)
    pain_axes, minutes_axes = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    slots = session_slots(finished)
    _draw_pain(pain_axes, finished, [at for at, _ in slots])
    _draw_minutes(minutes_axes, finished, slots)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
    minutes_axes.xaxis.set_major_locator(locator)
    minutes_axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    first, last = wall_clock(finished[0]), wall_clock(finished[-1])
    # A few days either side keep the axis in whole days even for a single session.
    margin = max(timedelta(days=3), (last - first) * 0.03)
    minutes_axes.set_xlim(first - margin, last + margin)
    when = f"{first:%d %b %Y}"
    if last.date() != first.date():
        when = f"{when} to {last:%d %b %Y}"
    figure.suptitle(f"Back exercise sessions, {when}", fontsize=14)
    return figure


def plot_sessions(records: Sequence[SessionRecord], path: Path) -> None:
    """Draw pain (during sessions and ratings after) and minutes per session into a PNG."""
    figure = draw_sessions(records)
    try:
        with open_private(path, "wb") as file:
            figure.savefig(file, format="png")
    except OSError as err:
        raise ReportError(f"cannot write {path}: {err.strerror or err}", event=str(path)) from err
    _LOGGER.info("plot written to %s", path)


def _draw_pain(axes: Axes, records: Sequence[SessionRecord], places: Sequence[datetime]) -> None:
    for low, high, colour, label in BANDS:
        axes.axhspan(low, high, color=colour, zorder=0, label=label)
    scored: list[tuple[datetime, int]] = []
    unscored: list[datetime] = []
    ratings: list[tuple[datetime, int]] = []
    for record, at in zip(records, places, strict=True):
        for report in record.pain:
            if report.score is None:
                unscored.append(at)
            else:
                scored.append((at, report.score))
        if record.rating is not None:
            ratings.append((at, record.rating))
    if ratings:
        axes.plot(
            *zip(*ratings, strict=True),
            "s-",
            color="#1f3b73",
            lw=1.5,
            ms=6,
            label="back after the session",
            zorder=3,
        )
    if scored:
        axes.plot(
            *zip(*scored, strict=True),
            "o",
            color="#b22222",
            ms=8,
            label="pain during the session",
            zorder=4,
        )
    if unscored:
        axes.plot(
            np.array(unscored),
            [10] * len(unscored),
            "X",
            color="#6a0dad",
            ms=10,
            label="numbness, tingling or no answer",
            zorder=4,
        )
    axes.set_ylim(-0.5, 10.5)
    axes.set_yticks(range(0, 11))
    axes.set_ylabel("pain (0-10)")
    axes.set_title("Pain over time", loc="left")
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)


def _draw_minutes(
    axes: Axes, records: Sequence[SessionRecord], slots: Sequence[tuple[datetime, float]]
) -> None:
    shown: set[str] = set()
    for record, (at, width) in zip(records, slots, strict=True):
        reason = record.end_reason or "completed"
        label = None if reason in shown else reason
        shown.add(reason)
        axes.bar(
            np.array([at]),
            (record.duration_s or 0.0) / 60,
            width=width,
            color=END_COLOURS.get(reason, "#7f7f7f"),
            label=label,
        )
    axes.set_ylabel("minutes")
    axes.set_title("Minutes per session, by how it ended", loc="left")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
