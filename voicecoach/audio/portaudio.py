"""PortAudio devices through sounddevice: listing them, finding one, and how to open it.

Devices are opened at 16 kHz when they accept it; many USB microphones offer only 44.1 or
48 kHz, so otherwise the device's own rate is chosen (``choose_rate_hz``). sounddevice is
imported on first use, so importing this module is cheap and a missing PortAudio library
becomes an AudioDeviceError with the fix.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Literal, Protocol, TypeAlias

from voicecoach.errors import AudioDeviceError
from voicecoach.frames import RATE_HZ

_LOGGER = logging.getLogger(__name__)

Kind = Literal["input", "output"]
DeviceSpec = str | int | None

#: Rates reported by ``list_devices``, in hertz.
PROBE_RATES_HZ = (8000, 16000, 22050, 32000, 44100, 48000)
#: Rates tried when opening, in order; None stands for the device's default rate.
_OPEN_RATES_HZ: tuple[int | None, ...] = (RATE_HZ, None, 48000, 44100, 32000, 22050)

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


def sounddevice_module() -> ModuleType:
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


class Stream(Protocol):
    """The part of a sounddevice stream these adapters use."""

    latency: float

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def abort(self) -> None: ...
    def close(self) -> None: ...


class CallbackFlags(Protocol):
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
    sd = sounddevice_module()
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
    sd = sounddevice_module()
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
class Opening:
    """How a device will be opened."""

    index: int
    label: str
    rate_hz: int
    channels: int


def plan_opening(sd: ModuleType, device: DeviceSpec, kind: Kind, rate_hz: int | None) -> Opening:
    index = find_device(device, kind)
    info = dict(sd.query_devices(index))
    label = f"{kind} device {index} {info['name']!r}"
    channels = _channels(sd, kind, index, info)
    if rate_hz is not None:
        return Opening(index, label, rate_hz, channels)
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
    return Opening(index, label, chosen, channels)


def open_error(label: str, err: Exception) -> AudioDeviceError:
    text = str(err)
    if "busy" in text.lower() or "unavailable" in text.lower():
        return AudioDeviceError(
            f"{label} is busy or unavailable ({text}); is another program using it?", event=label
        )
    return AudioDeviceError(f"cannot open {label}: {text}", event=label)


def close_stream(stream: Stream, label: str, abort: bool) -> None:
    """Stop and close a stream; a device that vanished must not turn cleanup into a crash."""
    try:
        if abort:
            stream.abort()
        else:
            stream.stop()
        stream.close()
    except Exception:  # PortAudio raises many kinds here, and cleanup must always finish
        _LOGGER.warning("%s did not close cleanly", label, exc_info=True)
