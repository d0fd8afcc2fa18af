"""Sound devices through a real PulseAudio null sink: a tone played is a tone heard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from pulse import PulseSink
from pulse import pulse_sink as pulse_sink

from voicecoach.app.invocation import voicecoach_command
from voicecoach.audio.devices import (
    DeviceMicrophone,
    DeviceSpeaker,
    choose_rate_hz,
    find_device,
    list_devices,
)
from voicecoach.audio.files import read_audio, write_wav
from voicecoach.cli import main
from voicecoach.errors import AudioDeviceError
from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples, rms_dbfs, split_frames
from voicecoach.ports import Microphone, Speaker

TONE_HZ = 1000.0


def _tone(seconds: float) -> Samples:
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    return (0.5 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)


def _play_and_record(sink: PulseSink, rate_hz: int | None) -> tuple[Samples, int]:
    """Play one second of tone and half a second of silence, one frame per frame heard; what
    was heard, and how often the speaker ran dry (the machine was late)."""
    frames = [*split_frames(_tone(1.0)), *split_frames(np.zeros(RATE_HZ // 2, np.float32))]
    heard = []
    with (
        DeviceMicrophone(sink.device, rate_hz=rate_hz) as mic,
        DeviceSpeaker(sink.device, rate_hz=rate_hz) as speaker,
    ):
        if rate_hz is not None:
            assert (mic.device_rate_hz, speaker.device_rate_hz) == (rate_hz, rate_hz)
        for frame in frames:
            speaker.play(frame)
            heard.append(mic.read())
        underruns = speaker.underruns
    return np.concatenate(heard), underruns


@pytest.mark.audio
@pytest.mark.parametrize("rate_hz", [None, 48000, 44100])
def test_a_tone_played_on_the_speaker_is_heard_by_the_microphone(
    pulse_sink: PulseSink, rate_hz: int | None
) -> None:
    # A busy machine can make the device run dry, which is a click this test would blame on
    # the frame handling; the speaker counts those, so such a try is made again.
    for _ in range(3):
        heard, underruns = _play_and_record(pulse_sink, rate_hz)
        if underruns == 0:
            break
    else:
        pytest.fail(f"the speaker ran dry in each of 3 tries ({underruns} times in the last)")
    assert len(heard) % FRAME_SAMPLES == 0
    assert heard.dtype == np.float32
    levels = np.array([rms_dbfs(f) for f in heard.reshape(-1, FRAME_SAMPLES)])
    loud = np.flatnonzero(levels > -30)
    assert len(loud) >= 40, "less than 0.8 s of the 1 s tone came back"
    # The steady middle of the tone: same level as played (-9 dBFS RMS) and the same pitch.
    middle = heard[(loud[0] + 5) * FRAME_SAMPLES : (loud[-1] - 5) * FRAME_SAMPLES]
    assert rms_dbfs(middle) == pytest.approx(-9.03, abs=0.5)
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle)))) ** 2
    bins = np.fft.rfftfreq(len(middle), 1 / RATE_HZ)
    assert bins[np.argmax(spectrum)] == pytest.approx(TONE_HZ, abs=5)
    # Frame edges, resampling and device blocks add no clicks: the energy stays at the tone.
    off_tone = spectrum[np.abs(bins - TONE_HZ) > 30].sum() / spectrum.sum()
    assert 10 * np.log10(off_tone) < -40


def _read_for(mic: DeviceMicrophone, seconds: float) -> None:
    for _ in range(int(seconds / 0.02)):
        mic.read()


def _play_for(speaker: DeviceSpeaker, seconds: float) -> None:
    for _ in range(int(seconds / 0.02)):
        speaker.play(np.zeros(FRAME_SAMPLES, np.float32))


@pytest.mark.audio
def test_a_microphone_on_a_lost_device_raises_instead_of_hanging(pulse_sink: PulseSink) -> None:
    with DeviceMicrophone(pulse_sink.device, timeout_seconds=0.5) as mic:
        _read_for(mic, seconds=0.2)
        started = time.monotonic()
        with pulse_sink.suspended(), pytest.raises(AudioDeviceError, match="unplugged"):
            _read_for(mic, seconds=20)
    assert time.monotonic() - started < 6


@pytest.mark.audio
def test_a_speaker_on_a_lost_device_raises_instead_of_hanging(pulse_sink: PulseSink) -> None:
    with DeviceSpeaker(pulse_sink.device, timeout_seconds=0.5) as speaker:
        _play_for(speaker, seconds=0.2)
        started = time.monotonic()
        with pulse_sink.suspended(), pytest.raises(AudioDeviceError, match="unplugged"):
            _play_for(speaker, seconds=20)
    assert time.monotonic() - started < 6


@pytest.mark.audio
def test_the_speaker_plays_silence_when_the_program_is_late(pulse_sink: PulseSink) -> None:
    with DeviceSpeaker(pulse_sink.device) as speaker:
        # More than the speaker buffers, so the device is surely playing when this returns.
        for frame in split_frames(_tone(0.6)):
            speaker.play(frame)
        time.sleep(0.5)  # the program is late: the device must keep going on silence
        for frame in split_frames(_tone(0.2)):
            speaker.play(frame)
        assert speaker.underruns == 1
    assert speaker.underruns == 1


@pytest.mark.audio
def test_list_devices_shows_the_pulse_device_with_its_rates(pulse_sink: PulseSink) -> None:
    devices = {d.name: d for d in list_devices()}
    pulse = devices[pulse_sink.device]
    assert pulse.host_api == "ALSA"
    assert pulse.input_channels > 0
    assert pulse.output_channels > 0
    assert {16000, 44100, 48000} <= set(pulse.input_rates_hz)
    assert {16000, 44100, 48000} <= set(pulse.output_rates_hz)


@pytest.mark.audio
@pytest.mark.parametrize(
    ("spec", "kind", "message"),
    [
        ("no-such-device", "input", "no input device matches 'no-such-device'; input devices: "),
        ("no-such-device", "output", "no output device matches 'no-such-device'"),
        (999, "input", "there is no input device number 999"),
        ("e", "output", "'e' matches several output devices"),
    ],
)
def test_device_lookup_errors_list_the_candidates(
    pulse_sink: PulseSink, spec: str | int, kind: str, message: str
) -> None:
    with pytest.raises(AudioDeviceError, match=message) as caught:
        find_device(spec, "input" if kind == "input" else "output")
    if spec != 999:
        assert "'pulse'" in str(caught.value)


@pytest.mark.audio
def test_devices_are_found_by_any_case_of_their_name_or_by_number(pulse_sink: PulseSink) -> None:
    index = find_device("PULSE", "input")
    assert find_device(str(index), "output") == index
    assert find_device(index, "input") == index


@pytest.mark.audio
def test_opening_a_missing_device_fails_on_enter(pulse_sink: PulseSink) -> None:
    with (
        pytest.raises(AudioDeviceError, match="no input device matches"),
        DeviceMicrophone("no-such-mic"),
    ):
        pass


@pytest.mark.parametrize(
    ("accepted", "default_hz", "expected"),
    [
        ({16000, 44100, 48000}, 44100, 16000),
        ({44100}, 44100, 44100),
        ({48000, 44100}, 44100, 44100),
        ({48000, 44100}, 96000, 48000),
        ({22050}, 8000, 22050),
        ({96000}, 96000, 96000),
        (set(), 44100, None),
    ],
)
def test_rate_choice_prefers_16k_then_the_device_default(
    accepted: set[int], default_hz: int, expected: int | None
) -> None:
    assert choose_rate_hz(accepted.__contains__, default_hz) == expected


def test_adapters_refuse_use_outside_a_with_block() -> None:
    with pytest.raises(AudioDeviceError, match="not open"):
        DeviceMicrophone().read()
    with pytest.raises(AudioDeviceError, match="not open"):
        DeviceSpeaker().play(np.zeros(FRAME_SAMPLES, np.float32))


@pytest.mark.audio
def test_cli_devices_table_and_json(pulse_sink: PulseSink) -> None:
    runner = CliRunner()
    table = runner.invoke(main, ["devices"])
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[0].split()[:3] == ["#", "NAME", "API"]
    assert any(line.split()[1] == "pulse" for line in table.output.splitlines()[1:])
    assert "16k 22.05k 32k 44.1k 48k" in table.output
    listed = json.loads(runner.invoke(main, ["devices", "--json"]).output)
    pulse = next(d for d in listed if d["name"] == "pulse")
    assert 16000 in pulse["input_rates_hz"]


@pytest.mark.audio
def test_cli_say_plays_on_a_device_and_reports_a_wrong_one(pulse_sink: PulseSink) -> None:
    runner = CliRunner()
    played = runner.invoke(main, ["say", "Lift your hips.", "--output-device", "pulse"])
    assert played.exit_code == 0, played.output
    assert played.output.startswith("played ")
    assert "'pulse'" in played.output
    wrong = runner.invoke(main, ["say", "Hello", "--output-device", "nope"])
    assert wrong.exit_code == 1
    assert "error: no output device matches 'nope'" in wrong.output
    assert "Traceback" not in wrong.output


@pytest.mark.audio
def test_cli_record_writes_what_the_microphone_heard(pulse_sink: PulseSink, tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"
    write_wav(tone, _tone(4.0))
    out = tmp_path / "me.wav"
    player = subprocess.Popen(["paplay", f"--device={pulse_sink.sink}", str(tone)])
    try:
        done = CliRunner().invoke(
            main, ["record", str(out), "--seconds", "2", "--input-device", "pulse"]
        )
    finally:
        player.wait(timeout=30)
    assert done.exit_code == 0, done.output
    assert f"wrote {out} (2.00 s, 16 kHz mono)" in done.output
    assert f"check it with: {voicecoach_command(f'detect {out}')}" in done.output
    heard = read_audio(out).samples
    assert len(heard) == 2 * RATE_HZ
    assert rms_dbfs(heard) > -20.0


@pytest.mark.audio
def test_cli_record_keeps_what_it_had_when_the_microphone_is_lost(
    pulse_sink: PulseSink, tmp_path: Path
) -> None:
    out = tmp_path / "me.wav"

    def unplug_after_a_second() -> None:
        time.sleep(1.0)
        with pulse_sink.suspended():
            time.sleep(4.0)

    unplug = threading.Thread(target=unplug_after_a_second)
    unplug.start()
    try:
        done = CliRunner().invoke(
            main, ["record", str(out), "--seconds", "8", "--input-device", "pulse"]
        )
    finally:
        unplug.join()
    assert done.exit_code == 1, done.output
    assert "unplugged" in done.output
    assert f"s before it are in {out}" in done.output
    assert "Traceback" not in done.output
    assert 0.5 * RATE_HZ <= len(read_audio(out).samples) < 3 * RATE_HZ


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


def test_cli_devices_with_no_devices_points_to_setup() -> None:
    # An unreachable PulseAudio server hides the ALSA "pulse" device: no devices remain here.
    done = _run(
        "from voicecoach.cli import main; main(['devices'])",
        PULSE_SERVER="unix:/nonexistent/voicecoach-test",
    )
    if done.returncode == 0:
        pytest.skip("this machine has sound hardware of its own")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "error: no audio devices found" in done.stderr
    assert "arecord -l" in done.stderr
    assert "pactl info" in done.stderr


def test_a_missing_sounddevice_package_is_a_clear_error() -> None:
    done = _run(
        "import sys; sys.modules['sounddevice'] = None\n"
        "from voicecoach.cli import main; main(['devices'])"
    )
    assert done.returncode == 1
    assert "error: the sounddevice package is missing" in done.stderr
    assert "pip install sounddevice" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_portaudio_library_is_a_clear_error_with_the_apt_fix() -> None:
    # What the sounddevice import raises on a system without libportaudio2.
    done = _run(
        "import sys\n"
        "class NoPortAudio:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'sounddevice':\n"
        "            raise OSError('PortAudio library not found')\n"
        "sys.meta_path.insert(0, NoPortAudio())\n"
        "from voicecoach.cli import main; main(['say', 'hi', '--output-device', 'x'])"
    )
    assert done.returncode == 1
    assert "error: the PortAudio library is missing" in done.stderr
    assert "sudo apt-get install libportaudio2" in done.stderr
    assert "Traceback" not in done.stderr


def test_device_adapters_fit_the_ports() -> None:
    microphone: Microphone = DeviceMicrophone("pulse", block_seconds=0.01)
    speaker: Speaker = DeviceSpeaker("pulse", buffer_seconds=0.5)
    assert [microphone, speaker]  # the annotations are the test: mypy checks each port


def test_importing_the_cli_and_adapters_loads_no_native_audio_library() -> None:
    done = _run(
        "import sys\n"
        "import voicecoach.cli, voicecoach.audio.devices, voicecoach.audio.files\n"
        "import voicecoach.speech.tts\n"
        "print(sorted(m for m in ('sounddevice', 'pyttsx3', 'soundfile') if m in sys.modules))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
