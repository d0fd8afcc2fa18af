"""Writing one event or one planned dose into the journal's tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from voicecoach.events import CommandHandled, PainReported, PlannedDose, RepDone


def insert_event(
    conn: sqlite3.Connection, sid: int, event: RepDone | PainReported | CommandHandled
) -> None:
    """Insert a rep, a pain report, or a command the session acted on (ignored ones are not)."""
    if isinstance(event, RepDone):
        conn.execute(
            "INSERT INTO reps (session_id, t, exercise, side, set_no, rep, hold_seconds)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (sid, event.t, event.exercise, event.side, event.set, event.rep, event.hold_seconds),
        )
    elif isinstance(event, PainReported):
        conn.execute(
            "INSERT INTO pain (session_id, t, exercise, side, rep, score, symptom)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (sid, event.t, event.exercise, event.side, event.rep, event.score, event.symptom),
        )
    elif not event.ignored:
        conn.execute(
            "INSERT INTO events (session_id, t, kind, state) VALUES (?, ?, ?, ?)",
            (sid, event.t, event.command, event.state),
        )


def insert_plan(conn: sqlite3.Connection, session_id: int, planned: Sequence[PlannedDose]) -> None:
    """Insert the planned reps and per-rep hold of every exercise and side of a session."""
    conn.executemany(
        "INSERT INTO planned (session_id, exercise, exercise_index, side, reps, hold_seconds)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (session_id, p.exercise, p.exercise_index, p.side, p.reps, p.hold_seconds)
            for p in planned
        ],
    )
