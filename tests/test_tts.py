"""Text to speech with the real pyttsx3 and espeak-ng: audio, the cache, voices and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach.cli import main
from voicecoach.errors import SpeechError
from voicecoach.frames import RATE_HZ, Samples, rms_dbfs
from voicecoach.ports import Synthesizer
from voicecoach.speech.tts import Pyttsx3Synthesizer, default_cache_dir, list_voices, trim_silence

PHRASE = "Lie on your back with your knees bent."


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A private phrase cache for one test."""
    return tmp_path / "tts"


def _window_levels(samples: Samples, seconds: float = 0.01) -> list[float]:
    size = int(seconds * RATE_HZ)
    return [rms_dbfs(samples[i : i + size]) for i in range(0, len(samples) - size + 1, size)]


def test_render_gives_real_speech_at_16k(cache: Path) -> None:
    with Pyttsx3Synthesizer(cache_dir=cache) as tts:
        samples = tts.render(PHRASE)
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    # Eight words at 160 words per minute: about three seconds, less the trimmed pauses.
    assert 1.2 < len(samples) / RATE_HZ < 4.0
    assert rms_dbfs(samples) > -30
    assert np.max(np.abs(samples)) <= 1.0
    assert tts.renders == 1


def test_silence_is_trimmed_to_a_short_lead_and_tail(cache: Path) -> None:
    with Pyttsx3Synthesizer(cache_dir=cache) as tts:
        samples = tts.render("Hold")
    levels = _window_levels(samples)
    loud = np.flatnonzero(np.array(levels) > -50)
    lead_seconds = loud[0] * 0.01
    tail_seconds = len(samples) / RATE_HZ - (loud[-1] + 1) * 0.01
    assert lead_seconds <= 0.02
    assert 0.05 <= tail_seconds <= 0.1  # espeak-ng leaves about 0.35 s here
    assert samples[-1] == 0.0  # the fade ends on silence, so nothing clicks


def test_trimming_keeps_all_the_speech() -> None:
    speech = np.concatenate(
        [np.zeros(8000), 0.3 * np.sin(np.arange(16000) * 0.2), np.zeros(8000)]
    ).astype(np.float32)
    trimmed = trim_silence(speech)
    assert len(trimmed) == pytest.approx(16000 + 0.01 * RATE_HZ + 0.08 * RATE_HZ, abs=170)
    kept = np.sum(np.square(trimmed, dtype=np.float64)) / np.sum(
        np.square(speech, dtype=np.float64)
    )
    assert kept > 0.999
    assert trim_silence(np.zeros(1000, np.float32)).tolist() == [0.0] * 1000


def test_a_second_render_is_a_memory_hit_and_a_new_synthesizer_a_disk_hit(cache: Path) -> None:
    with Pyttsx3Synthesizer(cache_dir=cache) as tts:
        first = tts.render(PHRASE)
        again = tts.render(PHRASE)
        assert (tts.renders, tts.memory_hits, tts.disk_hits) == (1, 1, 0)
        assert np.array_equal(again, first)
        entry = tts.cache_path(PHRASE)
    assert entry.is_file()
    with wave.open(str(entry)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE_HZ, 1, 2)
    with Pyttsx3Synthesizer(cache_dir=cache) as tts:
        from_disk = tts.render(PHRASE)
        assert (tts.renders, tts.memory_hits, tts.disk_hits) == (0, 0, 1)
    # The first render is stored exactly as it was returned.
    assert np.array_equal(from_disk, first)


def test_whitespace_does_not_make_a_new_phrase(cache: Path) -> None:
    with Pyttsx3Synthesizer(cache_dir=cache) as tts:
        tts.render("Lower  the leg\nslowly. ")
        tts.render("Lower the leg slowly.")
        assert tts.renders == 1


def test_the_cache_key_follows_voice_rate_and_volume(cache: Path) -> None:
    paths = set()
    for voice, rate_wpm, volume in [
        (None, 160, 1.0),
        ("en-us", 160, 1.0),
        (None, 200, 1.0),
        (None, 160, 0.5),
    ]:
        with Pyttsx3Synthesizer(voice, rate_wpm, volume, cache_dir=cache) as tts:
            tts.render("Breathe out.")
            assert tts.renders == 1
            paths.add(tts.cache_path("Breathe out."))
    assert len(paths) == 4
    assert {p.name for p in cache.iterdir()} == {p.name for p in paths}


def test_rate_and_volume_shape_the_audio(cache: Path) -> None:
    with Pyttsx3Synthesizer(rate_wpm=120, cache_dir=cache) as slow:
        slow_audio = slow.render(PHRASE)
    with Pyttsx3Synthesizer(rate_wpm=300, cache_dir=cache) as fast:
        fast_audio = fast.render(PHRASE)
    with Pyttsx3Synthesizer(rate_wpm=120, volume=0.5, cache_dir=cache) as quiet:
        quiet_audio = quiet.render(PHRASE)
    assert len(fast_audio) < 0.7 * len(slow_audio)
    assert rms_dbfs(quiet_audio) == pytest.approx(rms_dbfs(slow_audio) - 6.02, abs=0.1)


def test_back_to_back_renders_keep_each_synthesizers_rate(cache: Path) -> None:
    # espeak-ng works asynchronously under pyttsx3; without waiting for it, a third of these
    # phrases came out at the other synthesizer's rate or empty.
    with (
        Pyttsx3Synthesizer(rate_wpm=160, cache_dir=cache) as slow,
        Pyttsx3Synthesizer(rate_wpm=240, cache_dir=cache) as fast,
    ):
        ratios = [
            len(slow.render(text)) / len(fast.render(text))
            for text in (
                f"Draw your right knee in, and hold it for {n} breaths." for n in range(20)
            )
        ]
    assert all(1.3 < ratio < 1.7 for ratio in ratios), ratios


def test_a_damaged_cache_entry_is_rendered_again(cache: Path) -> None:
    with Pyttsx3Synthesizer(cache_dir=cache) as tts:
        good = tts.render("Rest.")
        entry = tts.cache_path("Rest.")
    entry.write_bytes(entry.read_bytes()[:100])
    with Pyttsx3Synthesizer(cache_dir=cache) as tts:
        again = tts.render("Rest.")
        assert (tts.renders, tts.disk_hits) == (1, 0)
    # espeak-ng adds a little randomness to each render, so compare length and level only.
    assert len(again) == pytest.approx(len(good), abs=0.05 * RATE_HZ)
    assert rms_dbfs(again) == pytest.approx(rms_dbfs(good), abs=1.0)
    assert len(entry.read_bytes()) > 1000


def test_the_cache_holds_only_finished_entries(cache: Path) -> None:
    with Pyttsx3Synthesizer(cache_dir=cache) as tts:
        tts.prerender(["One.", "Two.", "Three."])
    assert sorted(p.suffix for p in cache.iterdir()) == [".wav"] * 3


def test_the_cache_folder_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere" / "tts"
    with Pyttsx3Synthesizer() as tts:
        tts.render("Good.")
    assert len(list((tmp_path / "elsewhere" / "tts").glob("*.wav"))) == 1


def test_the_default_cache_is_in_the_user_cache_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICECOACH_CACHE_DIR", raising=False)
    assert default_cache_dir().parts[-2:] == ("voicecoach", "tts")
    assert str(default_cache_dir()).startswith(os.environ["XDG_CACHE_HOME"])


def test_prerender_reports_progress_and_makes_render_instant(cache: Path) -> None:
    progress: list[tuple[int, int]] = []
    with Pyttsx3Synthesizer(cache_dir=cache) as tts:
        tts.prerender(
            ["Hold.", "Release.", "Hold."],
            progress=lambda done, total: progress.append((done, total)),
        )
        assert progress == [(1, 2), (2, 2)]
        assert tts.renders == 2
        tts.render("Release.")
        assert (tts.renders, tts.memory_hits) == (2, 1)


def test_a_caller_changing_its_samples_does_not_change_the_phrase(cache: Path) -> None:
    with Pyttsx3Synthesizer(cache_dir=cache) as tts:
        samples = tts.render("Hold.")
        kept = samples.copy()
        samples[:] = 1.0
        assert np.array_equal(tts.render("Hold."), kept)
        assert tts.memory_hits == 1


def test_empty_text_is_silence_without_the_engine(cache: Path) -> None:
    with Pyttsx3Synthesizer(cache_dir=cache) as tts:
        assert len(tts.render("  \n")) == 0
        assert tts.renders == 0


def test_rendering_prints_nothing(cache: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with Pyttsx3Synthesizer(cache_dir=cache) as tts:
        tts.render("Nice and slow.")
    captured = capfd.readouterr()
    assert captured.out == ""


def test_voices_are_listed_and_found_by_id_name_or_language(cache: Path) -> None:
    voices = {v.id: v for v in list_voices()}
    assert voices["gmw/en-us"].languages == ("en-us",)
    for spec in ("gmw/en-us", "English (America)", "EN-US"):
        with Pyttsx3Synthesizer(voice=spec, cache_dir=cache) as tts:
            assert tts.voice_id == "gmw/en-us"


def test_the_default_voice_stays_the_engines_own_after_another_was_used(cache: Path) -> None:
    with Pyttsx3Synthesizer(cache_dir=cache) as plain:
        default = plain.voice_id
    with Pyttsx3Synthesizer(voice="en-us", cache_dir=cache) as american:
        american.render("Hello.")
        with Pyttsx3Synthesizer(cache_dir=cache) as again:
            assert again.voice_id == default != american.voice_id


def test_an_unknown_voice_is_a_speech_error_with_suggestions(cache: Path) -> None:
    with (
        pytest.raises(SpeechError, match=r"no voice 'en-uss'; did you mean .*en-us"),
        Pyttsx3Synthesizer(voice="en-uss", cache_dir=cache),
    ):
        pass


def test_the_synthesizer_fits_the_port(cache: Path) -> None:
    synthesizer: Synthesizer = Pyttsx3Synthesizer(cache_dir=cache)
    with synthesizer as opened:
        assert len(opened.render("Ready.")) > 0


def test_bad_settings_and_use_outside_a_with_block_are_refused() -> None:
    with pytest.raises(ValueError, match="rate_wpm"):
        Pyttsx3Synthesizer(rate_wpm=20)
    with pytest.raises(ValueError, match="volume"):
        Pyttsx3Synthesizer(volume=1.5)
    with pytest.raises(SpeechError, match="not open"):
        Pyttsx3Synthesizer().render("Hello")


def test_a_missing_speech_engine_is_a_speech_error_with_the_fix(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['pyttsx3'] = None\n"
            "from voicecoach.cli import main\n"
            "main(['say', 'hello', '--voice', 'espeak', '--out', 'x.wav'])",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "error: pyttsx3 is not installed" in done.stderr
    assert "apt-get install espeak-ng" in done.stderr
    assert "Traceback" not in done.stderr


#: Three renders broken off by Ctrl-C (as a person stopping ``voicecoach say``), each followed
#: by a fresh synthesizer's render; run in a process of its own, since a crash ends it.
_CTRL_C_SCRIPT = """
import _thread, signal, sys, tempfile, threading
from pathlib import Path
# A process started in the background by a shell without job control inherits SIGINT ignored,
# and then interrupt_main does nothing: take Python's own Ctrl-C handler, as a terminal gives.
signal.signal(signal.SIGINT, signal.default_int_handler)
from voicecoach.speech.tts import Pyttsx3Synthesizer
long = " ".join(["Breathe in slowly, and breathe out slowly."] * 200)
for round in range(3):
    with Pyttsx3Synthesizer(cache_dir=Path(tempfile.mkdtemp())) as tts:
        threading.Timer(0.2, _thread.interrupt_main).start()
        try:
            tts.render(long)
        except KeyboardInterrupt:
            print("interrupted")
    with Pyttsx3Synthesizer(cache_dir=Path(tempfile.mkdtemp())) as tts:
        print(len(tts.render("Lower the leg slowly.")))
"""


def test_a_render_broken_off_by_ctrl_c_leaves_the_next_one_working(tmp_path: Path) -> None:
    # espeak-ng keeps speaking the broken-off phrase on its own thread; before the engine was
    # stopped and waited for, the next synthesizer crashed the process in 3 runs of 6.
    done = subprocess.run(
        [sys.executable, "-c", _CTRL_C_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert lines[0::2] == ["interrupted"] * 3, done.stdout
    lengths = [int(n) for n in lines[1::2]]
    assert max(lengths) < 1.03 * min(lengths), lengths  # the same phrase at the same rate


def test_the_engine_released_at_exit_starts_again_when_needed(cache: Path) -> None:
    """At exit the engine is let go before the interpreter tears its modules down (a full test
    run printed pyttsx3's ignored AttributeError otherwise); a render after that still works."""
    from voicecoach.speech import tts

    with Pyttsx3Synthesizer(cache_dir=cache) as first:
        before = first.render("Lower the leg slowly.")
    tts._release_engine()  # noqa: SLF001  (what atexit calls)
    with Pyttsx3Synthesizer(cache_dir=cache / "again") as second:
        after = second.render("Lower the leg slowly.")
    assert len(after) == len(before)
    assert rms_dbfs(after) > -40.0


def test_cli_voices_table_and_json() -> None:
    runner = CliRunner()
    table = runner.invoke(main, ["voices", "--language", "en-us"])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["ID", "LANGUAGES", "NAME"]
    rows = [line.split()[:2] for line in lines[1:] if line.strip()]
    assert ["gmw/en-us", "en-us"] in rows
    assert all(row[1].startswith("en-us") for row in rows[: rows.index(["gmw/en-us", "en-us"])])
    listed = json.loads(runner.invoke(main, ["voices", "--all", "--json"]).output)
    assert {"id": "gmw/en-us", "name": "English (America)", "languages": ["en-us"]} in listed
    assert len(listed) > 50


def test_cli_say_writes_a_wav_and_prints_only_its_summary(tmp_path: Path) -> None:
    out = tmp_path / "hello.wav"
    result = CliRunner().invoke(main, ["say", "Hello there.", "--out", str(out), "--rate", "140"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {out} (")
    assert result.output.count("\n") == 1
    with wave.open(str(out)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE_HZ, 1, 2)
        assert wav.getnframes() > 0.4 * RATE_HZ


def test_cli_say_in_a_real_process_keeps_stdout_clean(tmp_path: Path) -> None:
    out = tmp_path / "hello.wav"
    done = subprocess.run(
        [sys.executable, "-m", "voicecoach", "say", "Well done.", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {out} ({done.stdout.split('(')[1]}"
    assert "Audio saved" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["say", "Hi", "--voice", "nosuchvoice"], 1, "error: no voice 'nosuchvoice'"),
        (["say", "Hi", "--out", "a.wav", "--output-device", "x"], 2, "either --out or"),
        (["say", "Hi", "--rate", "10"], 2, "Invalid value for '--rate'"),
        (["say", "Hi", "--volume", "2"], 2, "Invalid value for '--volume'"),
    ],
)
def test_cli_say_errors(args: list[str], code: int, message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output
