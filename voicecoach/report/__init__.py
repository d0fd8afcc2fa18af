"""The care report: adherence, time, reps and holds per side, pain over time; table, CSV, plot."""

from __future__ import annotations

from voicecoach.report.build import (
    ExerciseRow,
    PainRow,
    Report,
    Streak,
    WeekRow,
    build_report,
    imbalanced_sides,
    short_reps,
    wall_clock,
)
from voicecoach.report.export import COLUMNS, session_rows, write_csv
from voicecoach.report.table import format_report

__all__ = [
    "COLUMNS",
    "ExerciseRow",
    "PainRow",
    "Report",
    "Streak",
    "WeekRow",
    "build_report",
    "format_report",
    "imbalanced_sides",
    "session_rows",
    "short_reps",
    "wall_clock",
    "write_csv",
]
