"""The session journal: every session, rep, command and pain report, in one SQLite file.

The journal listens to the session's events. Each completed rep is committed as it happens, so a
crash or Ctrl-C loses at most the rep in progress; a session left open by a killed process is
closed as ``interrupted`` the next time the journal is opened for writing.
"""

from __future__ import annotations

from voicecoach.events import PlannedDose
from voicecoach.journal.files import ENV_VAR, default_journal_path
from voicecoach.journal.records import (
    ExerciseTotal,
    JournalEvent,
    PainEntry,
    PainRecord,
    RepRecord,
    SessionRecord,
    SessionSummary,
)
from voicecoach.journal.resume import (
    RESUMABLE_REASONS,
    RESUME_WITHIN,
    ResumePoint,
    resume_point,
)
from voicecoach.journal.schema import SCHEMA_VERSION
from voicecoach.journal.store import Journal, read_history

__all__ = [
    "ENV_VAR",
    "RESUMABLE_REASONS",
    "RESUME_WITHIN",
    "SCHEMA_VERSION",
    "ExerciseTotal",
    "Journal",
    "JournalEvent",
    "PainEntry",
    "PainRecord",
    "PlannedDose",
    "RepRecord",
    "ResumePoint",
    "SessionRecord",
    "SessionSummary",
    "default_journal_path",
    "read_history",
    "resume_point",
]
