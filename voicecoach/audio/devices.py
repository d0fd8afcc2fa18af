"""Sound card adapters through sounddevice (PortAudio): the live microphone and speaker.

Devices are opened at 16 kHz when they accept it, else at their own rate, and the program
resamples with a streaming filter that keeps its state across blocks (``portaudio.py`` finds
the device and the rate).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

import numpy as np

from voicecoach.audio.portaudio import (
    CallbackFlags,
    DeviceInfo,
    DeviceSpec,
    Kind,
    Stream,
    choose_rate_hz,
    close_stream,
    find_device,
    list_devices,
    open_error,
    plan_opening,
    sounddevice_module,
)
from voicecoach.errors import AudioDeviceError
from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples, StreamingResampler

__all__ = [
    "DeviceInfo",
    "DeviceMicrophone",
    "DeviceSpeaker",
    "DeviceSpec",
    "Kind",
    "choose_rate_hz",
    "find_device",
    "list_devices",
]

_LOGGER = logging.getLogger(__name__)

#: Longest wait for the first block: PulseAudio and Bluetooth devices can take seconds to start.
_START_SECONDS = 3.0
#: Blocks the microphone keeps while the program is busy; older ones are dropped beyond this.
_MIC_BACKLOG_SECONDS = 2.0
#: Buffer asked of PortAudio, in seconds. Its "low" setting (about 9 ms through PulseAudio)
#: made ALSA report underruns on a busy two-core machine; 50 ms did not.
_STREAM_LATENCY_SECONDS = 0.05


class DeviceMicrophone:
    """A live microphone: ``read`` blocks until the next 20 ms frame at 16 kHz is ready."""

    def __init__(
        self,
        device: DeviceSpec = None,
        block_seconds: float = 0.02,
        rate_hz: int | None = None,
        timeout_seconds: float = 1.0,
    ) -> None:
        if block_seconds <= 0 or timeout_seconds <= 0:
            raise ValueError("block_seconds and timeout_seconds must be positive")
        self.device = device
        #: Length of each block the device delivers, in seconds.
        self.block_seconds = block_seconds
        #: A rate to open the device at, in hertz, instead of choosing one.
        self.requested_rate_hz = rate_hz
        #: How long ``read`` waits for audio, in seconds, before it declares the device lost.
        self.timeout_seconds = timeout_seconds
        #: The rate the device is open at, in hertz (known after ``__enter__``).
        self.device_rate_hz = 0
        self.label = f"input device {device!r}"
        #: Blocks PortAudio or this adapter had to drop because the program fell behind.
        self.overflows = 0
        self._stream: Stream | None = None
        self._blocks: queue.Queue[Samples] = queue.Queue()
        self._pending = np.zeros(0, np.float32)
        self._resampler = StreamingResampler(RATE_HZ, RATE_HZ)
        self._started_at = 0.0
        self._failure: str | None = None

    def __enter__(self) -> Self:
        sd = sounddevice_module()
        opening = plan_opening(sd, self.device, "input", self.requested_rate_hz)
        self.label, self.device_rate_hz = opening.label, opening.rate_hz
        backlog = max(1, int(_MIC_BACKLOG_SECONDS / self.block_seconds))
        self._blocks = queue.Queue(maxsize=backlog)
        self._pending = np.zeros(0, np.float32)
        self._resampler = StreamingResampler(opening.rate_hz, RATE_HZ)
        self._failure, self.overflows = None, 0
        try:
            self._started_at = time.monotonic()
            self._stream = sd.InputStream(
                device=opening.index,
                samplerate=opening.rate_hz,
                channels=opening.channels,
                dtype="float32",
                blocksize=max(1, round(opening.rate_hz * self.block_seconds)),
                latency=_STREAM_LATENCY_SECONDS,
                callback=self._callback,
                finished_callback=self._finished,
            )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as err:
            self._stream = None
            raise open_error(opening.label, err) from err
        _LOGGER.info("recording from %s at %d Hz", self.label, self.device_rate_hz)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stream is not None:
            close_stream(self._stream, self.label, abort=True)
            self._stream = None
        if self.overflows:
            _LOGGER.info("%s: %d blocks lost to overflow", self.label, self.overflows)

    def _callback(
        self, indata: Samples, frames: int, time_info: object, status: CallbackFlags
    ) -> None:
        # Runs on PortAudio's thread: copy and hand over, nothing slow.
        if status.input_overflow:
            self.overflows += 1
        block = np.array(indata.mean(axis=1) if indata.shape[1] > 1 else indata[:, 0], np.float32)
        try:
            self._blocks.put_nowait(block)
        except queue.Full:
            # The program is far behind: keep the newest audio, which matters for "stop".
            self.overflows += 1
            with contextlib.suppress(queue.Empty):
                self._blocks.get_nowait()
            self._blocks.put_nowait(block)

    def _finished(self) -> None:
        self._failure = "the stream stopped"

    def read(self) -> Samples:
        """The next 20 ms frame at 16 kHz; raises AudioDeviceError if the device goes silent."""
        if self._stream is None:
            raise AudioDeviceError(f"{self.label} is not open; use it in a with block")
        while len(self._pending) < FRAME_SAMPLES:
            self._pending = np.concatenate([self._pending, self._resampler.process(self._next())])
        frame, self._pending = self._pending[:FRAME_SAMPLES], self._pending[FRAME_SAMPLES:]
        return frame

    def _next(self) -> Samples:
        since_start = time.monotonic() - self._started_at
        wait_seconds = max(self.timeout_seconds, _START_SECONDS - since_start)
        try:
            block = self._blocks.get(timeout=wait_seconds)
        except queue.Empty:
            reason = self._failure or f"no audio for {wait_seconds:.1f} s"
            raise AudioDeviceError(
                f"{self.label} stopped delivering audio ({reason}); was it unplugged?",
                event=self.label,
            ) from None
        return block


class _SampleQueue:
    """Samples waiting for the output callback; callers hold the speaker's lock."""

    def __init__(self) -> None:
        self._parts: collections.deque[Samples] = collections.deque()
        self.size = 0

    def push(self, samples: Samples) -> None:
        if len(samples):
            self._parts.append(samples)
            self.size += len(samples)

    def pop_into(self, out: Samples) -> int:
        """Fill ``out`` from the front; returns how many samples were available."""
        filled = 0
        while filled < len(out) and self._parts:
            part = self._parts[0]
            take = min(len(part), len(out) - filled)
            out[filled : filled + take] = part[:take]
            if take == len(part):
                self._parts.popleft()
            else:
                self._parts[0] = part[take:]
            filled += take
        self.size -= filled
        return filled

    def clear(self) -> None:
        self._parts.clear()
        self.size = 0


class DeviceSpeaker:
    """A live speaker: ``play`` queues a 16 kHz frame; when nothing is queued it plays silence."""

    def __init__(
        self,
        device: DeviceSpec = None,
        rate_hz: int | None = None,
        buffer_seconds: float = 0.25,
        prefill_seconds: float = 0.06,
        timeout_seconds: float = 1.0,
    ) -> None:
        if not 0 <= prefill_seconds < buffer_seconds or timeout_seconds <= 0:
            raise ValueError("need 0 <= prefill_seconds < buffer_seconds and timeout_seconds > 0")
        self.device = device
        #: A rate to open the device at, in hertz, instead of choosing one.
        self.requested_rate_hz = rate_hz
        #: Audio queued ahead of the device, in seconds; ``play`` waits while more is queued.
        self.buffer_seconds = buffer_seconds
        #: Audio queued before output starts (and restarts after an underrun), in seconds: it
        #: absorbs the jitter of a program that plays one frame per microphone frame.
        self.prefill_seconds = prefill_seconds
        #: How long ``play`` waits for the device to take audio before declaring it lost.
        self.timeout_seconds = timeout_seconds
        #: The rate the device is open at, in hertz (known after ``__enter__``).
        self.device_rate_hz = 0
        self.label = f"output device {device!r}"
        #: Times silence was played mid-stream: the queue was empty after playing began (the
        #: program was late), or the device ran dry before a callback (PortAudio was late).
        self.underruns = 0
        self._stream: Stream | None = None
        self._queue = _SampleQueue()
        self._ready = threading.Condition()
        self._resampler = StreamingResampler(RATE_HZ, RATE_HZ)
        self._playing = False
        self._flowing = False
        self._prefill = 0
        self._started_at = 0.0
        self._last_callback = 0.0
        self._failure: str | None = None

    def __enter__(self) -> Self:
        sd = sounddevice_module()
        opening = plan_opening(sd, self.device, "output", self.requested_rate_hz)
        self.label, self.device_rate_hz = opening.label, opening.rate_hz
        self._resampler = StreamingResampler(RATE_HZ, opening.rate_hz)
        self._queue.clear()
        self._playing, self._flowing, self._failure, self.underruns = False, False, None, 0
        self._prefill = int(self.prefill_seconds * opening.rate_hz)
        try:
            self._stream = sd.OutputStream(
                device=opening.index,
                samplerate=opening.rate_hz,
                channels=opening.channels,
                dtype="float32",
                latency=_STREAM_LATENCY_SECONDS,
                callback=self._callback,
                finished_callback=self._finished,
            )
            self._started_at = self._last_callback = time.monotonic()
            self._stream.start()
        except (sd.PortAudioError, ValueError) as err:
            self._stream = None
            raise open_error(opening.label, err) from err
        _LOGGER.info("playing to %s at %d Hz", self.label, self.device_rate_hz)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stream is None:
            return
        try:
            if exc is None:
                self.drain()
        finally:
            # After a failure or Ctrl-C stop at once instead of finishing the queue.
            close_stream(self._stream, self.label, abort=exc is not None)
            self._stream = None
            if self.underruns:
                _LOGGER.info("%s: %d underruns (silence was played)", self.label, self.underruns)

    @property
    def latency_seconds(self) -> float:
        """What the device itself buffers, in seconds, as PortAudio reports it."""
        return float(self._stream.latency) if self._stream is not None else 0.0

    def _callback(
        self, outdata: Samples, frames: int, time_info: object, status: CallbackFlags
    ) -> None:
        # Runs on PortAudio's thread: never raise, never wait long; silence fills any gap.
        mono = np.zeros(frames, np.float32)
        with self._ready:
            self._last_callback = time.monotonic()
            # The device itself ran dry before this call (PortAudio's callback was late).
            self.underruns += int(bool(status.output_underflow))
            if not self._flowing and (self._queue.size >= self._prefill or not self._playing):
                self._flowing = self._queue.size > 0
            if self._flowing:
                filled = self._queue.pop_into(mono)
                if filled < frames:
                    self._flowing = False
                    # Ran dry while the program was still playing: it is late. Silence fills in.
                    self.underruns += int(self._playing)
            self._ready.notify_all()
        outdata[:] = mono[:, None]

    def _finished(self) -> None:
        with self._ready:
            self._failure = "the stream stopped"
            self._ready.notify_all()

    def play(self, frame: Samples) -> None:
        """Queue a frame at 16 kHz; waits while more than ``buffer_seconds`` is queued."""
        if self._stream is None:
            raise AudioDeviceError(f"{self.label} is not open; use it in a with block")
        samples = self._resampler.process(np.asarray(frame, dtype=np.float32))
        limit = int(self.buffer_seconds * self.device_rate_hz)
        with self._ready:
            self._wait_until(lambda: self._queue.size <= limit)
            self._queue.push(samples)
            self._playing = True

    def drain(self) -> None:
        """Wait until everything queued has been handed to the device."""
        if self._stream is None:
            return
        with self._ready:
            self._playing = False  # running out of audio now is expected, not an underrun
            self._queue.push(self._resampler.flush())
            self._wait_until(lambda: self._queue.size == 0)
        # The device's own buffer still holds the tail; let it play out.
        time.sleep(self.latency_seconds)

    def _wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait on the lock until ``condition``; a device that stops taking audio is lost."""
        while not condition():
            if self._failure is not None:
                raise AudioDeviceError(
                    f"{self.label} stopped ({self._failure}); was it unplugged?", event=self.label
                )
            self._ready.wait(timeout=0.05)
            now = time.monotonic()
            silent_seconds = now - self._last_callback
            starting = now - self._started_at < _START_SECONDS
            if silent_seconds > self.timeout_seconds and not starting:
                raise AudioDeviceError(
                    f"{self.label} took no audio for {silent_seconds:.1f} s; was it unplugged?",
                    event=self.label,
                )
