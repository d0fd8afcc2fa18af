"""The session journal: every session, rep, command and pain report, in one SQLite file.

The journal listens to the session's events. Each completed rep is committed as it happens, so a
crash or Ctrl-C loses at most the rep in progress; a session left open by a killed process is
closed as ``interrupted`` the next time the journal is opened for writing.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypedDict

import platformdirs

from voicecoach.errors import JournalError
from voicecoach.events import (
    CommandHandled,
    Event,
    PainReported,
    RepDone,
    SessionEnded,
    SessionStarted,
)

_LOGGER = logging.getLogger(__name__)

#: Environment variable that points at the journal file.
ENV_VAR = "VOICECOACH_JOURNAL"
#: The schema this code writes; stored in SQLite's ``user_version``.
SCHEMA_VERSION = 1

# The journal holds health data: only its owner may read it.
_FILE_MODE = 0o600
_DIR_MODE = 0o700
# Another voicecoach process may hold the write lock briefly (a rep being committed).
_BUSY_TIMEOUT_S = 5.0
_BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")

_SCHEMA_V1 = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    program TEXT NOT NULL,
    title TEXT NOT NULL,
    started_at TEXT NOT NULL,
    -- started_at as Unix seconds: ISO strings with different offsets do not sort as text.
    started_ts REAL NOT NULL,
    total_reps INTEGER NOT NULL,
    ended_at TEXT,
    end_reason TEXT,
    duration_s REAL,
    rating INTEGER CHECK (rating BETWEEN 0 AND 10),
    -- boot id and pid of the recording process, to tell a live session from an orphan.
    owner TEXT
);
CREATE INDEX sessions_by_start ON sessions (started_ts);
CREATE TABLE reps (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    t REAL NOT NULL,
    exercise TEXT NOT NULL,
    side TEXT,
    set_no INTEGER NOT NULL,
    rep INTEGER NOT NULL,
    hold_seconds REAL NOT NULL
);
CREATE INDEX reps_by_session ON reps (session_id);
CREATE TABLE pain (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    t REAL NOT NULL,
    exercise TEXT,
    side TEXT,
    rep INTEGER NOT NULL,
    score INTEGER,
    symptom TEXT
);
CREATE INDEX pain_by_session ON pain (session_id);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    t REAL NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX events_by_session ON events (session_id);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Entry i upgrades a journal from user_version i to i + 1.
_MIGRATIONS: tuple[str, ...] = (_SCHEMA_V1,)

_LAST_T_SQL = """
SELECT max(t) FROM (
    SELECT max(t) AS t FROM reps WHERE session_id = :id
    UNION ALL SELECT max(t) FROM pain WHERE session_id = :id
    UNION ALL SELECT max(t) FROM events WHERE session_id = :id
)
"""


def default_journal_path() -> Path:
    """The journal file: ``$VOICECOACH_JOURNAL``, else ``journal.sqlite3`` in the data folder."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_data_path("voicecoach") / "journal.sqlite3"


class ExerciseTotal(TypedDict):
    """Reps done of one exercise on one side; ``hold_seconds`` is the total time held."""

    exercise: str
    side: str | None
    reps: int
    hold_seconds: float


class PainEntry(TypedDict):
    """One pain report; ``score`` is 0-10, or None when no number was given."""

    exercise: str | None
    side: str | None
    rep: int
    score: int | None


@dataclass(frozen=True)
class SessionSummary:
    """One session as listed by the journal; ``duration_s`` is None only while it is running."""

    id: int
    program: str
    started_at: str
    end_reason: str | None
    duration_s: float | None
    reps_done: int
    exercises: list[ExerciseTotal]
    pain: list[PainEntry]

    def to_json(self) -> dict[str, Any]:
        """The session as a JSON-ready dict."""
        return {
            "id": self.id,
            "program": self.program,
            "started_at": self.started_at,
            "end_reason": self.end_reason,
            "duration_s": self.duration_s,
            "reps_done": self.reps_done,
            "exercises": [dict(e) for e in self.exercises],
            "pain": [dict(p) for p in self.pain],
        }


@dataclass(frozen=True)
class JournalEvent:
    """A command the session acted on; ``t`` is seconds since the session started."""

    t: float
    kind: str
    state: str


class Journal:
    """The SQLite journal of sessions; a context manager and a session listener."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._conn: sqlite3.Connection | None = None
        self._empty = False
        self._session_id: int | None = None
        self._started_at = ""
        self._last_t = 0.0

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Self:
        if self.readonly:
            self._conn, version = _open_readonly(self.path)
            self._empty = version == 0
        else:
            self._conn = _open_writable(self.path)
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
        with _translated(self.path, event):
            match event:
                case SessionStarted():
                    self._start(conn, event)
                case SessionEnded():
                    self._end(conn, event)
                case RepDone() | PainReported() | CommandHandled():
                    self._record(conn, event)
                # What the person said stays out of the file: the commands it led to are enough.

    def _start(self, conn: sqlite3.Connection, event: SessionStarted) -> None:
        if self._session_id is not None:
            _LOGGER.warning("a new session started before session %s ended", self._session_id)
            self._close_open_session("interrupted", raise_errors=True)
        started_at, started_ts = _parse_start(event.started_at)
        cursor = conn.execute(
            "INSERT INTO sessions (program, title, started_at, started_ts, total_reps, owner)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (event.program, event.title, started_at, started_ts, event.total_reps, _owner()),
        )
        self._session_id = cursor.lastrowid
        self._started_at = started_at
        self._last_t = event.t
        _LOGGER.info("session %s started (%s)", self._session_id, event.program)

    def _end(self, conn: sqlite3.Connection, event: SessionEnded) -> None:
        if self._session_id is None:
            _LOGGER.warning("session end without a session start; not recorded")
            return
        _finish(conn, self._session_id, self._started_at, event.reason, event.duration)
        _LOGGER.info("session %s ended (%s)", self._session_id, event.reason)
        self._session_id = None

    def _record(
        self, conn: sqlite3.Connection, event: RepDone | PainReported | CommandHandled
    ) -> None:
        if self._session_id is None:
            _LOGGER.warning("%s event outside a session; not recorded", event.type)
            return
        sid = self._session_id
        if isinstance(event, RepDone):
            conn.execute(
                "INSERT INTO reps (session_id, t, exercise, side, set_no, rep, hold_seconds)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    sid,
                    event.t,
                    event.exercise,
                    event.side,
                    event.set,
                    event.rep,
                    event.hold_seconds,
                ),
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

    def _close_open_session(self, reason: str, raise_errors: bool) -> None:
        """End the session being recorded with ``reason``; used when no end event came."""
        sid, self._session_id = self._session_id, None
        if sid is None or self._conn is None:
            return
        try:
            with _translated(self.path):
                duration_s = max(self._last_t, _last_t(self._conn, sid))
                _finish(self._conn, sid, self._started_at, reason, duration_s)
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
        if self._empty:
            return []
        since_ts = since.timestamp() if since is not None else None
        with _translated(self.path):
            rows = conn.execute(
                "SELECT id, program, started_at, end_reason, duration_s, owner,"
                " (SELECT count(*) FROM reps WHERE reps.session_id = sessions.id)"
                " FROM sessions WHERE :since IS NULL OR started_ts >= :since"
                " ORDER BY started_ts DESC, id DESC LIMIT :limit",
                {"since": since_ts, "limit": -1 if limit is None else limit},
            ).fetchall()
            return [self._summary(conn, row) for row in rows]

    def _summary(self, conn: sqlite3.Connection, row: tuple[Any, ...]) -> SessionSummary:
        sid, program, started_at, end_reason, duration_s, owner, reps_done = row
        if end_reason is None:
            # Still open: either running in another process, or an orphan not yet closed.
            end_reason = None if _owner_alive(owner) else "interrupted"
            duration_s = _last_t(conn, sid) if end_reason else None
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
            sid, program, started_at, end_reason, duration_s, reps_done, exercises, pain
        )

    def events(self, session_id: int) -> list[JournalEvent]:
        """The commands recorded for one session, in order."""
        conn = self._reader()
        if self._empty:
            return []
        with _translated(self.path):
            rows = conn.execute(
                "SELECT t, kind, state FROM events WHERE session_id = ? ORDER BY t, id",
                (session_id,),
            ).fetchall()
        return [JournalEvent(t, kind, state) for t, kind, state in rows]

    def set_rating(self, session_id: int, score: int) -> None:
        """Store the 0-10 back rating given at the end of a session."""
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise ValueError(f"a rating is a whole number from 0 to 10, not {score!r}")
        conn = self._writer()
        with _translated(self.path):
            cursor = conn.execute(
                "UPDATE sessions SET rating = ? WHERE id = ?", (score, session_id)
            )
        if cursor.rowcount == 0:
            raise JournalError(f"no session {session_id} in the journal {self.path}")

    def rating(self, session_id: int) -> int | None:
        """The back rating of a session, or None when none was given."""
        conn = self._reader()
        if self._empty:
            return None
        with _translated(self.path):
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


# -- opening -------------------------------------------------------------------------------


def _open_writable(path: Path) -> sqlite3.Connection:
    _create_file(path)
    conn = _connect(path, str(path), uri=False)
    try:
        with _translated(path):
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode survives a crash of this process; only power loss can undo the
            # last commits, and it spares the audio loop an fsync on every rep.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            _migrate(conn, path)
            _probe_write(conn)
            _close_orphans(conn)
        _restrict_sidecars(path)
    except BaseException:
        conn.close()
        raise
    return conn


def _open_readonly(path: Path) -> tuple[sqlite3.Connection, int]:
    """Open for reading only, never creating the file; returns the connection and schema version."""
    if path.is_dir():
        raise JournalError(_is_directory_message(path), event=str(path))
    if not path.exists():
        raise JournalError(
            f"there is no journal at {path} yet; it is created by the first session",
            event=str(path),
        )
    if not os.access(path, os.R_OK):
        raise JournalError(
            f"cannot read the journal {path}; check its permissions", event=str(path)
        )
    uri = path.resolve().as_uri() + "?mode=ro"
    conn = _connect(path, uri, uri=True)
    try:
        try:
            return conn, _schema_version(conn, path, readonly=True)
        except JournalError as err:
            if not _wal_index_blocked(err, path):
                raise
        conn.close()
        # With no -wal file nothing is being written, but in a read-only folder SQLite cannot
        # create its WAL index; read the file as it stands instead.
        conn = _connect(path, uri + "&immutable=1", uri=True)
        return conn, _schema_version(conn, path, readonly=True)
    except BaseException:
        conn.close()
        raise


def _wal_index_blocked(err: JournalError, path: Path) -> bool:
    cause = err.__cause__
    if not isinstance(cause, sqlite3.Error) or path.with_name(path.name + "-wal").exists():
        return False
    code = getattr(cause, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN)


def _connect(path: Path, target: str, *, uri: bool) -> sqlite3.Connection:
    with _translated(path):
        return sqlite3.connect(target, timeout=_BUSY_TIMEOUT_S, isolation_level=None, uri=uri)


def _create_file(path: Path) -> None:
    """Create the journal file owner-only before SQLite touches it."""
    if path.is_dir():
        raise JournalError(_is_directory_message(path), event=str(path))
    try:
        path.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
        os.close(fd)
    except OSError as err:
        raise JournalError(_os_error_message(path, err), event=str(path)) from err
    # SQLite needs to create its -wal and -shm files beside the journal.
    if not os.access(path.parent, os.W_OK):
        raise JournalError(
            f"cannot write in the folder {path.parent}, which holds the journal {path}; "
            "make the folder writable or choose another journal with --journal",
            event=str(path),
        )


def _schema_version(conn: sqlite3.Connection, path: Path, *, readonly: bool) -> int:
    with _translated(path):
        version: int = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
    if version == 0 and tables:
        raise JournalError(
            f"{path} is an SQLite file but not a voicecoach journal; "
            "choose another path with --journal or VOICECOACH_JOURNAL",
            event=str(path),
        )
    if version > SCHEMA_VERSION:
        raise JournalError(
            f"the journal {path} was written by a newer voicecoach (schema {version}); "
            "upgrade voicecoach to use it",
            event=str(path),
        )
    if readonly and 0 < version < SCHEMA_VERSION:
        raise JournalError(
            f"the journal {path} is from an older voicecoach; start a session once to upgrade it",
            event=str(path),
        )
    return version


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = _schema_version(conn, path, readonly=False)
    for target, script in enumerate(_MIGRATIONS[version:], start=version + 1):
        _LOGGER.info("upgrading %s to schema %d", path, target)
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {target};\nCOMMIT;"
            )
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _probe_write(conn: sqlite3.Connection) -> None:
    """Write once now, so a read-only file or full disk shows up before a session starts."""
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('opened_at', ?)",
        (datetime.now().astimezone().isoformat(timespec="seconds"),),
    )


def _close_orphans(conn: sqlite3.Connection) -> None:
    """Close sessions whose recording process died without ending them."""
    rows = conn.execute(
        "SELECT id, started_at, owner FROM sessions WHERE end_reason IS NULL"
    ).fetchall()
    for sid, started_at, owner in rows:
        if _owner_alive(owner):
            continue
        duration_s = _last_t(conn, sid)
        _finish(conn, sid, started_at, "interrupted", duration_s)
        _LOGGER.warning("session %s was left open; closed as interrupted", sid)


def _restrict_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        try:
            os.chmod(sidecar, _FILE_MODE)
        except FileNotFoundError:
            pass
        except OSError as err:
            _LOGGER.warning("cannot restrict %s: %s", sidecar, err)


# -- writing helpers -----------------------------------------------------------------------


def _finish(
    conn: sqlite3.Connection, sid: int, started_at: str, reason: str, duration_s: float
) -> None:
    conn.execute(
        "UPDATE sessions SET end_reason = ?, duration_s = ?, ended_at = ? WHERE id = ?",
        (reason, duration_s, _plus_seconds(started_at, duration_s), sid),
    )


def _last_t(conn: sqlite3.Connection, sid: int) -> float:
    """Session seconds of the last rep, pain report or command recorded (0 if none)."""
    value = conn.execute(_LAST_T_SQL, {"id": sid}).fetchone()[0]
    return float(value) if value is not None else 0.0


def _parse_start(started_at: str) -> tuple[str, float]:
    try:
        return started_at, datetime.fromisoformat(started_at).timestamp()
    except ValueError:
        now = datetime.now().astimezone()
        _LOGGER.warning("start time %r is not ISO-8601; using %s", started_at, now)
        return now.isoformat(timespec="seconds"), now.timestamp()


def _plus_seconds(started_at: str, seconds: float) -> str:
    try:
        start = datetime.fromisoformat(started_at)
    except ValueError:
        return started_at
    return (start + timedelta(seconds=seconds)).isoformat(timespec="seconds")


def _boot_id() -> str:
    try:
        return _BOOT_ID_FILE.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _owner() -> str:
    return f"{_boot_id()}/{os.getpid()}"


def _owner_alive(owner: str | None) -> bool:
    """Whether the process that recorded a session may still be recording it."""
    boot, _, pid_text = (owner or "").rpartition("/")
    # A pid from before a reboot may now belong to any other process.
    if not pid_text.isdigit() or boot != _boot_id() or sys.platform == "win32":
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- errors --------------------------------------------------------------------------------


@contextmanager
def _translated(path: Path, event: object | None = None) -> Iterator[None]:
    """Turn SQLite and OS failures into a JournalError that says what to do."""
    try:
        yield
    except sqlite3.Error as err:
        raise JournalError(_sqlite_message(path, err), event=event or str(path)) from err
    except OSError as err:
        raise JournalError(_os_error_message(path, err), event=event or str(path)) from err


def _is_directory_message(path: Path) -> str:
    return (
        f"the journal path {path} is a folder; give a file path "
        "(for example .../journal.sqlite3) with --journal or VOICECOACH_JOURNAL"
    )


def _read_only_message(path: Path) -> str:
    return (
        f"the journal {path} is read-only; make it and its folder writable "
        "or choose another journal with --journal"
    )


def _full_message(path: Path) -> str:
    return f"the disk holding the journal {path} is full; free some space and try again"


def _sqlite_message(path: Path, err: sqlite3.Error) -> str:
    code = getattr(err, "sqlite_errorcode", 0) & 0xFF
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return (
            f"the journal {path} is damaged or not a journal ({err}); move it aside "
            f"(for example rename it to {path.name}.bad); the next session starts a new one"
        )
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH):
        return _read_only_message(path)
    if code == sqlite3.SQLITE_FULL:
        return _full_message(path)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return f"the journal {path} is busy in another voicecoach; try again when it finishes"
    if code == sqlite3.SQLITE_CANTOPEN:
        return (
            f"cannot open the journal {path}; check that its folder exists and is writable, "
            "or choose another journal with --journal"
        )
    return (
        f"cannot use the journal {path} ({err}); the disk may be full or failing: "
        "free some space, check the disk, or choose another journal with --journal"
    )


def _os_error_message(path: Path, err: OSError) -> str:
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return _full_message(path)
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return _read_only_message(path)
    if err.errno == errno.EISDIR:
        return _is_directory_message(path)
    if err.errno in (errno.ENOTDIR, errno.EEXIST):
        return f"cannot create the journal {path}: part of its folder path is a file, not a folder"
    return f"cannot open the journal {path}: {err.strerror or err}"
