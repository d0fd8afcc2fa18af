"""The journal: a real SQLite file fed with session events, reopened after crashes and failures."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import SimulateFn
from voicecoach.errors import JournalError
from voicecoach.events import (
    CommandHandled,
    Event,
    Heard,
    PainReported,
    RepDone,
    SessionEnded,
    SessionStarted,
    Side,
    StateChanged,
)
from voicecoach.history import JournalEvent
from voicecoach.journal import ENV_VAR, SCHEMA_VERSION, Journal, default_journal_path

START = "2025-03-01T09:30:00+01:00"
NOBODY = 65534


def _start(started_at: str = START, program: str = "back-basics", total_reps: int = 6) -> Event:
    return SessionStarted(0.0, program, "Back basics", started_at, total_reps)


def _reps(
    exercise: str, side: Side | None, count: int, t0: float, hold_seconds: float
) -> list[Event]:
    return [RepDone(t0 + 10.0 * i, exercise, side, 1, i + 1, hold_seconds) for i in range(count)]


def _record(path: Path, events: Sequence[Event]) -> None:
    with Journal(path) as journal:
        for event in events:
            journal.on_event(event)


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


COMPLETED = [
    _start(),
    StateChanged(1.0, "move", "knee-to-chest", 1, "left", 1),
    *_reps("knee-to-chest", "left", 2, 5.0, 5.0),
    *_reps("knee-to-chest", "right", 2, 30.0, 4.0),
    *_reps("bridge", None, 2, 60.0, 3.0),
    SessionEnded(95.5, "completed", 95.5),
]


# -- recording -----------------------------------------------------------------------------


def test_completed_session_is_summarised(journal_path: Path) -> None:
    _record(journal_path, COMPLETED)
    with Journal(journal_path) as journal:
        (summary,) = journal.sessions()
    assert summary.program == "back-basics"
    assert summary.started_at == START
    assert (summary.end_reason, summary.duration_s, summary.reps_done) == ("completed", 95.5, 6)
    assert summary.exercises == [
        {"exercise": "knee-to-chest", "side": "left", "reps": 2, "hold_seconds": 10.0},
        {"exercise": "knee-to-chest", "side": "right", "reps": 2, "hold_seconds": 8.0},
        {"exercise": "bridge", "side": None, "reps": 2, "hold_seconds": 6.0},
    ]
    assert summary.pain == []
    assert _query(journal_path, "SELECT ended_at, total_reps, title FROM sessions") == [
        ("2025-03-01T09:31:35+01:00", 6, "Back basics")
    ]


def test_stopped_session_keeps_its_commands(journal_path: Path) -> None:
    _record(
        journal_path,
        [
            _start(),
            *_reps("bridge", None, 1, 5.0, 3.0),
            Heard(12.0, "pause", "pause", confidence=0.9),
            CommandHandled(12.1, "pause", "paused"),
            CommandHandled(20.0, "skip", "paused", ignored=True),
            CommandHandled(30.0, "resume", "move"),
            CommandHandled(41.0, "stop", "stopped"),
            SessionEnded(42.0, "stopped", 42.0),
        ],
    )
    with Journal(journal_path) as journal:
        (summary,) = journal.sessions()
        events = journal.events(summary.id)
    assert (summary.end_reason, summary.duration_s, summary.reps_done) == ("stopped", 42.0, 1)
    assert events == [
        JournalEvent(12.1, "pause", "paused"),
        JournalEvent(30.0, "resume", "move"),
        JournalEvent(41.0, "stop", "stopped"),
    ]


def test_pain_reports_keep_score_side_and_symptom(journal_path: Path) -> None:
    _record(
        journal_path,
        [
            _start(),
            *_reps("knee-to-chest", "left", 1, 5.0, 5.0),
            CommandHandled(14.0, "pain", "asking-pain"),
            PainReported(18.0, "knee-to-chest", "left", 2, 6),
            PainReported(25.0, "knee-to-chest", "left", 2, None, symptom="tingling"),
            SessionEnded(26.0, "pain", 26.0),
        ],
    )
    with Journal(journal_path) as journal:
        (summary,) = journal.sessions()
    assert summary.end_reason == "pain"
    assert summary.pain == [
        {"exercise": "knee-to-chest", "side": "left", "rep": 2, "score": 6},
        {"exercise": "knee-to-chest", "side": "left", "rep": 2, "score": None},
    ]
    assert _query(journal_path, "SELECT score, symptom FROM pain ORDER BY id") == [
        (6, None),
        (None, "tingling"),
    ]


def test_to_json_has_exactly_the_documented_keys(journal_path: Path) -> None:
    _record(
        journal_path, [*COMPLETED[:-1], PainReported(70.0, "bridge", None, 2, 3), COMPLETED[-1]]
    )
    with Journal(journal_path, readonly=True) as journal:
        record = journal.sessions()[0].to_json()
    assert list(record) == [
        "id",
        "program",
        "started_at",
        "end_reason",
        "duration_s",
        "reps_done",
        "exercises",
        "pain",
        "simulated",
    ]
    assert record["simulated"] is False
    assert set(record["exercises"][0]) == {"exercise", "side", "reps", "hold_seconds"}
    assert record["pain"] == [{"exercise": "bridge", "side": None, "rep": 2, "score": 3}]


def test_sessions_are_newest_first_with_limit_and_since(journal_path: Path) -> None:
    starts = ["2025-03-01T09:00:00+00:00", "2025-03-03T09:00:00+00:00", "2025-03-02T09:00:00+00:00"]
    with Journal(journal_path) as journal:
        for started_at in starts:
            for event in (_start(started_at), SessionEnded(60.0, "completed", 60.0)):
                journal.on_event(event)
        newest_first = [s.started_at for s in journal.sessions()]
        limited = journal.sessions(limit=1)
        everything = journal.sessions(limit=None)
        recent = journal.sessions(since=datetime(2025, 3, 2, 10, 0, tzinfo=UTC))
    assert newest_first == sorted(starts, reverse=True)
    assert [s.started_at for s in limited] == [starts[1]]
    assert len(everything) == 3
    assert [s.started_at for s in recent] == [starts[1]]


def test_events_outside_a_session_are_not_recorded(journal_path: Path) -> None:
    _record(journal_path, [*_reps("bridge", None, 1, 1.0, 2.0), SessionEnded(2.0, "stopped", 2.0)])
    assert _query(journal_path, "SELECT count(*) FROM reps") == [(0,)]
    assert _query(journal_path, "SELECT count(*) FROM sessions") == [(0,)]


def test_a_second_start_closes_the_first_session(journal_path: Path) -> None:
    _record(
        journal_path,
        [
            _start(),
            *_reps("bridge", None, 2, 5.0, 3.0),
            _start(),
            SessionEnded(9.0, "completed", 9.0),
        ],
    )
    with Journal(journal_path) as journal:
        reasons = [(s.end_reason, s.reps_done, s.duration_s) for s in journal.sessions()]
    assert reasons == [("completed", 0, 9.0), ("interrupted", 2, 15.0)]


def test_rating_is_stored_and_checked(journal_path: Path) -> None:
    _record(journal_path, COMPLETED)
    with Journal(journal_path) as journal:
        session_id = journal.sessions()[0].id
        assert journal.rating(session_id) is None
        journal.set_rating(session_id, 3)
        with pytest.raises(ValueError, match="0 to 10"):
            journal.set_rating(session_id, 11)
        with pytest.raises(JournalError, match="no session 99"):
            journal.set_rating(99, 2)
    with Journal(journal_path, readonly=True) as journal:
        assert journal.rating(session_id) == 3


def test_a_readonly_journal_refuses_events(journal_path: Path) -> None:
    _record(journal_path, COMPLETED)
    with (
        Journal(journal_path, readonly=True) as journal,
        pytest.raises(RuntimeError, match="read-only"),
    ):
        journal.on_event(_start())


# -- the file ------------------------------------------------------------------------------


def test_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "journal.sqlite3"
    with Journal(path) as journal:
        journal.on_event(_start())
        sidecars = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [path, *sidecars] if p.exists()}
        assert modes == {p.name: 0o600 for p in [path, *sidecars]}
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert _query(path, "PRAGMA journal_mode") == [("wal",)]
    assert _query(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_each_rep_is_committed_as_it_happens(journal_path: Path) -> None:
    with Journal(journal_path) as journal:
        for event in [_start(), *_reps("bridge", None, 2, 5.0, 3.0)]:
            journal.on_event(event)
        # Another reader sees the reps while the session is still running.
        with Journal(journal_path, readonly=True) as reader:
            (live,) = reader.sessions()
        # A second writer must not mistake a live session for an orphan.
        with Journal(journal_path):
            pass
        journal.on_event(SessionEnded(20.0, "completed", 20.0))
    assert (live.end_reason, live.duration_s, live.reps_done) == (None, None, 2)
    assert _query(journal_path, "SELECT end_reason FROM sessions") == [("completed",)]


def test_readonly_open_does_not_create_a_missing_journal(journal_path: Path) -> None:
    with pytest.raises(JournalError, match="no journal at") as info:
        Journal(journal_path, readonly=True).__enter__()
    assert str(journal_path) in str(info.value)
    assert not journal_path.exists()


def test_an_empty_file_becomes_a_journal(journal_path: Path) -> None:
    journal_path.touch()
    with Journal(journal_path, readonly=True) as reader:
        assert reader.sessions() == []
    _record(journal_path, COMPLETED)
    with Journal(journal_path, readonly=True) as reader:
        assert len(reader.sessions()) == 1


def test_default_path_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_journal_path().name == "journal.sqlite3"
    assert "voicecoach" in default_journal_path().parts
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "mine.sqlite3"))
    assert default_journal_path() == tmp_path / "mine.sqlite3"


# -- crashes and interruptions -------------------------------------------------------------


KILLED_MID_SESSION = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from voicecoach.events import RepDone, SessionStarted
    from voicecoach.journal import Journal

    with Journal(Path(sys.argv[1])) as journal:
        journal.on_event(SessionStarted(0.0, "back-basics", "Back basics", sys.argv[2], 10))
        for rep in (1, 2, 3):
            journal.on_event(RepDone(10.0 * rep, "bridge", None, 1, rep, 4.5))
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_killed_session_is_closed_as_interrupted(journal_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILLED_MID_SESSION, str(journal_path), START],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -9, done.stderr
    with Journal(journal_path, readonly=True) as reader:
        (seen,) = reader.sessions()
    # Listing alone changes nothing in the file, but already shows what happened.
    assert (seen.end_reason, seen.duration_s) == ("interrupted", 30.0)
    assert _query(journal_path, "SELECT end_reason FROM sessions") == [(None,)]
    with Journal(journal_path) as journal:
        (summary,) = journal.sessions()
    assert (summary.end_reason, summary.duration_s, summary.reps_done) == ("interrupted", 30.0, 3)
    assert summary.exercises == [
        {"exercise": "bridge", "side": None, "reps": 3, "hold_seconds": 13.5}
    ]
    assert _query(journal_path, "SELECT ended_at FROM sessions") == [("2025-03-01T09:30:30+01:00",)]


class _Crash(Exception):
    pass


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (None, "interrupted"),
        (KeyboardInterrupt, "interrupted"),
        (_Crash, "error"),
    ],
)
def test_leaving_with_an_open_session_closes_it(
    journal_path: Path, failure: type[BaseException] | None, reason: str
) -> None:
    def run() -> None:
        with Journal(journal_path) as journal:
            for event in [_start(), *_reps("bridge", None, 2, 5.0, 3.0)]:
                journal.on_event(event)
            journal.on_event(StateChanged(21.0, "rest", "bridge", 1, None, 2))
            if failure is not None:
                raise failure

    if failure is None:
        run()
    else:
        with pytest.raises(failure):
            run()
    with Journal(journal_path) as journal:
        (summary,) = journal.sessions()
    assert (summary.end_reason, summary.duration_s, summary.reps_done) == (reason, 21.0, 2)


# -- files that cannot be used -------------------------------------------------------------


def _open_error(path: Path, *, readonly: bool = False) -> str:
    with pytest.raises(JournalError) as info, Journal(path, readonly=readonly):
        pass
    assert "Traceback" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("readonly", [False, True])
def test_a_corrupt_file_is_a_journal_error(journal_path: Path, readonly: bool) -> None:
    journal_path.write_bytes(bytes(range(256)) * 64)
    message = _open_error(journal_path, readonly=readonly)
    assert str(journal_path) in message
    assert "damaged" in message
    assert "move it aside" in message


@pytest.mark.parametrize("readonly", [False, True])
def test_a_directory_is_a_journal_error(tmp_path: Path, readonly: bool) -> None:
    message = _open_error(tmp_path, readonly=readonly)
    assert str(tmp_path) in message
    assert "is a folder" in message


def test_another_sqlite_file_is_not_taken_over(journal_path: Path) -> None:
    with closing(sqlite3.connect(journal_path)) as conn:
        conn.execute("CREATE TABLE contacts (name TEXT)")
        conn.commit()
    message = _open_error(journal_path)
    assert f"{journal_path} is an SQLite file but not a voicecoach journal" in message


def test_a_journal_from_a_newer_version_is_refused(journal_path: Path) -> None:
    _record(journal_path, COMPLETED)
    with closing(sqlite3.connect(journal_path)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    assert "newer voicecoach" in _open_error(journal_path)


def test_a_parent_that_is_a_file_is_a_journal_error(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a folder")
    path = tmp_path / "plain" / "journal.sqlite3"
    assert str(path) in _open_error(path)


@pytest.fixture
def shared_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder an unprivileged user can reach (pytest's own tmp folders are root-only)."""
    if os.geteuid() != 0:
        yield tmp_path
        for folder in tmp_path.rglob("*"):
            if folder.is_dir():
                folder.chmod(0o700)  # so that pytest can remove it
        return
    folder = Path(tempfile.mkdtemp(prefix="voicecoach-test-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _hand_over(*paths: Path) -> None:
    """Give the files to the unprivileged user that ``_open_error_unprivileged`` runs as."""
    if os.geteuid() == 0:
        for path in paths:
            os.chown(path, NOBODY, NOBODY)


def _open_error_unprivileged(path: Path, *, readonly: bool = False) -> str:
    """The JournalError message from opening ``path`` without root's power to ignore modes."""
    if os.geteuid() != 0:
        try:
            with Journal(path, readonly=readonly):
                return ""
        except JournalError as err:
            return str(err)
    # Root writes through any permission bits, so open it from a child running as 'nobody'.
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        status = 1
        try:
            os.close(read_fd)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            message = ""
            try:
                with Journal(path, readonly=readonly):
                    pass
            except JournalError as err:
                message = str(err)
            os.write(write_fd, message.encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        message = pipe.read().decode()
    _, wait_status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(wait_status) == 0
    return message


def test_a_read_only_file_is_a_journal_error(shared_dir: Path) -> None:
    path = shared_dir / "journal.sqlite3"
    _record(path, COMPLETED)
    _hand_over(path)
    path.chmod(0o400)
    message = _open_error_unprivileged(path)
    assert f"the journal {path} is read-only" in message
    # Listing still works on a journal the user may only read.
    assert _open_error_unprivileged(path, readonly=True) == ""


def test_a_read_only_folder_is_a_journal_error(shared_dir: Path) -> None:
    folder = shared_dir / "locked"
    folder.mkdir()
    existing = folder / "journal.sqlite3"
    _record(existing, COMPLETED)
    _hand_over(folder, existing)
    folder.chmod(0o555)
    message = _open_error_unprivileged(existing)
    assert f"cannot write in the folder {folder}" in message
    assert str(existing) in message
    assert _open_error_unprivileged(existing, readonly=True) == ""
    missing = folder / "new.sqlite3"
    assert f"the journal {missing} is read-only" in _open_error_unprivileged(missing)
    assert not missing.exists()


DISK_FILLS_UP = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    from voicecoach.errors import JournalError
    from voicecoach.events import RepDone, SessionStarted
    from voicecoach.journal import Journal

    path = Path(sys.argv[1])
    # Writes past the size limit fail with an error, as on a full disk, instead of killing us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        with Journal(path) as journal:
            journal.on_event(SessionStarted(0.0, "back-basics", "Back basics", sys.argv[2], 99))
            wal = path.with_name(path.name + "-wal")
            limit = max(wal.stat().st_size, path.stat().st_size) + 32768
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
            for rep in range(1, 100_000):
                journal.on_event(RepDone(float(rep), "bridge" * 50, None, 1, rep, 2.0))
    except JournalError as err:
        print(type(err.event).__name__, err, sep="\\n")
        sys.exit(3)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_FSIZE")
def test_a_full_disk_is_a_journal_error_and_keeps_earlier_reps(journal_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", DISK_FILLS_UP, str(journal_path), START],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done.stderr
    event_type, message = done.stdout.strip().split("\n", 1)
    assert event_type == "RepDone"
    assert str(journal_path) in message
    assert "full" in message
    assert "Traceback" not in done.stdout
    with Journal(journal_path) as journal:
        (summary,) = journal.sessions()
    assert summary.end_reason in ("error", "interrupted")
    assert summary.reps_done > 0


# -- with the real session -----------------------------------------------------------------


def test_a_simulated_session_is_journaled(simulate: SimulateFn, journal_path: Path) -> None:
    with Journal(journal_path) as journal:
        recorded = simulate([(15.0, "pause"), (20.0, "resume")], listeners=[journal])
    (end,) = recorded.of_type("end")
    commands = [e for e in recorded.of_type("command") if isinstance(e, CommandHandled)]
    with Journal(journal_path, readonly=True) as reader:
        (summary,) = reader.sessions()
        kinds = [e.kind for e in reader.events(summary.id)]
    assert isinstance(end, SessionEnded)
    assert (summary.end_reason, summary.duration_s) == (end.reason, end.duration)
    assert summary.reps_done == len(recorded.of_type("rep"))
    assert kinds == [c.command for c in commands if not c.ignored]
    assert "pause" in kinds
