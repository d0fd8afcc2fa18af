"""The sound devices in ``voicecoach doctor``: is each there, does it take our rate, and is the
microphone's level usable. The verdicts on measured numbers are pure functions, so each
threshold is tested without the hardware; the checks that touch a device import it inside."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

from voicecoach.app.doctor import Check
from voicecoach.app.invocation import voicecoach_command
from voicecoach.errors import VoiceCoachError
from voicecoach.frames import RATE_HZ

if TYPE_CHECKING:
    from voicecoach.app.doctor import Announce, DoctorOptions
    from voicecoach.audio.devices import DeviceInfo, Kind
    from voicecoach.frames import Samples


#: A peak below this, in dBFS, means the microphone heard nothing: a muted or very low gain.
SILENT_PEAK_DBFS = -50.0


#: A peak at or above this, in dBFS, means the signal clipped: the gain is too high.
CLIPPING_PEAK_DBFS = -0.5


#: Silence played on the speaker to prove it takes audio, in seconds.
_SPEAKER_PROBE_SECONDS = 0.3


_GAIN_FIX = (
    "raise the capture gain: run alsamixer, press F6 to pick the USB microphone, F4 for the "
    "capture controls, raise the level with the up arrow (unmute with space), then save it "
    "with sudo alsactl store; speak during the check"
)


_CLIPPING_FIX = (
    "lower the capture gain: run alsamixer, press F6 to pick the microphone, F4 for capture, "
    "lower the level, then sudo alsactl store; or move the microphone further away"
)


def _missing_fix(kind: str) -> str:
    devices = voicecoach_command("devices")
    if kind == "input":
        return (
            "plug in the USB microphone and check that the system sees it: arecord -l; "
            "with PulseAudio or PipeWire, check that the sound server runs: pactl info; "
            f"then see what voicecoach finds with {devices} and choose one with "
            "--input-device NUMBER or NAME"
        )
    return (
        "connect the speaker (USB, HDMI or the headphone jack) and check that the system sees "
        "it: aplay -l; with PulseAudio or PipeWire, check that the sound server runs: "
        f"pactl info; then see what voicecoach finds with {devices} and choose one "
        "with --output-device NUMBER or NAME"
    )


_PORTAUDIO_FIX = "install the sound library: sudo apt-get install libportaudio2 (or scripts/setup)"


def device_rate_check(kind: Kind, info: DeviceInfo, rate_hz: int | None) -> Check:
    """Whether a device opens at 16 kHz, or at which rate it opens and is resampled."""
    name = f"{kind} device"
    label = f"{info.index} {info.name!r} ({info.host_api})"
    rates = info.input_rates_hz if kind == "input" else info.output_rates_hz
    if rate_hz is None:
        probed = ", ".join(f"{r / 1000:g}" for r in rates) or "none"
        return Check(
            name,
            "fail",
            f"{label} accepts none of the usual rates (accepted, in kHz: {probed})",
            f"choose another device with --{kind}-device; with ALSA use plughw:CARD,DEV rather "
            "than hw:CARD,DEV, because plughw converts rates and formats",
        )
    if rate_hz == RATE_HZ:
        return Check(name, "ok", f"{label} opens at 16 kHz")
    khz = f"{rate_hz / 1000:g}"
    return Check(name, "ok", f"{label} has no 16 kHz: opens at {khz} kHz, resampled to 16 kHz")


def peak_dbfs(samples: Samples) -> float:
    """The largest absolute sample in dB relative to full scale (-120 for silence)."""
    peak = float(abs(samples).max()) if len(samples) else 0.0
    return 20.0 * math.log10(peak) if peak > 1e-6 else -120.0


def level_check(peak: float, rms: float, seconds: float, label: str) -> Check:
    """The microphone level verdict: silent (gain too low), clipping (too high) or fine."""
    detail = f"{label}, {seconds:g} s recorded: peak {peak:.1f} dBFS, RMS {rms:.1f} dBFS"
    if peak < SILENT_PEAK_DBFS:
        return Check("microphone level", "warn", f"{detail}: silent", _GAIN_FIX)
    if peak >= CLIPPING_PEAK_DBFS:
        return Check("microphone level", "warn", f"{detail}: clipping", _CLIPPING_FIX)
    return Check("microphone level", "ok", detail)


def missing_device_check(kind: Kind, listed: int) -> Check:
    """The failure when PortAudio lists no device of this kind, with the way to fix it."""
    if listed:
        why = f"the {listed} audio device(s) listed have no {kind} channels"
    else:
        why = "no sound card is listed and no sound server was reached"
    return Check(
        f"{kind} device", "fail", f"no audio {kind} device found: {why}", _missing_fix(kind)
    )


def _choose_fix(kind: Kind, spec: str | None) -> str:
    devices = voicecoach_command("devices")
    fix = f"choose one that {devices} lists, with --{kind}-device NUMBER or NAME"
    if spec is not None and "plughw" in spec and not os.environ.get("PA_ALSA_PLUGHW"):
        # PortAudio names ALSA hardware (hw:CARD,DEV) unless this variable asks for plughw.
        fix += "; PortAudio lists plughw:CARD,DEV devices only with PA_ALSA_PLUGHW=1 set"
    return fix


def _find(kind: Kind, spec: str | None) -> tuple[Check | None, DeviceInfo | None]:
    """The device a session would use, or the failed check that explains why there is none."""
    from voicecoach.audio.devices import find_device, list_devices

    try:
        devices = list_devices()
    except VoiceCoachError as err:
        return Check(f"{kind} device", "fail", str(err), _PORTAUDIO_FIX), None
    usable = [d for d in devices if (d.input_channels if kind == "input" else d.output_channels)]
    if not usable:
        return missing_device_check(kind, len(devices)), None
    try:
        index = find_device(spec, kind)
    except VoiceCoachError as err:
        return Check(f"{kind} device", "fail", str(err), _choose_fix(kind, spec)), None
    return None, next(d for d in devices if d.index == index)


def check_input_device(spec: str | None) -> Check:
    """The microphone a session would use, and the rate it will be opened at."""
    from voicecoach.audio.devices import choose_rate_hz

    problem, info = _find("input", spec)
    if problem is not None or info is None:
        return problem or Check("input device", "fail", "no input device")
    rate_hz = choose_rate_hz(info.input_rates_hz.__contains__, info.default_rate_hz)
    return device_rate_check("input", info, rate_hz)


def check_output_device(spec: str | None) -> Check:
    """The speaker a session would use, opened for real with a moment of silence played."""
    import numpy as np

    from voicecoach.audio.devices import DeviceSpeaker
    from voicecoach.frames import split_frames

    problem, info = _find("output", spec)
    if problem is not None or info is None:
        return problem or Check("output device", "fail", "no output device")
    silence = np.zeros(round(_SPEAKER_PROBE_SECONDS * RATE_HZ), np.float32)
    try:
        with DeviceSpeaker(spec) as speaker:
            for frame in split_frames(silence):
                speaker.play(frame)
            rate_hz = speaker.device_rate_hz
    except VoiceCoachError as err:
        fix = (
            "close other programs that use the speaker (systemctl --user stop voicecoach if "
            "the service runs), or choose another with --output-device"
        )
        return Check("output device", "fail", str(err), fix)
    return device_rate_check("output", info, rate_hz)


def check_microphone_level(spec: str | None, seconds: float) -> Check:
    """Record from the microphone for real and judge the level: silent, clipping or fine."""
    import numpy as np

    from voicecoach.audio.devices import DeviceMicrophone
    from voicecoach.frames import FRAME_SECONDS, rms_dbfs

    try:
        with DeviceMicrophone(spec) as mic:
            frames = [mic.read() for _ in range(max(1, round(seconds / FRAME_SECONDS)))]
            label = f"{mic.label} at {mic.device_rate_hz / 1000:g} kHz"
    except VoiceCoachError as err:
        fix = (
            "close other programs that use the microphone (systemctl --user stop voicecoach "
            "if the service runs), or choose another with --input-device"
        )
        return Check("microphone level", "fail", str(err), fix)
    samples = np.concatenate(frames)
    return level_check(peak_dbfs(samples), rms_dbfs(samples), seconds, label)


def level_or_not_run(options: DoctorOptions, input_check: Check, announce: Announce) -> Check:
    if input_check.status == "fail":
        return Check(
            "microphone level",
            "fail",
            "not run: there is no input device to record from",
            "fix the input device first",
        )
    announce(f"listening for {options.level_seconds:g} s: say something at your normal volume")
    return check_microphone_level(options.input_device, options.level_seconds)
