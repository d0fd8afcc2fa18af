"""Audio files and resampling: formats sox writes, damaged files, file adapters, the resampler."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicecoach.audio.files import FileMicrophone, WavFileSpeaker, read_audio, write_wav
from voicecoach.errors import AudioFileError
from voicecoach.frames import (
    FRAME_SAMPLES,
    RATE_HZ,
    Samples,
    StreamingResampler,
    resample,
    rms_dbfs,
    split_frames,
)
from voicecoach.ports import Microphone, Speaker

needs_sox = pytest.mark.skipif(
    shutil.which("sox") is None, reason="needs sox (apt-get install sox)"
)


def sine(freq_hz: float, rate_hz: int, seconds: float, amplitude: float = 0.5) -> Samples:
    """A sine wave as float32 samples."""
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def peak_hz(samples: Samples, rate_hz: int = RATE_HZ) -> float:
    """The strongest frequency, to within a bin of about 1 Hz for a second of audio."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate_hz)[int(np.argmax(spectrum))])


def level_at_dbfs(samples: Samples, freq_hz: float, rate_hz: int = RATE_HZ) -> float:
    """Amplitude of one frequency component in dB relative to full scale."""
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples * window)) / (window.sum() / 2)
    bins = np.fft.rfftfreq(len(samples), 1 / rate_hz)
    near = np.abs(bins - freq_hz) <= 3 * rate_hz / len(samples)
    return float(20 * np.log10(spectrum[near].max() + 1e-12))


def sox(tmp_path: Path, name: str, *spec: str) -> Path:
    """A one-second 440 Hz tone at half scale, written by sox with the given format options."""
    path = tmp_path / name
    subprocess.run(
        ["sox", "-n", *spec, str(path), "synth", "1", "sine", "440", "vol", "0.5"],
        check=True,
        capture_output=True,
    )
    return path


@needs_sox
@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("8k.wav", ("-r", "8000", "-c", "1", "-b", "16")),
        ("22k.wav", ("-r", "22050", "-c", "1", "-b", "16")),
        ("44k.wav", ("-r", "44100", "-c", "1", "-b", "16")),
        ("48k.wav", ("-r", "48000", "-c", "1", "-b", "16")),
        ("stereo.wav", ("-r", "44100", "-c", "2", "-b", "16")),
        ("8bit.wav", ("-r", "16000", "-c", "1", "-b", "8")),
        ("24bit.wav", ("-r", "48000", "-c", "2", "-b", "24")),
        ("32bit.wav", ("-r", "16000", "-c", "1", "-b", "32", "-e", "signed-integer")),
        ("float.wav", ("-r", "22050", "-c", "1", "-b", "32", "-e", "floating-point")),
        ("tone.flac", ("-r", "48000", "-c", "1", "-b", "16")),
        ("stereo24.flac", ("-r", "44100", "-c", "2", "-b", "24")),
    ],
)
def test_any_format_becomes_16k_mono_with_the_same_tone(
    tmp_path: Path, name: str, spec: tuple[str, ...]
) -> None:
    chunk = read_audio(sox(tmp_path, name, *spec))
    assert chunk.rate_hz == RATE_HZ
    assert chunk.samples.dtype == np.float32
    assert chunk.samples.ndim == 1
    assert chunk.seconds == pytest.approx(1.0, abs=0.001)
    assert peak_hz(chunk.samples) == pytest.approx(440, abs=2)
    # 8-bit audio carries dither noise; the tone itself stays at half scale (-6 dB).
    assert level_at_dbfs(chunk.samples, 440) == pytest.approx(-6.02, abs=0.2)


def _pcm_bytes(values: Samples, width_bytes: int) -> bytes:
    """Plain little-endian PCM of the given width (8-bit is unsigned, as WAV has it)."""
    if width_bytes == 1:
        return (np.round(values * 127) + 128).astype(np.uint8).tobytes()
    scale = float(2 ** (8 * width_bytes - 1) - 1)
    ints = np.round(values.astype(np.float64) * scale).astype("<i4")
    if width_bytes == 3:
        return ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    return ints.astype(f"<i{width_bytes}").tobytes()


@pytest.mark.parametrize("width_bytes", [1, 2, 3, 4])
@pytest.mark.parametrize("channels", [1, 2])
def test_plain_pcm_wav_of_every_width_is_read_without_libsndfile(
    tmp_path: Path, width_bytes: int, channels: int
) -> None:
    tone = sine(440, RATE_HZ, 0.5, amplitude=-0.5)
    interleaved = np.repeat(tone, channels)
    path = tmp_path / "plain.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width_bytes)
        wav.setframerate(RATE_HZ)
        wav.writeframes(_pcm_bytes(interleaved, width_bytes))
    back = read_audio(path).samples
    tolerance = 1.5 / 127 if width_bytes == 1 else 1e-4
    assert np.max(np.abs(back - tone)) < tolerance


@pytest.mark.parametrize("rate_hz", [8000, 16000, 22050, 44100, 48000])
def test_write_then_read_round_trip(tmp_path: Path, rate_hz: int) -> None:
    tone = sine(1000, rate_hz, 0.5)
    path = tmp_path / "tone.wav"
    write_wav(path, tone, rate_hz)
    back = read_audio(path)
    assert back.seconds == pytest.approx(0.5, abs=0.001)
    assert peak_hz(back.samples) == pytest.approx(1000, abs=3)
    assert rms_dbfs(back.samples) == pytest.approx(rms_dbfs(tone), abs=0.1)
    if rate_hz == RATE_HZ:
        assert np.max(np.abs(back.samples - tone)) < 2 / 32768


def test_write_wav_is_16_bit_mono_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    write_wav(path, np.array([0.0, 0.5, -0.5, 2.0], np.float32))
    assert path.read_bytes()[:4] == b"RIFF"
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE_HZ)
        assert wav.getnframes() == 4
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]


def test_write_wav_into_a_missing_folder_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "out.wav"
    with pytest.raises(AudioFileError, match="nowhere/out.wav: cannot write"):
        write_wav(target, np.zeros(10, np.float32))


def _damaged(tmp_path: Path, kind: str) -> Path:
    source = tmp_path / "good.wav"
    write_wav(source, sine(440, RATE_HZ, 1.0))
    path = tmp_path / f"{kind}.wav"
    if kind == "text":
        path.write_text("hello, not audio\n")
    elif kind == "truncated":
        path.write_bytes(source.read_bytes()[:5000])
    elif kind == "header_only":
        path.write_bytes(source.read_bytes()[:30])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "bad_riff":
        path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("text", "not a WAV or FLAC file"),
        ("truncated", "truncated: the header promises 16000 frames"),
        ("header_only", "truncated WAV header"),
        ("empty", "not a WAV or FLAC file"),
        ("bad_riff", "damaged WAV file"),
        ("missing", "no such file"),
    ],
)
def test_damaged_files_raise_audio_file_error_naming_the_file(
    tmp_path: Path, kind: str, message: str
) -> None:
    path = _damaged(tmp_path, kind)
    with pytest.raises(AudioFileError, match=message) as caught:
        read_audio(path)
    assert str(path) in str(caught.value)
    assert caught.value.event == path


@needs_sox
def test_truncated_flac_is_an_audio_file_error(tmp_path: Path) -> None:
    good = sox(tmp_path, "tone.flac", "-r", "48000", "-c", "1", "-b", "16")
    broken = tmp_path / "broken.flac"
    broken.write_bytes(good.read_bytes()[:3000])
    with pytest.raises(AudioFileError, match="broken.flac: damaged or unsupported audio"):
        read_audio(broken)


def test_a_folder_is_not_audio(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match="cannot read"):
        read_audio(tmp_path)


def test_file_microphone_yields_frames_then_none(tmp_path: Path) -> None:
    path = tmp_path / "speech.wav"
    write_wav(path, sine(300, RATE_HZ, 0.05))  # 2.5 frames
    with FileMicrophone(path, pad_seconds=0.1) as mic:
        frames = []
        while (frame := mic.read()) is not None:
            frames.append(frame)
        assert mic.read() is None
    # 0.05 s of tone and 0.1 s of padding make 7.5 frames; the last is filled with silence.
    assert len(frames) == 8
    assert all(len(f) == FRAME_SAMPLES and f.dtype == np.float32 for f in frames)
    assert rms_dbfs(frames[0]) > -12
    assert rms_dbfs(np.concatenate(frames[3:])) == -120.0


def test_file_microphone_reports_a_missing_file_on_enter(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match="no such file"), FileMicrophone(tmp_path / "x.wav"):
        pass


def test_wav_file_speaker_writes_what_was_played(tmp_path: Path) -> None:
    path = tmp_path / "played.wav"
    tone = sine(500, RATE_HZ, 0.2)
    with WavFileSpeaker(path) as speaker:
        for frame in split_frames(tone):
            speaker.play(frame)
    back = read_audio(path).samples
    assert len(back) == len(tone)
    assert np.max(np.abs(back - tone)) < 2 / 32768


def _play_then_fail(path: Path) -> None:
    with WavFileSpeaker(path) as speaker:
        speaker.play(sine(500, RATE_HZ, 0.02))
        raise RuntimeError("boom")


def test_wav_file_speaker_still_saves_after_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "played.wav"
    with pytest.raises(RuntimeError, match="boom"):
        _play_then_fail(path)
    assert read_audio(path).seconds == pytest.approx(0.02)


def test_file_adapters_fit_the_ports(tmp_path: Path) -> None:
    microphone: Microphone = FileMicrophone(tmp_path / "in.wav", pad_seconds=0.5)
    speaker: Speaker = WavFileSpeaker(tmp_path / "out.wav")
    assert [microphone, speaker]  # the annotations are the test: mypy checks each port


def test_split_frames_pads_the_last_frame() -> None:
    frames = list(split_frames(np.ones(FRAME_SAMPLES + 5, np.float32)))
    assert [len(f) for f in frames] == [FRAME_SAMPLES, FRAME_SAMPLES]
    assert frames[1][:5].tolist() == [1.0] * 5
    assert not frames[1][5:].any()


RATE_PAIRS = [
    (48000, 16000),
    (44100, 16000),
    (32000, 16000),
    (22050, 16000),
    (8000, 16000),
    (16000, 48000),
    (16000, 44100),
]


@pytest.mark.parametrize(("from_hz", "to_hz"), RATE_PAIRS)
def test_resample_keeps_frequency_and_amplitude(from_hz: int, to_hz: int) -> None:
    for freq_hz in (440.0, 1000.0, 3000.0):
        out = resample(sine(freq_hz, from_hz, 1.0), from_hz, to_hz)
        assert len(out) == to_hz
        assert peak_hz(out, to_hz) == pytest.approx(freq_hz, abs=1.5)
        assert level_at_dbfs(out, freq_hz, to_hz) == pytest.approx(-6.02, abs=0.05)


@pytest.mark.parametrize(
    ("from_hz", "tone_hz", "alias_hz"), [(48000, 9000, 7000), (44100, 10000, 6000)]
)
def test_downsampling_removes_what_would_alias(from_hz: int, tone_hz: int, alias_hz: int) -> None:
    out = resample(sine(tone_hz, from_hz, 1.0), from_hz, RATE_HZ)
    assert level_at_dbfs(out, alias_hz) < -60


def test_resample_keeps_a_constant_constant() -> None:
    out = resample(np.full(44100, 0.25, np.float32), 44100, 16000)
    middle = out[200:-200]  # the ends fade in and out of the silence outside the signal
    assert np.max(np.abs(middle - 0.25)) < 1e-5


@pytest.mark.parametrize(("from_hz", "to_hz"), RATE_PAIRS)
def test_streaming_equals_one_shot_for_device_sized_blocks(from_hz: int, to_hz: int) -> None:
    signal = np.random.default_rng(7).uniform(-0.5, 0.5, from_hz // 2).astype(np.float32)
    resampler = StreamingResampler(from_hz, to_hz)
    block = round(from_hz * 0.02)
    pieces = [resampler.process(signal[i : i + block]) for i in range(0, len(signal), block)]
    streamed = np.concatenate([*pieces, resampler.flush()])
    whole = resample(signal, from_hz, to_hz)
    assert len(streamed) == len(whole)
    assert np.max(np.abs(streamed - whole)) < 1e-6


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 3000), min_size=0, max_size=12),
    rates=st.sampled_from(RATE_PAIRS),
)
def test_streaming_equals_one_shot_for_any_split(cuts: list[int], rates: tuple[int, int]) -> None:
    from_hz, to_hz = rates
    signal = np.random.default_rng(len(cuts)).uniform(-1, 1, 3000).astype(np.float32)
    resampler = StreamingResampler(from_hz, to_hz)
    edges = [0, *sorted(cuts), len(signal)]
    pieces = [resampler.process(signal[a:b]) for a, b in zip(edges, edges[1:], strict=False)]
    streamed = np.concatenate([*pieces, resampler.flush()])
    assert np.allclose(streamed, resample(signal, from_hz, to_hz), atol=1e-6)


def test_streaming_a_sine_in_frames_has_no_clicks_at_frame_edges() -> None:
    resampler = StreamingResampler(44100, RATE_HZ)
    tone = sine(1000, 44100, 1.0)
    out = np.concatenate([resampler.process(tone[i : i + 882]) for i in range(0, 44100, 882)])
    steady = out[1000:-1000]
    # A click at any frame edge would spread energy over the spectrum; all of it stays at 1 kHz.
    total = np.sum(np.square(steady, dtype=np.float64))
    window = np.hanning(len(steady))
    spectrum = np.abs(np.fft.rfft(steady * window)) ** 2
    bins = np.fft.rfftfreq(len(steady), 1 / RATE_HZ)
    off_tone = spectrum[np.abs(bins - 1000) > 20].sum() / spectrum.sum()
    assert total > 0
    assert 10 * np.log10(off_tone) < -60


def test_streaming_latency_and_reset() -> None:
    resampler = StreamingResampler(48000, RATE_HZ)
    assert 0 < resampler.latency_seconds < 0.005
    first = resampler.process(np.ones(960, np.float32))
    resampler.reset()
    again = resampler.process(np.ones(960, np.float32))
    assert np.array_equal(first, again)
    assert StreamingResampler(RATE_HZ, RATE_HZ).latency_seconds == 0


def test_rates_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        resample(np.zeros(4, np.float32), 0, 16000)
