"""Sound card adapters through sounddevice (PortAudio): device lookup, microphone and speaker.

Devices are opened at 16 kHz when they accept it; many USB microphones offer only 44.1 or
48 kHz, so otherwise the device's own rate is used and the program resamples, with a streaming
filter that keeps its state across blocks. sounddevice is imported on first use, so importing
this module is cheap and a missing PortAudio library becomes an AudioDeviceError with the fix.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import Literal, Protocol, Self, TypeAlias

import numpy as np

from voicecoach.errors import AudioDeviceError
from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples, StreamingResampler

_LOGGER = logging.getLogger(__name__)

Kind = Literal["input", "output"]
DeviceSpec = str | int | None

#: Rates reported by ``list_devices``, in hertz.
PROBE_RATES_HZ = (8000, 16000, 22050, 32000, 44100, 48000)
#: Rates tried when opening, in order; None stands for the device's default rate.
_OPEN_RATES_HZ: tuple[int | None, ...] = (RATE_HZ, None, 48000, 44100, 32000, 22050)
#: Longest wait for the first block: PulseAudio and Bluetooth devices can take seconds to start.
_START_SECONDS = 3.0
#: Blocks the microphone keeps while the program is busy; older ones are dropped beyond this.
_MIC_BACKLOG_SECONDS = 2.0
#: Buffer asked of PortAudio, in seconds. Its "low" setting (about 9 ms through PulseAudio)
#: made ALSA report underruns on a busy two-core machine; 50 ms did not.
_STREAM_LATENCY_SECONDS = 0.05

_SETUP_HINT = (
    "check that a sound card or USB microphone/speaker is connected (arecord -l, aplay -l), "
    "or that PulseAudio/PipeWire is running (pactl info)"
)


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device; rates are in hertz, those the device accepts for mono float32."""

    index: int
    name: str
    host_api: str
    input_channels: int
    output_channels: int
    default_rate_hz: int
    input_rates_hz: tuple[int, ...]
    output_rates_hz: tuple[int, ...]
    default_input: bool = False
    default_output: bool = False


def _sounddevice() -> ModuleType:
    try:
        return importlib.import_module("sounddevice")
    except OSError as err:
        raise AudioDeviceError(
            f"the PortAudio library is missing ({err}); "
            "install it: sudo apt-get install libportaudio2"
        ) from err
    except ImportError as err:
        raise AudioDeviceError(
            f"the sounddevice package is missing ({err}); install it: pip install sounddevice"
        ) from err


def _defaults(sd: ModuleType) -> tuple[int, int]:
    pair = sd.default.device
    return int(pair[0] if pair[0] is not None else -1), int(pair[1] if pair[1] is not None else -1)


class _Stream(Protocol):
    """The part of a sounddevice stream these adapters use."""

    latency: float

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def abort(self) -> None: ...
    def close(self) -> None: ...


class _Flags(Protocol):
    """sounddevice's CallbackFlags, as far as they are read here."""

    input_overflow: bool
    output_underflow: bool


#: One device as ``sounddevice.query_devices`` describes it.
_Device: TypeAlias = Mapping[str, str | int | float]


def _query(sd: ModuleType) -> list[_Device]:
    try:
        return [dict(device) for device in sd.query_devices()]
    except sd.PortAudioError as err:
        raise AudioDeviceError(f"cannot list audio devices: {err}") from err


def _accepts(sd: ModuleType, kind: Kind, index: int, channels: int, rate_hz: int) -> bool:
    check = sd.check_input_settings if kind == "input" else sd.check_output_settings
    try:
        check(device=index, channels=channels, samplerate=rate_hz, dtype="float32")
    except (sd.PortAudioError, ValueError):
        return False
    return True


def _channels(sd: ModuleType, kind: Kind, index: int, device: _Device) -> int:
    """Mono where the device allows it; some ALSA hardware opens only in stereo."""
    available = int(device[f"max_{kind}_channels"])
    if available <= 1:
        return available
    mono_ok = _accepts(sd, kind, index, 1, int(device["default_samplerate"]))
    return 1 if mono_ok else min(available, 2)


def _rates(sd: ModuleType, kind: Kind, index: int, device: _Device) -> tuple[int, ...]:
    channels = _channels(sd, kind, index, device)
    if channels == 0:
        return ()
    return tuple(rate for rate in PROBE_RATES_HZ if _accepts(sd, kind, index, channels, rate))


def list_devices() -> list[DeviceInfo]:
    """Every PortAudio device with its channels and the probe rates it accepts."""
    sd = _sounddevice()
    default_in, default_out = _defaults(sd)
    infos = []
    for index, device in enumerate(_query(sd)):
        infos.append(
            DeviceInfo(
                index=index,
                name=str(device["name"]),
                host_api=str(sd.query_hostapis(device["hostapi"])["name"]),
                input_channels=int(device["max_input_channels"]),
                output_channels=int(device["max_output_channels"]),
                default_rate_hz=int(device["default_samplerate"]),
                input_rates_hz=_rates(sd, "input", index, device),
                output_rates_hz=_rates(sd, "output", index, device),
                default_input=index == default_in,
                default_output=index == default_out,
            )
        )
    return infos


def _listing(candidates: Sequence[tuple[int, _Device]]) -> str:
    return ", ".join(f"{index} {device['name']!r}" for index, device in candidates) or "none"


def find_device(device: DeviceSpec, kind: Kind) -> int:
    """The index of a device given by number, name or part of its name, or None for the default."""
    sd = _sounddevice()
    devices = _query(sd)
    usable = [(i, d) for i, d in enumerate(devices) if int(d[f"max_{kind}_channels"]) > 0]
    if not usable:
        raise AudioDeviceError(f"no audio {kind} device found; {_SETUP_HINT}", event=device)
    if device is None:
        default = _defaults(sd)[0 if kind == "input" else 1]
        if any(index == default for index, _ in usable):
            return default
        _LOGGER.info("no default %s device; using %r", kind, usable[0][1]["name"])
        return usable[0][0]
    if isinstance(device, int) or device.strip().isdigit():
        return _by_index(int(device), kind, usable)
    return _by_name(device, kind, usable)


def _by_index(index: int, kind: Kind, usable: list[tuple[int, _Device]]) -> int:
    if any(i == index for i, _ in usable):
        return index
    raise AudioDeviceError(
        f"there is no {kind} device number {index}; {kind} devices: {_listing(usable)}",
        event=index,
    )


def _by_name(name: str, kind: Kind, usable: list[tuple[int, _Device]]) -> int:
    needle = name.strip().casefold()
    exact = [(i, d) for i, d in usable if str(d["name"]).casefold() == needle]
    matches = exact or [(i, d) for i, d in usable if needle in str(d["name"]).casefold()]
    if len(matches) == 1:
        return matches[0][0]
    if not matches:
        raise AudioDeviceError(
            f"no {kind} device matches {name!r}; {kind} devices: {_listing(usable)}", event=name
        )
    raise AudioDeviceError(
        f"{name!r} matches several {kind} devices: {_listing(matches)}; "
        "give more of the name or the number",
        event=name,
    )


def choose_rate_hz(accepts: Callable[[int], bool], default_rate_hz: int) -> int | None:
    """The first rate the device accepts: 16 kHz, its default, then 48, 44.1, 32, 22.05 kHz."""
    tried: set[int] = set()
    for candidate in _OPEN_RATES_HZ:
        rate_hz = default_rate_hz if candidate is None else candidate
        if rate_hz in tried or rate_hz <= 0:
            continue
        tried.add(rate_hz)
        if accepts(rate_hz):
            return rate_hz
    return None


@dataclass(frozen=True)
class _Opening:
    """How a device will be opened."""

    index: int
    label: str
    rate_hz: int
    channels: int


def _plan(sd: ModuleType, device: DeviceSpec, kind: Kind, rate_hz: int | None) -> _Opening:
    index = find_device(device, kind)
    info = dict(sd.query_devices(index))
    label = f"{kind} device {index} {info['name']!r}"
    channels = _channels(sd, kind, index, info)
    if rate_hz is not None:
        return _Opening(index, label, rate_hz, channels)
    tried: list[int] = []

    def accepts(rate: int) -> bool:
        tried.append(rate)
        return _accepts(sd, kind, index, channels, rate)

    chosen = choose_rate_hz(accepts, int(info["default_samplerate"]))
    if chosen is None:
        raise AudioDeviceError(
            f"{label} accepts none of the rates {', '.join(str(r) for r in tried)} Hz "
            f"with {channels} channel(s)",
            event=device,
        )
    return _Opening(index, label, chosen, channels)


def _open_error(label: str, err: Exception) -> AudioDeviceError:
    text = str(err)
    if "busy" in text.lower() or "unavailable" in text.lower():
        return AudioDeviceError(
            f"{label} is busy or unavailable ({text}); is another program using it?", event=label
        )
    return AudioDeviceError(f"cannot open {label}: {text}", event=label)


def _close(stream: _Stream, label: str, abort: bool) -> None:
    """Stop and close a stream; a device that vanished must not turn cleanup into a crash."""
    try:
        if abort:
            stream.abort()
        else:
            stream.stop()
        stream.close()
    except Exception:  # PortAudio raises many kinds here, and cleanup must always finish
        _LOGGER.warning("%s did not close cleanly", label, exc_info=True)


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
        self._stream: _Stream | None = None
        self._blocks: queue.Queue[Samples] = queue.Queue()
        self._pending = np.zeros(0, np.float32)
        self._resampler = StreamingResampler(RATE_HZ, RATE_HZ)
        self._started_at = 0.0
        self._failure: str | None = None

    def __enter__(self) -> Self:
        sd = _sounddevice()
        opening = _plan(sd, self.device, "input", self.requested_rate_hz)
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
            raise _open_error(opening.label, err) from err
        _LOGGER.info("recording from %s at %d Hz", self.label, self.device_rate_hz)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stream is not None:
            _close(self._stream, self.label, abort=True)
            self._stream = None
        if self.overflows:
            _LOGGER.info("%s: %d blocks lost to overflow", self.label, self.overflows)

    def _callback(self, indata: Samples, frames: int, time_info: object, status: _Flags) -> None:
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
        self._stream: _Stream | None = None
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
        sd = _sounddevice()
        opening = _plan(sd, self.device, "output", self.requested_rate_hz)
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
            raise _open_error(opening.label, err) from err
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
            _close(self._stream, self.label, abort=exc is not None)
            self._stream = None
            if self.underruns:
                _LOGGER.info("%s: %d underruns (silence was played)", self.label, self.underruns)

    @property
    def latency_seconds(self) -> float:
        """What the device itself buffers, in seconds, as PortAudio reports it."""
        return float(self._stream.latency) if self._stream is not None else 0.0

    def _callback(self, outdata: Samples, frames: int, time_info: object, status: _Flags) -> None:
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
