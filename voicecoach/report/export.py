"""The journal as one CSV file: one row per event, each row carrying its session's columns."""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from voicecoach.errors import ReportError
from voicecoach.history import SessionRecord

_LOGGER = logging.getLogger(__name__)

#: Session columns first, then the event's own; empty cells where a column does not apply.
COLUMNS = (
    "session_id",
    "program",
    "started_at",
    "end_reason",
    "duration_s",
    "rating",
    "resumed_from",
    "simulated",
    "event",
    "t",
    "exercise",
    "side",
    "set",
    "rep",
    "hold_seconds",
    "score",
    "symptom",
    "command",
    "state",
)


def session_rows(record: SessionRecord) -> list[dict[str, object]]:
    """One session's rows: start, then reps, pain reports and commands in time order, then the
    end-of-session rating (if any) and the end."""
    session = {
        "session_id": record.id,
        "program": record.program,
        "started_at": record.started_at,
        "end_reason": record.end_reason or "running",
        "duration_s": record.duration_s,
        "rating": record.rating,
        "resumed_from": record.resumed_from,
        "simulated": int(record.simulated),
    }
    end_t = record.duration_s or 0.0
    rows: list[dict[str, object]] = [{**session, "event": "start", "t": 0.0}]
    rows += [row for _, row in sorted(_events(record), key=lambda timed: timed[0])]
    if record.rating is not None:
        rows.append({"event": "rating", "t": end_t, "score": record.rating})
    rows.append({"event": "end", "t": end_t})
    return [{**session, **row} for row in rows]


def _events(record: SessionRecord) -> Iterator[tuple[float, dict[str, object]]]:
    """Each rep, pain report and command as (session seconds, row)."""
    for r in record.reps:
        yield (
            r.t,
            {
                "event": "rep",
                "t": r.t,
                "exercise": r.exercise,
                "side": r.side,
                "set": r.set,
                "rep": r.rep,
                "hold_seconds": r.hold_seconds,
            },
        )
    for p in record.pain:
        yield (
            p.t,
            {
                "event": "pain",
                "t": p.t,
                "exercise": p.exercise,
                "side": p.side,
                "rep": p.rep,
                "score": p.score,
                "symptom": p.symptom,
            },
        )
    for c in record.commands:
        yield c.t, {"event": "command", "t": c.t, "command": c.kind, "state": c.state}


#: Decimals kept in the CSV: a millisecond, so sums like 140.14000000000001 read as 140.14.
_DECIMALS = 3


def _rounded(row: dict[str, object]) -> dict[str, object]:
    return {key: round(v, _DECIMALS) if isinstance(v, float) else v for key, v in row.items()}


def open_private(path: Path, mode: str, **kwargs: Any) -> IO[Any]:
    """Open ``path`` for writing, created readable by its owner only: it holds health data."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    return open(path, mode, opener=lambda name, _: os.open(name, flags, 0o600), **kwargs)


def write_csv(records: Sequence[SessionRecord], path: Path) -> int:
    """Write every session and event to ``path``; returns the number of rows written."""
    rows = [_rounded(row) for record in records for row in session_rows(record)]
    try:
        with open_private(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=COLUMNS, extrasaction="raise")
            writer.writeheader()
            writer.writerows(rows)
    except OSError as err:
        raise ReportError(f"cannot write {path}: {err.strerror or err}", event=str(path)) from err
    _LOGGER.info("wrote %d rows to %s", len(rows), path)
    return len(rows)
