"""Real renderings from every voice family that can run here: level, length, variety, cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import families
from bench.corpus import LEAD_SECONDS, SPEECH_DBFS, TRAIL_SECONDS
from voicecoach.frames import RATE_HZ, rms_dbfs


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache per test, so every test really renders instead of reading old clips."""
    monkeypatch.setattr(families, "CACHE_DIR", tmp_path / "families")
    return tmp_path / "families"


def _needs(family: str) -> None:
    reason = families.available(family)
    if reason is not None:
        pytest.skip(reason)


def test_voice_ids_name_their_family() -> None:
    assert set(families.FAMILIES) == {"piper", "pico", "rhvoice"}
    assert len(families.FAMILIES["piper"]) >= 12
    for family, ids in families.FAMILIES.items():
        assert ids
        assert all(i.startswith(f"{family}:") for i in ids)
    every = [i for ids in families.FAMILIES.values() for i in ids]
    assert len(every) == len(set(every))


def test_unknown_family_and_voice_are_reported() -> None:
    assert "unknown voice family" in (families.available("flite") or "")
    with pytest.raises(KeyError, match="unknown voice"):
        families.render("piper:nobody", "stop")


@pytest.mark.parametrize("family", ["piper", "pico", "rhvoice"])
def test_stop_is_audible_speech_of_plausible_length(family: str) -> None:
    _needs(family)
    voice = families.FAMILIES[family][0]
    samples = families.render(voice, "stop")
    assert samples.dtype == np.float32
    lead = int(LEAD_SECONDS * RATE_HZ)
    trail = int(TRAIL_SECONDS * RATE_HZ)
    speech = samples[lead : len(samples) - trail]
    assert 0.3 <= len(speech) / RATE_HZ <= 3.0
    assert rms_dbfs(speech) == pytest.approx(SPEECH_DBFS, abs=0.5)
    assert not samples[:lead].any()
    assert not samples[len(samples) - trail :].any()
    # Trimmed to the speech: its first and last 50 ms are not silence.
    edge = RATE_HZ // 20
    assert rms_dbfs(speech[:edge]) > -70.0
    assert rms_dbfs(speech[-edge:]) > -70.0


@pytest.mark.parametrize("family", ["piper", "pico", "rhvoice"])
def test_two_speakers_of_a_family_sound_different(family: str) -> None:
    _needs(family)
    first, second = families.FAMILIES[family][:2]
    a = families.render(first, "stop")
    b = families.render(second, "stop")
    n = min(len(a), len(b))
    assert len(a) != len(b) or not np.allclose(a[:n], b[:n], atol=1e-3)


@pytest.mark.parametrize("family", ["piper", "pico", "rhvoice"])
def test_second_render_comes_from_the_cache(family: str, fresh_cache: Path) -> None:
    _needs(family)
    voice = families.FAMILIES[family][-1]
    first = families.render(voice, "pause")
    assert families.cache_path(voice, "pause").is_file()
    assert families.cache_path(voice, "pause").is_relative_to(fresh_cache)
    # Piper samples fresh noise on each synthesis, so equality shows the cache answered.
    assert np.array_equal(families.render(voice, "pause"), first)


def test_render_all_fills_the_cache_once() -> None:
    ready = [f for f in families.FAMILIES if families.available(f) is None]
    if not ready:
        pytest.skip("no voice family can run here")
    pairs = [(families.FAMILIES[f][0], text) for f in ready for text in ("two", "nine")]
    assert families.render_all([*pairs, *pairs], jobs=2) == len(pairs)
    assert all(families.cache_path(v, t).is_file() for v, t in pairs)
    assert families.render_all(pairs) == 0


def test_cache_key_covers_voice_and_text() -> None:
    keys = {
        families.cache_key(v, t)
        for v in ("piper:joe-v00", "piper:joe-v01", "pico:en-US-p0")
        for t in ("stop", "top")
    }
    assert len(keys) == 6
