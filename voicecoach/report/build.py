"""The care report: adherence, time, reps and holds per side, pain over time, side imbalance.

Built from the journal's sessions, oldest first. Definitions used throughout:

- A session *counts* for adherence when at least one rep was done in it.
- The *day streak* is the number of consecutive calendar days with a counted session; the
  *week streak* the number of consecutive weeks (Monday to Sunday) with one. The current
  streak is the run that reaches today (or yesterday, or last week: the day or week is not over).
- A rep is *cut short* when it was held more than ``SHORT_TOLERANCE_SECONDS`` less than
  planned, or when it was planned but not done on that side while the session went on past
  the exercise (the exercise was skipped or eased); a stop or interruption does not count.
- A side is marked *imbalanced* when it was cut short at least ``IMBALANCE_MIN_REPS`` more
  times than the other side, and at least ``IMBALANCE_RATIO`` times as often.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from voicecoach.events import PlannedDose, Side
from voicecoach.history import SessionRecord

_LOGGER = logging.getLogger(__name__)

#: A hold this much shorter than planned counts as cut short.
SHORT_TOLERANCE_SECONDS = 0.5
#: A side is imbalanced when it has at least this many more short reps than the other...
IMBALANCE_MIN_REPS = 2
#: ...and at least this many times as many.
IMBALANCE_RATIO = 1.5


@dataclass(frozen=True)
class Streak:
    """Consecutive days or weeks with a session: the run reaching today, and the longest."""

    current: int
    longest: int


@dataclass(frozen=True)
class WeekRow:
    """Sessions and minutes in the week starting on Monday ``week_start``."""

    week_start: date
    sessions: int
    minutes: float


@dataclass(frozen=True)
class ExerciseRow:
    """Reps done and seconds held of one exercise on one side, and reps cut short."""

    exercise: str
    side: str | None
    reps: int
    hold_seconds: float
    short_reps: int
    imbalanced: bool = False


@dataclass(frozen=True)
class PainRow:
    """One session's pain: reports during it as (exercise, score) and the rating at its end."""

    started: datetime
    program: str
    end_reason: str
    minutes: float
    during: tuple[tuple[str | None, int | None], ...]
    rating: int | None


@dataclass(frozen=True)
class Report:
    """Everything the report shows, computed from sessions oldest first."""

    sessions: int
    first: datetime
    last: datetime
    total_seconds: float
    day_streak: Streak
    week_streak: Streak
    weeks: tuple[WeekRow, ...]
    exercises: tuple[ExerciseRow, ...]
    pain: tuple[PainRow, ...]
    #: Whether the report is of simulated sessions (``voicecoach simulate``) rather than real ones.
    simulated: bool = False
    #: Finished sessions of the other kind, real or simulated, that the report leaves out.
    left_out: int = 0

    def to_json(self) -> dict[str, object]:
        """The report as a JSON-ready dict."""
        return {
            "sessions": self.sessions,
            "simulated": self.simulated,
            "left_out": self.left_out,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "total_seconds": round(self.total_seconds, 1),
            "day_streak": {"current": self.day_streak.current, "longest": self.day_streak.longest},
            "week_streak": {
                "current": self.week_streak.current,
                "longest": self.week_streak.longest,
            },
            "weeks": [
                {
                    "week_start": w.week_start.isoformat(),
                    "sessions": w.sessions,
                    "minutes": w.minutes,
                }
                for w in self.weeks
            ],
            "exercises": [
                {
                    "exercise": e.exercise,
                    "side": e.side,
                    "reps": e.reps,
                    "hold_seconds": e.hold_seconds,
                    "short_reps": e.short_reps,
                    "imbalanced": e.imbalanced,
                }
                for e in self.exercises
            ],
            "pain": [
                {
                    "started": p.started.isoformat(),
                    "program": p.program,
                    "end_reason": p.end_reason,
                    "minutes": p.minutes,
                    "during": [{"exercise": e, "score": s} for e, s in p.during],
                    "rating": p.rating,
                }
                for p in self.pain
            ],
        }


def wall_clock(record: SessionRecord) -> datetime:
    """When a session started on the wall clock of the person, as recorded (naive)."""
    try:
        return datetime.fromisoformat(record.started_at).replace(tzinfo=None)
    except ValueError:
        return record.started.astimezone().replace(tzinfo=None)


def build_report(
    records: Sequence[SessionRecord], today: date, *, simulated: bool = False
) -> Report:
    """The report of finished ``records`` (oldest first); ``today`` anchors the streaks.

    Real and simulated sessions are never added together: the report is of the real ones, or
    of the simulated ones with ``simulated``, and counts the others in ``left_out``.
    """
    finished = [r for r in records if r.end_reason is not None]
    chosen = [r for r in finished if r.simulated == simulated]
    left_out = len(finished) - len(chosen)
    finished = chosen
    if not finished:
        raise ValueError("a report needs at least one finished session of its kind")
    counted = [wall_clock(r).date() for r in finished if r.reps]
    return Report(
        sessions=len(finished),
        first=wall_clock(finished[0]),
        last=wall_clock(finished[-1]),
        total_seconds=sum(r.duration_s or 0.0 for r in finished),
        day_streak=_streak(sorted(set(counted)), today, timedelta(days=1)),
        week_streak=_streak(sorted({_monday(d) for d in counted}), _monday(today), timedelta(7)),
        weeks=tuple(_weeks(finished)),
        exercises=tuple(_exercise_rows(finished)),
        pain=tuple(_pain_row(r) for r in finished),
        simulated=simulated,
        left_out=left_out,
    )


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _streak(periods: Sequence[date], now: date, step: timedelta) -> Streak:
    """Runs of consecutive periods (days or Mondays), sorted; the current one reaches ``now``."""
    longest = run = 0
    previous: date | None = None
    for period in periods:
        run = run + 1 if previous is not None and period - previous == step else 1
        longest = max(longest, run)
        previous = period
    # The run is still current if its last period is this one or the one before.
    current = run if previous is not None and now - previous <= step else 0
    return Streak(current, longest)


def _weeks(records: Iterable[SessionRecord]) -> list[WeekRow]:
    sessions: Counter[date] = Counter()
    seconds: defaultdict[date, float] = defaultdict(float)
    for record in records:
        week = _monday(wall_clock(record).date())
        sessions[week] += 1
        seconds[week] += record.duration_s or 0.0
    return [WeekRow(w, sessions[w], round(seconds[w] / 60, 1)) for w in sorted(sessions)]


def _pain_row(record: SessionRecord) -> PainRow:
    return PainRow(
        started=wall_clock(record),
        program=record.program,
        end_reason=record.end_reason or "running",
        minutes=round((record.duration_s or 0.0) / 60, 1),
        during=tuple((p.exercise, p.score) for p in record.pain),
        rating=record.rating,
    )


# -- reps, holds and sides ----------------------------------------------------------------------

_Key = tuple[str, str | None]


def _exercise_rows(records: Sequence[SessionRecord]) -> list[ExerciseRow]:
    reps: Counter[_Key] = Counter()
    held: defaultdict[_Key, float] = defaultdict(float)
    short: Counter[_Key] = Counter()
    order: dict[_Key, None] = {}
    for record in records:
        for rep in record.reps:
            key = (rep.exercise, rep.side)
            order.setdefault(key, None)
            reps[key] += 1
            held[key] += rep.hold_seconds
        short.update(short_reps(record))
    marked = imbalanced_sides(short)
    return [
        ExerciseRow(
            ex,
            side,
            reps[(ex, side)],
            round(held[(ex, side)], 1),
            short[(ex, side)],
            (ex, side) in marked,
        )
        for ex, side in order
    ]


def short_reps(record: SessionRecord) -> Counter[_Key]:
    """Reps cut short in one session, per exercise and side (see the module's definition)."""
    planned: dict[_Key, PlannedDose] = {(p.exercise, p.side): p for p in record.planned}
    done: Counter[_Key] = Counter((r.exercise, r.side) for r in record.reps)
    short: Counter[_Key] = Counter()
    for exercise in dict.fromkeys(r.exercise for r in record.reps):
        sides = {r.side for r in record.reps if r.exercise == exercise}
        mine = [r for r in record.reps if r.exercise == exercise]
        # Without a recorded plan, the fullest side and longest hold stand for the plan.
        fallback_reps = max(done[(exercise, s)] for s in sides)
        fallback_hold = max(r.hold_seconds for r in mine)
        went_on = _went_on_past(record, exercise)
        for side in _sides_of(sides):
            plan = planned.get((exercise, side))
            planned_reps = plan.reps if plan else fallback_reps
            planned_hold = plan.hold_seconds if plan else fallback_hold
            held_short = sum(
                1
                for r in mine
                if r.side == side and r.hold_seconds < planned_hold - SHORT_TOLERANCE_SECONDS
            )
            missing = max(0, planned_reps - done[(exercise, side)]) if went_on else 0
            if held_short + missing:
                short[(exercise, side)] = held_short + missing
    return short


def _sides_of(seen: set[Side | None]) -> tuple[Side | None, ...]:
    return (None,) if seen == {None} else ("right", "left")


def _went_on_past(record: SessionRecord, exercise: str) -> bool:
    """Whether the session carried on after the exercise: completed, or a later exercise done."""
    if record.end_reason == "completed":
        return True
    last_t = max(r.t for r in record.reps if r.exercise == exercise)
    return any(r.t > last_t and r.exercise != exercise for r in record.reps)


def imbalanced_sides(short: Counter[_Key]) -> set[_Key]:
    """The (exercise, side) pairs cut short clearly more often than the other side."""
    marked: set[_Key] = set()
    for exercise in {ex for ex, side in short if side is not None}:
        right, left = short[(exercise, "right")], short[(exercise, "left")]
        for side, mine, other in (("right", right, left), ("left", left, right)):
            if mine - other >= IMBALANCE_MIN_REPS and mine >= IMBALANCE_RATIO * other:
                marked.add((exercise, side))
    return marked
