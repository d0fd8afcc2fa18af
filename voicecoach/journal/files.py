"""Opening the journal file: owner-only permissions, WAL mode, migrations and orphaned sessions."""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path

import platformdirs

from voicecoach.errors import JournalError
from voicecoach.journal.failures import is_directory_message, os_error_message, translated
from voicecoach.journal.schema import LAST_T_SQL, MIGRATIONS, OLDEST_READABLE, SCHEMA_VERSION

_LOGGER = logging.getLogger(__name__)

#: Environment variable that points at the journal file.
ENV_VAR = "VOICECOACH_JOURNAL"

# The journal holds health data: only its owner may read it.
_FILE_MODE = 0o600
_DIR_MODE = 0o700
# Another voicecoach process may hold the write lock briefly (a rep being committed).
_BUSY_TIMEOUT_S = 5.0
_BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


def default_journal_path() -> Path:
    """The journal file: ``$VOICECOACH_JOURNAL``, else ``journal.sqlite3`` in the data folder."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_data_path("voicecoach") / "journal.sqlite3"


def open_writable(path: Path) -> sqlite3.Connection:
    """Open (creating, upgrading and tidying as needed) the journal for recording."""
    _create_file(path)
    conn = _connect(path, str(path), uri=False)
    try:
        with translated(path):
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


def open_readonly(path: Path) -> tuple[sqlite3.Connection, int]:
    """Open for reading only, never creating the file; returns the connection and schema version."""
    if path.is_dir():
        raise JournalError(is_directory_message(path), event=str(path))
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
    with translated(path):
        return sqlite3.connect(target, timeout=_BUSY_TIMEOUT_S, isolation_level=None, uri=uri)


def _create_file(path: Path) -> None:
    """Create the journal file owner-only before SQLite touches it."""
    if path.is_dir():
        raise JournalError(is_directory_message(path), event=str(path))
    try:
        path.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
        os.close(fd)
    except OSError as err:
        raise JournalError(os_error_message(path, err), event=str(path)) from err
    # SQLite needs to create its -wal and -shm files beside the journal.
    if not os.access(path.parent, os.W_OK):
        raise JournalError(
            f"cannot write in the folder {path.parent}, which holds the journal {path}; "
            "make the folder writable or choose another journal with --journal",
            event=str(path),
        )


def _schema_version(conn: sqlite3.Connection, path: Path, *, readonly: bool) -> int:
    with translated(path):
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
    if readonly and 0 < version < OLDEST_READABLE:
        raise JournalError(
            f"the journal {path} is from an older voicecoach; start a session once to upgrade it",
            event=str(path),
        )
    return version


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = _schema_version(conn, path, readonly=False)
    for target, script in enumerate(MIGRATIONS[version:], start=version + 1):
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
        if owner_alive(owner):
            continue
        finish(conn, sid, started_at, "interrupted", last_t(conn, sid))
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


# -- shared by writing and reading ---------------------------------------------------------


def finish(
    conn: sqlite3.Connection, sid: int, started_at: str, reason: str, duration_s: float
) -> None:
    """Record how and when a session ended."""
    conn.execute(
        "UPDATE sessions SET end_reason = ?, duration_s = ?, ended_at = ? WHERE id = ?",
        (reason, duration_s, _plus_seconds(started_at, duration_s), sid),
    )


def last_t(conn: sqlite3.Connection, sid: int) -> float:
    """Session seconds of the last rep, pain report or command recorded (0 if none)."""
    value = conn.execute(LAST_T_SQL, {"id": sid}).fetchone()[0]
    return float(value) if value is not None else 0.0


def parse_start(started_at: str) -> tuple[str, float]:
    """The start time as recorded and as Unix seconds; a malformed time becomes now."""
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


def owner() -> str:
    """This process, as recorded beside the session it is recording."""
    return f"{_boot_id()}/{os.getpid()}"


def owner_alive(owner: str | None) -> bool:
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
