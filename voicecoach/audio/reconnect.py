"""Keeping a device port open through a session: noticing its loss and reopening it."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Protocol, Self

from voicecoach.errors import AudioDeviceError
from voicecoach.events import DeviceName

_LOGGER = logging.getLogger(__name__)


class _Port(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Reconnecting:
    """One device port: open, lost since some time, and retried every ``retry_seconds``."""

    def __init__(self, port: _Port, name: DeviceName, retry_seconds: float = 3.0) -> None:
        self.port = port
        #: "microphone" or "speaker", as told to the person.
        self.name = name
        self.retry_seconds = retry_seconds
        self.lost = False
        self._open = False
        self._next_try = 0.0

    def open(self) -> None:
        """Open the port; a failure here is raised, since a session must not start without it."""
        self.port.__enter__()
        self._open = True

    def close(self) -> None:
        """Close the port if it is open; closing errors of a lost device are only logged."""
        if self._open:
            self._open = False
            try:
                self.port.__exit__(None, None, None)
            except AudioDeviceError as err:
                _LOGGER.info("closing the lost %s: %s", self.name, err)

    def fail(self, t: float, err: AudioDeviceError) -> str:
        """Mark the port lost at session time ``t``; returns what happened, for the person."""
        self.lost = True
        self.close()
        self._next_try = t + self.retry_seconds
        return str(err)

    def retry(self, t: float) -> bool:
        """Try to reopen a lost port when a retry is due; True once it works again."""
        if not self.lost or t < self._next_try:
            return False
        self._next_try = t + self.retry_seconds
        try:
            self.open()
        except AudioDeviceError as err:
            _LOGGER.info("the %s is still unavailable: %s", self.name, err)
            return False
        self.lost = False
        return True
