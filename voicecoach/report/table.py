"""The report as plain text tables, for a terminal, a pipe or a printout."""

from __future__ import annotations

from voicecoach.app.invocation import voicecoach_command
from voicecoach.columns import table
from voicecoach.durations import minutes_seconds
from voicecoach.report.build import Report, Streak

#: Marks the side of an exercise that was cut short more often.
IMBALANCE_MARK = "<< cut short more often"


def format_report(report: Report) -> str:
    """Every section of the report, separated by blank lines."""
    sections = [
        _overview(report),
        _weeks(report),
        _exercises(report),
        _pain(report),
    ]
    return "\n\n".join(sections)


def _overview(report: Report) -> str:
    kind = "Simulated sessions" if report.simulated else "Sessions"
    sessions = f"{report.sessions} session{'s' if report.sessions != 1 else ''}"
    lines = [
        f"{kind} from {report.first:%Y-%m-%d} to {report.last:%Y-%m-%d}: {sessions}, "
        f"{hours_minutes(report.total_seconds)} in all.",
        f"Adherence: {_streak(report.week_streak, 'week')}; {_streak(report.day_streak, 'day')}.",
    ]
    if report.left_out:
        lines.append(left_out_note(report.left_out, simulated=not report.simulated))
    return "\n".join(lines)


def left_out_note(count: int, *, simulated: bool) -> str:
    """The line saying how many sessions of the other kind a report leaves out, and how to see
    them; ``simulated`` is the kind left out."""
    plural = "s" if count != 1 else ""
    if simulated:
        shows = voicecoach_command("report --simulated")
        return f"Not counted: {count} simulated session{plural} ({shows} shows them)."
    return f"Not counted: {count} real session{plural} ({voicecoach_command('report')} shows them)."


def _streak(streak: Streak, unit: str) -> str:
    def count(n: int) -> str:
        return f"{n} {unit}{'s' if n != 1 else ''}"

    return f"{count(streak.current)} in a row with a session (longest {count(streak.longest)})"


def hours_minutes(seconds: float) -> str:
    """``1 h 05 min`` or ``12 min``."""
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _weeks(report: Report) -> str:
    rows = [("week of", "sessions", "minutes")]
    rows += [
        (f"{w.week_start:%Y-%m-%d}", str(w.sessions), f"{w.minutes:.0f}") for w in report.weeks
    ]
    return "Sessions per week\n" + table(rows, right={1, 2}, indent="  ")


def _exercises(report: Report) -> str:
    rows = [("exercise", "side", "reps", "held", "cut short", "")]
    for e in report.exercises:
        rows.append(
            (
                e.exercise,
                e.side or "-",
                str(e.reps),
                minutes_seconds(e.hold_seconds) if e.hold_seconds else "-",
                str(e.short_reps),
                IMBALANCE_MARK if e.imbalanced else "",
            )
        )
    return "Reps and holds per exercise and side\n" + table(rows, right={2, 3, 4}, indent="  ")


def _pain(report: Report) -> str:
    rows = [("date", "program", "ended", "min", "pain during", "back after")]
    for p in report.pain:
        during = ", ".join(f"{ex or 'session'} {'?' if s is None else s}" for ex, s in p.during)
        rows.append(
            (
                f"{p.started:%Y-%m-%d %H:%M}",
                p.program,
                p.end_reason,
                f"{p.minutes:.0f}",
                during or "-",
                "-" if p.rating is None else str(p.rating),
            )
        )
    note = "(0-10; ? is numbness, tingling or no answer; back after: the rating at the end)"
    return f"Pain over time {note}\n" + table(rows, right={3, 5}, indent="  ")
