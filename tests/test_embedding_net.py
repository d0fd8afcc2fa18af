"""numpy runs the two shipped ONNX models and gives onnxruntime's numbers, on real speech."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest
from speech_audio import needs_mbrola, speak, with_room_noise

from bench.embedding_cost import measure
from voicecoach.errors import RecognizerError
from voicecoach.frames import Samples
from voicecoach.speech.embedding import SpeechEmbedder, model_dir
from voicecoach.speech.embedding_net import EmbeddingNet, MelFrontEnd
from voicecoach.speech.onnx_file import read_graph

MEL = model_dir() / "melspectrogram.onnx"
NET = model_dir() / "embedding_model.onnx"


@pytest.fixture(scope="module")
def said(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    """A real MBROLA sentence over quiet room noise."""
    folder = tmp_path_factory.mktemp("speech")
    return with_room_noise(speak("Please stop, my back hurts. Pause.", "mb-us2", folder))


def onnxruntime_output(path: Path, data: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """What onnxruntime makes of ``data`` with the model in ``path``: the reference."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = session.run(None, {session.get_inputs()[0].name: data})[0]
    return np.asarray(out, dtype=np.float32)


@needs_mbrola
def test_mel_frames_match_onnxruntime(said: Samples) -> None:
    audio = (said * 32767.0).astype(np.float32)
    expected = onnxruntime_output(MEL, audio[None, :]).reshape(-1, 32)
    got = MelFrontEnd(MEL)(audio)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-3 * np.abs(expected).max()


@needs_mbrola
def test_streamed_embeddings_match_onnxruntime_window_by_window(said: Samples) -> None:
    mel = MelFrontEnd(MEL)((said * 32767.0).astype(np.float32)) / 10.0 + 2.0
    windows = np.stack([mel[s : s + 76] for s in range(0, len(mel) - 75, 8)])[..., None]
    expected = onnxruntime_output(NET, windows).reshape(-1, 96)
    net = EmbeddingNet(NET)
    streamed = np.concatenate([net.feed(mel[s : s + 8]) for s in range(0, len(mel), 8)])
    assert len(expected) > 30
    assert streamed.shape == expected.shape
    assert np.abs(streamed - expected).max() < 1e-4 * np.abs(expected).max()


@needs_mbrola
def test_a_reset_starts_a_new_stream(said: Samples) -> None:
    embedder = SpeechEmbedder()
    first = embedder.feed(said)
    embedder.feed(said[:5000])
    embedder.reset()
    assert np.array_equal(embedder.feed(said), first)


def test_the_session_process_never_loads_onnxruntime() -> None:
    """onnxruntime alone kept 21 MB resident: the embedder must not bring it in."""
    code = (
        "import sys, numpy as np\n"
        "from voicecoach.speech.embedding import SpeechEmbedder\n"
        "assert SpeechEmbedder().feed(np.zeros(16000, np.float32)).shape == (3, 96)\n"
        "print('onnxruntime' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_truncated_model_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "embedding_model.onnx"
    bad.write_bytes(NET.read_bytes()[:5000])
    with pytest.raises(RecognizerError, match=str(bad)):
        EmbeddingNet(bad)


def test_a_file_that_is_not_a_model_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "melspectrogram.onnx"
    bad.write_text("not a model")
    with pytest.raises(RecognizerError, match=str(bad)):
        MelFrontEnd(bad)


def test_a_model_with_other_operations_is_refused() -> None:
    with pytest.raises(RecognizerError, match="operation the embedder does not run"):
        EmbeddingNet(MEL)
    with pytest.raises(RecognizerError, match="not the expected mel front end"):
        MelFrontEnd(NET)


def test_the_reader_finds_every_weight_with_its_shape() -> None:
    graph = read_graph(NET)
    assert len(graph.nodes) == 68
    assert len(graph.weights) == 46
    assert graph.weights["model/conv2d_19/Conv2D/ReadVariableOp:0"].shape == (96, 96, 3, 1)
    assert graph.weights["new_shape__315"].tolist() == [-1, 1, 76, 34]


def test_the_cost_bench_measures_numpy_against_onnxruntime() -> None:
    figures = measure("numpy", seconds=4.0)
    assert figures["max_difference"] < 1e-3
    assert min(figures["rtf"], figures["utterance_ms"], figures["peak_mb"]) > 0
