"""The mel front end and the speech-embedding network, run by numpy from their ONNX files.

onnxruntime kept 36 MB resident in the session's process for these two small models (21 MB
of library, 15 MB of sessions), which took a live session past its 250 MB budget. The models
are a short chain of plain operations, so numpy runs them from the weights in the same files.

The network only convolves along time without padding and pools time by 2 three times, so it
can be streamed: a span of 76 + 8k mel frames gives the k + 1 embeddings of its windows 8
frames apart, the same numbers as one window at a time, at a fraction of the work.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from voicecoach.errors import RecognizerError
from voicecoach.speech.onnx_file import Graph, Node, read_graph

Array = npt.NDArray[np.float32]
_Layer = Callable[[Array], Array]

#: The operations of the mel front end, in order: an STFT as two strided convolutions, power,
#: mel bands, then decibels floored 80 dB under the loudest band of the call.
_MEL_OPS = (
    "Constant Unsqueeze Conv Conv Constant Unsqueeze Transpose Constant Unsqueeze Transpose "
    "Constant Pow Constant Pow Add MatMul Clip Log Constant Mul Constant Div Constant Sub "
    "ReduceMax Constant Sub Cast Clip"
).split()
_MEL_HOP_SAMPLES = 160
_POWER_FLOOR = 1e-10
_RANGE_DB = 80.0
#: Operations the embedding network is built from.
_NET_OPS = {"Pad", "Reshape", "Conv", "Relu", "BatchNormalization", "LeakyRelu", "Max", "MaxPool"}


class MelFrontEnd:
    """Log-mel frames (10 ms hop, 32 bands) of 16-bit-scaled audio, as the ONNX model makes them."""

    def __init__(self, path: Path) -> None:
        graph = read_graph(path)
        if [n.op for n in graph.nodes] != _MEL_OPS:
            raise RecognizerError(f"{path} is not the expected mel front end")
        real, imag = (graph.weight(n.inputs[1])[:, 0, :] for n in graph.nodes if n.op == "Conv")
        self._window_samples = real.shape[1]
        self._dft = np.ascontiguousarray(np.concatenate([real, imag]).T)
        self._bands = graph.weight(next(n.inputs[1] for n in graph.nodes if n.op == "MatMul"))

    def __call__(self, audio: Array) -> Array:
        """Frames of one stretch of audio, shape (frames, 32)."""
        if len(audio) < self._window_samples:
            return np.zeros((0, self._bands.shape[1]), dtype=np.float32)
        frames = sliding_window_view(audio, self._window_samples)[::_MEL_HOP_SAMPLES]
        spectrum = frames @ self._dft
        half = spectrum.shape[1] // 2
        power = spectrum[:, :half] ** 2 + spectrum[:, half:] ** 2
        decibels: Array = 10.0 * np.log10(np.maximum(power @ self._bands, _POWER_FLOOR))
        floored: Array = np.maximum(decibels, decibels.max() - _RANGE_DB, dtype=np.float32)
        return floored


class EmbeddingNet:
    """Google's speech-embedding network, streamed: 96 numbers per 8 new mel frames.

    Each convolution keeps the input rows its next output still needs, and each pooling the
    row left over from an odd count, so a stream of mel frames costs about 8/76 of a whole
    window per embedding, and gives the numbers one whole 76-frame window at a time would.
    """

    def __init__(self, path: Path) -> None:
        graph = read_graph(path)
        self._layers = [_layer(graph, node, path) for node in graph.nodes]
        self.reset()

    def reset(self) -> None:
        """Start a new stream: the next 76 frames make its first embedding."""
        for layer in self._layers:
            if isinstance(layer, _Streamed):
                layer.reset()

    def feed(self, mel_frames: Array) -> Array:
        """The embeddings completed by these mel frames, shape (n, 96)."""
        x = mel_frames[None, :, :, None].astype(np.float32)  # batch, time, bands, channels
        for layer in self._layers:
            x = layer(x)
        return x.reshape(-1, x.shape[-1])


class _Streamed:
    """A layer that looks across time, and keeps the rows its next output needs."""

    def __init__(self, rows_needed: int, step_rows: int) -> None:
        self._rows_needed, self._step_rows = rows_needed, step_rows
        self.reset()

    def reset(self) -> None:
        self._kept: Array | None = None

    def __call__(self, x: Array) -> Array:
        if self._kept is not None:
            x = np.concatenate([self._kept, x], axis=1)
        outputs = max(0, (x.shape[1] - self._rows_needed) // self._step_rows + 1)
        self._kept = x[:, outputs * self._step_rows :]
        return self.apply(x[:, : (outputs - 1) * self._step_rows + self._rows_needed], outputs)

    def apply(self, x: Array, outputs: int) -> Array:
        """The layer on exactly the rows of ``outputs`` output rows."""
        raise NotImplementedError


class _Conv(_Streamed):
    """A convolution, unpadded in time, as one matrix product over the stacked shifted inputs."""

    def __init__(self, graph: Graph, node: Node, path: Path) -> None:
        weight = graph.weight(node.inputs[1])  # out, in, time, bands
        outputs, _, self._time_taps, self._band_taps = weight.shape
        self._matrix = np.ascontiguousarray(weight.transpose(2, 3, 1, 0).reshape(-1, outputs))
        self._bias = (
            graph.weight(node.inputs[2]) if len(node.inputs) > 2 else np.zeros(outputs, np.float32)
        )
        self._pads = _band_padding(node.ints.get("pads", [0, 0, 0, 0]), path)
        super().__init__(rows_needed=self._time_taps, step_rows=1)

    def apply(self, x: Array, outputs: int) -> Array:
        if outputs == 0:
            return np.zeros((x.shape[0], 0, x.shape[2], len(self._bias)), np.float32)
        x = _pad_bands(x, self._pads) if any(self._pads) else x
        bands = x.shape[2] - self._band_taps + 1
        shifted = [
            x[:, t : t + outputs, b : b + bands, :]
            for t in range(self._time_taps)
            for b in range(self._band_taps)
        ]
        stacked = np.concatenate(shifted, axis=3) if len(shifted) > 1 else shifted[0]
        return (stacked @ self._matrix + self._bias).astype(np.float32)


class _Pool(_Streamed):
    """Non-overlapping max pooling; odd trailing bands are dropped, as ONNX does."""

    def __init__(self, node: Node, path: Path) -> None:
        self._time_step, self._band_step = node.ints["kernel_shape"]
        if node.ints.get("strides", node.ints["kernel_shape"]) != node.ints["kernel_shape"]:
            raise RecognizerError(f"{path} pools windows that overlap: the embedder cannot run it")
        super().__init__(rows_needed=self._time_step, step_rows=self._time_step)

    def apply(self, x: Array, outputs: int) -> Array:
        batch, _, bands, channels = x.shape
        bands //= self._band_step
        x = x[:, : outputs * self._time_step, : bands * self._band_step, :]
        x = x.reshape(batch, outputs, self._time_step, bands, self._band_step, channels)
        return np.asarray(x.max(axis=(2, 4)), dtype=np.float32)


def _layer(graph: Graph, node: Node, path: Path) -> _Layer:
    """One node as a function on (batch, time, bands, channels) arrays."""
    if node.op not in _NET_OPS:
        raise RecognizerError(f"{path} has an operation the embedder does not run: {node.op}")
    if node.op == "Conv":
        return _Conv(graph, node, path)
    if node.op == "MaxPool":
        return _Pool(node, path)
    if node.op == "Pad":
        pads = _band_padding(graph.weights[node.inputs[1]].tolist(), path)
        return lambda x: _pad_bands(x, pads)
    if node.op == "Reshape":
        return lambda x: x  # only moves the single input channel between layouts
    if node.op == "Relu":
        return lambda x: np.maximum(x, 0.0)
    if node.op == "BatchNormalization":
        scale, shift, mean, var = (graph.weight(name) for name in node.inputs[1:5])
        gain = scale / np.sqrt(var + node.floats.get("epsilon", 1e-5))
        offset = shift - mean * gain
        return lambda x: x * gain + offset
    if node.op == "LeakyRelu":
        alpha = node.floats.get("alpha", 0.01)
        if not 0.0 <= alpha <= 1.0:
            raise RecognizerError(f"{path} has a LeakyRelu slope of {alpha}, outside 0 to 1")
        return lambda x: np.maximum(x, x * alpha)  # the same as a leaky ReLU for slopes 0-1
    floor = float(graph.weight(node.inputs[1]).ravel()[0])  # Max with a constant
    return lambda x: np.maximum(x, floor)


def _pad_bands(x: Array, pads: tuple[int, int]) -> Array:
    """Zeros either side of the band axis (np.pad costs more than the small layers it pads)."""
    begin, end = pads
    out = np.zeros((x.shape[0], x.shape[1], x.shape[2] + begin + end, x.shape[3]), np.float32)
    out[:, :, begin : begin + x.shape[2]] = x
    return out


def _band_padding(pads: list[int], path: Path) -> tuple[int, int]:
    """The padding of the band axis; padding in time would break streaming."""
    begins, ends = pads[: len(pads) // 2], pads[len(pads) // 2 :]
    band_axis = 2 if len(pads) == 8 else 1  # Pad names all four axes, Conv only the two
    if begins[band_axis - 1] or ends[band_axis - 1]:
        raise RecognizerError(f"{path} pads in time, which the embedder does not expect")
    return begins[band_axis], ends[band_axis]
