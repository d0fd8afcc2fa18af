"""A listener that keeps every event in memory, for tests and tools that inspect a session."""

from __future__ import annotations

from voicecoach.events import Event, to_record


class EventRecorder:
    """Collects events in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def on_event(self, event: Event) -> None:
        """Keep the event."""
        self.events.append(event)

    def records(self) -> list[dict[str, object]]:
        """The events as event-log records."""
        return [to_record(e) for e in self.events]

    def of_type(self, kind: str) -> list[Event]:
        """Only the events whose ``type`` is ``kind``."""
        return [e for e in self.events if e.type == kind]
