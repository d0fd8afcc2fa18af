"""The Journal: a session listener that records into SQLite, and the questions it answers."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

from voicecoach.errors import JournalError
from voicecoach.events import (
    BackRating,
    CommandHandled,
    Event,
    PainReported,
    RepDone,
    ResumeAccepted,
    SessionEnded,
    SessionStarted,
)
from voicecoach.history import (
    RESUME_WITHIN,
    JournalEvent,
    ResumePoint,
    SessionRecord,
    SessionSummary,
    resume_point,
)
from voicecoach.journal import queries
from voicecoach.journal.failures import translated
from voicecoach.journal.files import (
    finish,
    last_t,
    open_readonly,
    open_writable,
    owner,
    parse_start,
)
from voicecoach.journal.schema import SCHEMA_VERSION
from voicecoach.journal.writes import insert_event, insert_plan
from voicecoach.program import Program

_LOGGER = logging.getLogger(__name__)


class Journal:
    """The SQLite journal of sessions; a context manager and a session listener.

    A journal opened with ``simulated=True`` marks every session it records as simulated, and
    offers to resume simulated sessions too; otherwise only real sessions are resumed.
    """

    def __init__(self, path: Path, *, readonly: bool = False, simulated: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.simulated = simulated
        self._conn: sqlite3.Connection | None = None
        self._version = SCHEMA_VERSION
        self._session_id: int | None = None
        self._last_ended_id: int | None = None
        self._started_at = ""
        self._last_t = 0.0

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Self:
        if self.readonly:
            self._conn, self._version = open_readonly(self.path)
        else:
            self._conn = open_writable(self.path)
        _LOGGER.info("journal open at %s%s", self.path, " (read-only)" if self.readonly else "")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._session_id is not None:
                failed = exc_type is not None and issubclass(exc_type, Exception)
                self._close_open_session("error" if failed else "interrupted", exc is None)
        finally:
            self.close()

    def close(self) -> None:
        """Close the file without touching any open session (it becomes an orphan)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def current_session_id(self) -> int | None:
        """The id of the session being recorded, if any."""
        return self._session_id

    # -- listening -------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """Record one session event; each write is committed at once."""
        conn = self._writer()
        self._last_t = max(self._last_t, event.t)
        with translated(self.path, event):
            match event:
                case SessionStarted():
                    self._start(conn, event)
                case SessionEnded():
                    self._end(conn, event)
                case BackRating():
                    self._rate(conn, event)
                case ResumeAccepted():
                    self._link(conn, event)
                case RepDone() | PainReported() | CommandHandled():
                    self._record(conn, event)
                # What the person said stays out of the file: the commands it led to are enough.

    def _start(self, conn: sqlite3.Connection, event: SessionStarted) -> None:
        if self._session_id is not None:
            _LOGGER.warning("a new session started before session %s ended", self._session_id)
            self._close_open_session("interrupted", raise_errors=True)
        started_at, started_ts = parse_start(event.started_at)
        self._last_ended_id = None
        cursor = conn.execute(
            "INSERT INTO sessions (program, title, started_at, started_ts, total_reps, owner,"
            " resumed_from, simulated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.program,
                event.title,
                started_at,
                started_ts,
                event.total_reps,
                owner(),
                event.resumed_from,
                int(self.simulated),
            ),
        )
        self._session_id = cursor.lastrowid
        self._started_at = started_at
        self._last_t = event.t
        if self._session_id is not None:
            insert_plan(conn, self._session_id, event.planned)
        _LOGGER.info("session %s started (%s)", self._session_id, event.program)

    def _end(self, conn: sqlite3.Connection, event: SessionEnded) -> None:
        if self._session_id is None:
            _LOGGER.warning("session end without a session start; not recorded")
            return
        finish(conn, self._session_id, self._started_at, event.reason, event.duration)
        _LOGGER.info("session %s ended (%s)", self._session_id, event.reason)
        self._last_ended_id, self._session_id = self._session_id, None

    def _rate(self, conn: sqlite3.Connection, event: BackRating) -> None:
        # The question may be asked just before or just after the session's end event; after
        # the end, only one answer is taken, so a stray one cannot overwrite it later.
        sid = self._session_id
        if sid is None:
            sid, self._last_ended_id = self._last_ended_id, None
        if sid is None:
            _LOGGER.warning("back rating outside a session; not recorded")
            return
        conn.execute("UPDATE sessions SET rating = ? WHERE id = ?", (event.score, sid))

    def _record(
        self, conn: sqlite3.Connection, event: RepDone | PainReported | CommandHandled
    ) -> None:
        if self._session_id is None:
            _LOGGER.warning("%s event outside a session; not recorded", event.type)
            return
        insert_event(conn, self._session_id, event)

    def _link(self, conn: sqlite3.Connection, event: ResumeAccepted) -> None:
        if self._session_id is None or event.resumed_from is None:
            return
        conn.execute(
            "UPDATE sessions SET resumed_from = ? WHERE id = ?",
            (event.resumed_from, self._session_id),
        )

    def _close_open_session(self, reason: str, raise_errors: bool) -> None:
        """End the session being recorded with ``reason``; used when no end event came."""
        sid, self._session_id = self._session_id, None
        if sid is None or self._conn is None:
            return
        try:
            with translated(self.path):
                duration_s = max(self._last_t, last_t(self._conn, sid))
                finish(self._conn, sid, self._started_at, reason, duration_s)
            _LOGGER.info("session %s closed as %s", sid, reason)
        except JournalError as err:
            if raise_errors:
                raise
            # Another error is already on its way out; the next open closes this orphan.
            _LOGGER.warning("could not close session %s: %s", sid, err)

    # -- queries ---------------------------------------------------------------------------

    def sessions(
        self, limit: int | None = 20, since: datetime | None = None
    ) -> list[SessionSummary]:
        """Sessions newest first, at most ``limit`` (None: all), started from ``since`` on."""
        conn = self._reader()
        if self._version == 0:
            return []
        since_ts = since.timestamp() if since is not None else None
        with translated(self.path):
            return queries.summaries(conn, self._version, limit, since_ts)

    def events(self, session_id: int) -> list[JournalEvent]:
        """The commands recorded for one session, in order."""
        conn = self._reader()
        if self._version == 0:
            return []
        with translated(self.path):
            return queries.commands(conn, session_id)

    def history(
        self, program: str | None = None, since: datetime | None = None
    ) -> list[SessionRecord]:
        """Whole sessions oldest first: of ``program`` (None: every program), from ``since`` on."""
        conn = self._reader()
        if self._version == 0:
            return []
        since_ts = since.timestamp() if since is not None else None
        with translated(self.path):
            return queries.records(conn, self._version, program=program, since_ts=since_ts)

    def last_unfinished(
        self, program: Program, within: timedelta = RESUME_WITHIN, now: datetime | None = None
    ) -> ResumePoint | None:
        """Where to continue the last session of ``program``, if it ended ``interrupted`` or
        ``stopped`` less than ``within`` before ``now``; None otherwise."""
        conn = self._reader()
        if self._version == 0:
            return None
        now = (now or datetime.now()).astimezone()
        with translated(self.path):
            chain = queries.records(
                conn,
                self._version,
                program=program.name,
                newest_first=True,
                limit=1,
                real_only=not self.simulated,
            )
            # Follow the links back through every session this one resumed.
            while chain and chain[-1].resumed_from is not None and len(chain) < 100:
                linked = queries.records(conn, self._version, session_id=chain[-1].resumed_from)
                if not linked:
                    break
                chain += linked
        return resume_point(chain, program, now, within)

    def set_rating(self, session_id: int, score: int) -> None:
        """Store the 0-10 back rating given at the end of a session."""
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise ValueError(f"a rating is a whole number from 0 to 10, not {score!r}")
        conn = self._writer()
        with translated(self.path):
            cursor = conn.execute(
                "UPDATE sessions SET rating = ? WHERE id = ?", (score, session_id)
            )
        if cursor.rowcount == 0:
            raise JournalError(f"no session {session_id} in the journal {self.path}")

    def rating(self, session_id: int) -> int | None:
        """The back rating of a session, or None when none was given."""
        conn = self._reader()
        if self._version == 0:
            return None
        with translated(self.path):
            row = conn.execute("SELECT rating FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise JournalError(f"no session {session_id} in the journal {self.path}")
        rating: int | None = row[0]
        return rating

    def _reader(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the journal is not open; use it as a context manager")
        return self._conn

    def _writer(self) -> sqlite3.Connection:
        if self.readonly:
            raise RuntimeError("the journal was opened read-only")
        return self._reader()


def read_history(
    path: Path, program: str | None = None, since: datetime | None = None
) -> list[SessionRecord]:
    """``Journal.history`` of the file at ``path``, read-only; empty when there is no file yet."""
    if not path.exists():
        return []
    with Journal(path, readonly=True) as journal:
        return journal.history(program, since)
