"""Reads the nodes and weights of an ONNX file, without onnxruntime or the onnx package.

An ONNX file is a protocol-buffer message. The embedder only needs the graph's nodes (op type,
inputs, integer and float attributes) and its weight tensors, so this reads the wire format
directly: a handful of field numbers from onnx.proto, and nothing is executed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voicecoach.errors import RecognizerError

#: Wire types of protocol buffers.
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5
#: Field numbers in onnx.proto.
_MODEL_GRAPH = 7
_GRAPH_NODE, _GRAPH_INITIALIZER = 1, 5
_NODE_INPUT, _NODE_OUTPUT, _NODE_OP_TYPE, _NODE_ATTRIBUTE = 1, 2, 4, 5
_ATTR_NAME, _ATTR_F, _ATTR_I, _ATTR_T, _ATTR_INTS = 1, 2, 3, 5, 8
_TENSOR_DIMS, _TENSOR_TYPE, _TENSOR_FLOATS, _TENSOR_INT64S, _TENSOR_NAME, _TENSOR_RAW = (
    1,
    2,
    4,
    7,
    8,
    9,
)
#: ONNX element types the embedding models use.
_DTYPES: dict[int, type[np.generic]] = {1: np.float32, 7: np.int64}

Tensor = npt.NDArray[np.generic]
_Fields = list[tuple[int, int | bytes]]


@dataclass
class Node:
    """One operation of the graph."""

    op: str
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    ints: dict[str, list[int]] = field(default_factory=dict)
    floats: dict[str, float] = field(default_factory=dict)
    tensors: dict[str, Tensor] = field(default_factory=dict)


@dataclass
class Graph:
    """The nodes of an ONNX graph in file order, and its weights by name."""

    nodes: list[Node]
    weights: dict[str, Tensor]

    def weight(self, name: str) -> npt.NDArray[np.float32]:
        """A float weight by name."""
        return np.asarray(self.weights[name], dtype=np.float32)


def read_graph(path: Path) -> Graph:
    """The graph in an ONNX file; a RecognizerError naming the file if it cannot be read."""
    try:
        model = _fields(path.read_bytes())
        graph = _fields(_only_bytes(model, _MODEL_GRAPH)[0])
        nodes = [_node(_fields(raw)) for raw in _only_bytes(graph, _GRAPH_NODE)]
        weights = dict(_tensor(_fields(raw)) for raw in _only_bytes(graph, _GRAPH_INITIALIZER))
    except (OSError, ValueError, IndexError, KeyError) as err:
        raise RecognizerError(f"could not read the model file {path}: {err}") from err
    if not nodes:
        raise RecognizerError(f"could not read the model file {path}: it has no graph")
    return Graph(nodes, weights)


def _fields(data: bytes) -> _Fields:
    """The (field number, value) pairs of one message: ints for numbers, bytes for the rest."""
    out: _Fields = []
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, at = _varint(data, at)
            out.append((number, value))
        elif wire == _BYTES:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise ValueError("a field runs past the end of the file")
            out.append((number, data[at : at + size]))
            at += size
        elif wire in (_FIXED32, _FIXED64):
            size = 4 if wire == _FIXED32 else 8
            out.append((number, data[at : at + size]))
            at += size
        else:
            raise ValueError(f"unknown protocol-buffer wire type {wire}")
    return out


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """A base-128 integer starting at ``at``, and where the next field starts."""
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def _only_bytes(fields: _Fields, number: int) -> list[bytes]:
    return [v for n, v in fields if n == number and isinstance(v, bytes)]


def _text(fields: _Fields, number: int) -> list[str]:
    return [v.decode() for v in _only_bytes(fields, number)]


def _ints(fields: _Fields, number: int) -> list[int]:
    """A repeated integer field, written packed or one value at a time."""
    out: list[int] = []
    for n, v in fields:
        if n != number:
            continue
        if isinstance(v, int):
            out.append(v)
            continue
        at = 0
        while at < len(v):
            value, at = _varint(v, at)
            out.append(value)
    # int64 values are written as two's complement in 64 bits.
    return [i - (1 << 64) if i >= 1 << 63 else i for i in out]


def _node(fields: _Fields) -> Node:
    node = Node(
        _text(fields, _NODE_OP_TYPE)[0], _text(fields, _NODE_INPUT), _text(fields, _NODE_OUTPUT)
    )
    for raw in _only_bytes(fields, _NODE_ATTRIBUTE):
        attr = _fields(raw)
        name = _text(attr, _ATTR_NAME)[0]
        if ints := _ints(attr, _ATTR_INTS) or _ints(attr, _ATTR_I):
            node.ints[name] = ints
        if floats := _only_bytes(attr, _ATTR_F):
            node.floats[name] = float(np.frombuffer(floats[0], dtype="<f4")[0])
        if tensors := _only_bytes(attr, _ATTR_T):
            node.tensors[name] = _tensor(_fields(tensors[0]))[1]
    return node


def _tensor(fields: _Fields) -> tuple[str, Tensor]:
    """A named tensor: from its raw bytes, or from its typed repeated field."""
    dims = _ints(fields, _TENSOR_DIMS)
    code = _ints(fields, _TENSOR_TYPE)[0]
    if code not in _DTYPES:
        raise ValueError(f"a weight has ONNX element type {code}, not float32 or int64")
    dtype = _DTYPES[code]
    if raw := _only_bytes(fields, _TENSOR_RAW):
        values: Tensor = np.frombuffer(raw[0], dtype=np.dtype(dtype).newbyteorder("<"))
    elif dtype is np.float32:
        packed = b"".join(_only_bytes(fields, _TENSOR_FLOATS))
        values = np.frombuffer(packed, dtype="<f4")
    else:
        values = np.asarray(_ints(fields, _TENSOR_INT64S), dtype=np.int64)
    names = _text(fields, _TENSOR_NAME)
    return (names[0] if names else ""), values.astype(dtype).reshape(dims)
