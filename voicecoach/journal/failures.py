"""SQLite and OS failures turned into JournalErrors that say what to do."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from voicecoach.errors import JournalError


@contextmanager
def translated(path: Path, event: object | None = None) -> Iterator[None]:
    """Turn SQLite and OS failures into a JournalError that says what to do."""
    try:
        yield
    except sqlite3.Error as err:
        raise JournalError(sqlite_message(path, err), event=event or str(path)) from err
    except OSError as err:
        raise JournalError(os_error_message(path, err), event=event or str(path)) from err


def is_directory_message(path: Path) -> str:
    """The message for a journal path that names a folder."""
    return (
        f"the journal path {path} is a folder; give a file path "
        "(for example .../journal.sqlite3) with --journal or VOICECOACH_JOURNAL"
    )


def read_only_message(path: Path) -> str:
    """The message for a journal that cannot be written."""
    return (
        f"the journal {path} is read-only; make it and its folder writable "
        "or choose another journal with --journal"
    )


def _full_message(path: Path) -> str:
    return f"the disk holding the journal {path} is full; free some space and try again"


def sqlite_message(path: Path, err: sqlite3.Error) -> str:
    """What to do about an SQLite failure on the journal."""
    code = getattr(err, "sqlite_errorcode", 0) & 0xFF
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return (
            f"the journal {path} is damaged or not a journal ({err}); move it aside "
            f"(for example rename it to {path.name}.bad); the next session starts a new one"
        )
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH):
        return read_only_message(path)
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


def os_error_message(path: Path, err: OSError) -> str:
    """What to do about an OS failure on the journal file or its folder."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return _full_message(path)
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return read_only_message(path)
    if err.errno == errno.EISDIR:
        return is_directory_message(path)
    if err.errno in (errno.ENOTDIR, errno.EEXIST):
        return f"cannot create the journal {path}: part of its folder path is a file, not a folder"
    return f"cannot open the journal {path}: {err.strerror or err}"
