"""The journal's SQLite schema and the migrations that bring older files up to date."""

from __future__ import annotations

#: The schema this code writes; stored in SQLite's ``user_version``.
SCHEMA_VERSION = 3
#: The oldest schema a read-only reader understands without upgrading the file.
OLDEST_READABLE = 1

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

# The dose each session planned, so reports can tell a hold cut short from a shorter plan, and
# the link from a resumed session to the one it continues.
_SCHEMA_V2 = """
ALTER TABLE sessions ADD COLUMN resumed_from INTEGER REFERENCES sessions (id);
CREATE TABLE planned (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    exercise TEXT NOT NULL,
    exercise_index INTEGER NOT NULL,
    side TEXT,
    reps INTEGER NOT NULL,
    -- seconds held in each rep
    hold_seconds REAL NOT NULL
);
CREATE INDEX planned_by_session ON planned (session_id);
"""

# Sessions run by ``simulate`` are kept apart: they never set a real session's dose, resume
# point or report totals. Older sessions were all real ones, which the default says.
_SCHEMA_V3 = """
ALTER TABLE sessions ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0;
"""

#: Entry i upgrades a journal from user_version i to i + 1.
MIGRATIONS: tuple[str, ...] = (_SCHEMA_V1, _SCHEMA_V2, _SCHEMA_V3)

LAST_T_SQL = """
SELECT max(t) FROM (
    SELECT max(t) AS t FROM reps WHERE session_id = :id
    UNION ALL SELECT max(t) FROM pain WHERE session_id = :id
    UNION ALL SELECT max(t) FROM events WHERE session_id = :id
)
"""
