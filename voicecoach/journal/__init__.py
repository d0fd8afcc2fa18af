"""The session journal: every session, rep, command and pain report, in one SQLite file.

The journal listens to the session's events. Each completed rep is committed as it happens, so a
crash or Ctrl-C loses at most the rep in progress; a session left open by a killed process is
closed as ``interrupted`` the next time the journal is opened for writing. What it gives back
is the core's history model (``voicecoach.history``).
"""

from __future__ import annotations

from voicecoach.journal.files import ENV_VAR, default_journal_path
from voicecoach.journal.schema import SCHEMA_VERSION
from voicecoach.journal.store import Journal, read_history

__all__ = [
    "ENV_VAR",
    "SCHEMA_VERSION",
    "Journal",
    "default_journal_path",
    "read_history",
]
