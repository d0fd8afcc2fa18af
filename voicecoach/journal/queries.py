"""Reading the journal: summaries for listing, and whole sessions for progression and reports."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from voicecoach.events import PainReported, PlannedDose, RepDone, Side
from voicecoach.history import (
    ExerciseTotal,
    JournalEvent,
    PainEntry,
    SessionRecord,
    SessionSummary,
)
from voicecoach.journal.files import last_t, owner_alive

#: A row as sqlite3 gives it: untyped, each column read by its place.
_Row = tuple[Any, ...]

_SUMMARY_SQL = """
SELECT id, program, started_at, end_reason, duration_s, owner,
    (SELECT count(*) FROM reps WHERE reps.session_id = sessions.id), {simulated}
FROM sessions WHERE :since IS NULL OR started_ts >= :since
ORDER BY started_ts DESC, id DESC LIMIT :limit
"""

# Sessions of one program (or all), from a time on, oldest first; or one session by id.
_SESSIONS_SQL = """
SELECT id, program, title, started_at, started_ts, end_reason, duration_s, owner, rating, {linked},
    {simulated}
FROM sessions
WHERE (:program IS NULL OR program = :program)
    AND (:real_only = 0 OR {simulated} = 0)
    AND (:since IS NULL OR started_ts >= :since)
    AND (:id IS NULL OR id = :id)
ORDER BY started_ts {order}, id {order} LIMIT :limit
"""


_CHUNK = 500


def _simulated_column(version: int) -> str:
    """The ``simulated`` column, or the constant every session had before it was kept."""
    return "simulated" if version >= 3 else "0"


def _end_of(
    conn: sqlite3.Connection, sid: int, end_reason: str | None, duration_s: float | None, owner: str
) -> tuple[str | None, float | None]:
    """How a session ended; one left open by a process that died counts as interrupted."""
    if end_reason is not None:
        return end_reason, duration_s
    if owner_alive(owner):
        return None, None
    return "interrupted", last_t(conn, sid)


def summaries(
    conn: sqlite3.Connection, version: int, limit: int | None, since_ts: float | None
) -> list[SessionSummary]:
    """Session summaries newest first."""
    sql = _SUMMARY_SQL.format(simulated=_simulated_column(version))
    rows = conn.execute(
        sql, {"since": since_ts, "limit": -1 if limit is None else limit}
    ).fetchall()
    return [_summary(conn, row) for row in rows]


def _summary(conn: sqlite3.Connection, row: _Row) -> SessionSummary:
    sid, program, started_at, end_reason, duration_s, owner, reps_done, simulated = row
    end_reason, duration_s = _end_of(conn, sid, end_reason, duration_s, owner)
    exercises = [
        ExerciseTotal(exercise=e, side=s, reps=n, hold_seconds=round(h, 1))
        for e, s, n, h in conn.execute(
            "SELECT exercise, side, count(*), sum(hold_seconds) FROM reps"
            " WHERE session_id = ? GROUP BY exercise, side ORDER BY min(id)",
            (sid,),
        )
    ]
    pain = [
        PainEntry(exercise=e, side=s, rep=r, score=sc)
        for e, s, r, sc in conn.execute(
            "SELECT exercise, side, rep, score FROM pain WHERE session_id = ? ORDER BY id",
            (sid,),
        )
    ]
    return SessionSummary(
        sid,
        program,
        started_at,
        end_reason,
        duration_s,
        reps_done,
        exercises,
        pain,
        bool(simulated),
    )


def commands(conn: sqlite3.Connection, session_id: int) -> list[JournalEvent]:
    """The commands recorded for one session, in order."""
    rows = conn.execute(
        "SELECT t, kind, state FROM events WHERE session_id = ? ORDER BY t, id", (session_id,)
    ).fetchall()
    return [JournalEvent(t, kind, state) for t, kind, state in rows]


def records(
    conn: sqlite3.Connection,
    version: int,
    *,
    program: str | None = None,
    since_ts: float | None = None,
    session_id: int | None = None,
    newest_first: bool = False,
    limit: int | None = None,
    real_only: bool = False,
) -> list[SessionRecord]:
    """Whole sessions, oldest first unless ``newest_first``; ``real_only`` leaves out simulated."""
    sql = _SESSIONS_SQL.format(
        linked="resumed_from" if version >= 2 else "NULL",
        simulated=_simulated_column(version),
        order="DESC" if newest_first else "ASC",
    )
    params = {
        "real_only": int(real_only),
        "program": program,
        "since": since_ts,
        "id": session_id,
        "limit": -1 if limit is None else limit,
    }
    rows = conn.execute(sql, params).fetchall()
    ids = [row[0] for row in rows]
    parts = _Parts(conn, ids, planned=version >= 2)
    return [_record(conn, row, parts) for row in rows]


class _Parts:
    """Reps, pain reports, commands and planned doses of many sessions, grouped by session."""

    def __init__(self, conn: sqlite3.Connection, ids: list[int], *, planned: bool) -> None:
        self.reps: dict[int, list[RepDone]] = defaultdict(list)
        self.pain: dict[int, list[PainReported]] = defaultdict(list)
        self.commands: dict[int, list[JournalEvent]] = defaultdict(list)
        self.planned: dict[int, list[PlannedDose]] = defaultdict(list)
        if not ids:
            return
        for sid, t, ex, side, set_no, rep, hold in _rows(
            conn, "t, exercise, side, set_no, rep, hold_seconds", "reps", ids
        ):
            self.reps[sid].append(RepDone(t, ex, _side(side), set_no, rep, hold))
        for sid, t, ex, side, rep, score, symptom in _rows(
            conn, "t, exercise, side, rep, score, symptom", "pain", ids
        ):
            self.pain[sid].append(PainReported(t, ex, _side(side), rep, score, symptom))
        for sid, t, kind, state in _rows(conn, "t, kind, state", "events", ids):
            self.commands[sid].append(JournalEvent(t, kind, state))
        if planned:
            for sid, ex, index, side, reps, hold in _rows(
                conn, "exercise, exercise_index, side, reps, hold_seconds", "planned", ids
            ):
                self.planned[sid].append(PlannedDose(ex, index, _side(side), reps, hold))


def _rows(conn: sqlite3.Connection, columns: str, table: str, ids: list[int]) -> Iterable[_Row]:
    rows: list[_Row] = []
    # In chunks: SQLite limits how many parameters one statement may take.
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows += conn.execute(
            f"SELECT session_id, {columns} FROM {table}"
            f" WHERE session_id IN ({marks}) ORDER BY session_id, id",
            chunk,
        ).fetchall()
    return rows


def _side(value: object) -> Side | None:
    return value if value in ("left", "right") else None


def _record(conn: sqlite3.Connection, row: _Row, parts: _Parts) -> SessionRecord:
    sid, program, title, started_at, started_ts, end_reason, duration_s, owner, rating = row[:9]
    linked, simulated = row[9:]
    end_reason, duration_s = _end_of(conn, sid, end_reason, duration_s, owner)
    return SessionRecord(
        id=sid,
        program=program,
        title=title,
        started_at=started_at,
        started=datetime.fromtimestamp(started_ts, tz=UTC),
        end_reason=end_reason,
        duration_s=duration_s,
        rating=rating,
        resumed_from=linked,
        reps=tuple(parts.reps[sid]),
        pain=tuple(parts.pain[sid]),
        commands=tuple(parts.commands[sid]),
        planned=tuple(parts.planned[sid]),
        simulated=bool(simulated),
    )
