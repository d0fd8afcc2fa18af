"""Preparing today's session: the personal dose from the journal, and a resume offer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from voicecoach.journal import Journal
from voicecoach.plan import Plan, build_plan
from voicecoach.program import Program
from voicecoach.progression import Dose, announcements, histories, personal_program
from voicecoach.session import Session
from voicecoach.settings import SessionSettings

_LOGGER = logging.getLogger(__name__)

DoseChoice = Literal["personal", "base"]
#: True: continue an unfinished session without asking; False: never; None: ask by voice.
ResumeChoice = bool | None


@dataclass(frozen=True)
class Prepared:
    """Today's plan, the doses behind it, and the session that will walk it."""

    plan: Plan
    doses: tuple[Dose, ...]
    session: Session


def todays_plan(
    program: Program, journal: Journal | None, dose: DoseChoice, today: datetime
) -> tuple[Plan, list[Dose]]:
    """The plan at today's personal dose (announcing changes), or at the program's base dose."""
    if journal is None or dose == "base":
        return build_plan(program), []
    history = histories(
        journal.history(program.name), program, before=today, simulated=journal.simulated
    )
    personal, doses = personal_program(program, history, today)
    return build_plan(personal, notes=announcements(doses, program)), doses


def prepare(
    program: Program,
    journal: Journal | None,
    *,
    dose: DoseChoice = "personal",
    resume: ResumeChoice = None,
    settings: SessionSettings | None = None,
    today: datetime | None = None,
) -> Prepared:
    """Build today's session from the journal's history; the journal is only read."""
    now = today or datetime.now().astimezone()
    plan, doses = todays_plan(program, journal, dose, now)
    point = None
    if journal is not None and resume is not False:
        point = journal.last_unfinished(plan.program, now=now)
    resume_plan = None
    if point is not None:
        _LOGGER.info("session %d is unfinished at %s", point.session_id, point.exercise)
        resume_plan = build_plan(
            plan.program,
            notes=announcements(doses, program),
            start_exercise=point.exercise,
            start_side=point.side,
        )
    session = Session(
        plan,
        settings,
        resume_plan=resume_plan,
        ask_resume=resume is None,
        resumed_from=point.session_id if point is not None else None,
    )
    return Prepared(plan, tuple(doses), session)
