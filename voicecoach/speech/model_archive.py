"""Unpacking a downloaded model archive: every entry checked before anything is written."""

from __future__ import annotations

import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from voicecoach.errors import ModelError

#: Refuse archives that would unpack to more than this; the largest English model is ~3.3 GB.
_MAX_UNPACKED_BYTES = 8 << 30
_DRIVE = re.compile(r"^[A-Za-z]:")


def install(
    archive_path: Path, dest_dir: Path, name: str, is_model: Callable[[Path], bool]
) -> None:
    """Unpack a model archive into ``dest_dir / name``, safely, whole or not at all."""
    # Unpack beside the target, then rename: the model appears whole or not at all.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".extract", dir=dest_dir))
    try:
        _unpack(archive_path, staging)
        root = _model_root(staging, name, is_model)
        try:
            root.rename(dest_dir / name)
        except OSError as err:
            raise ModelError(f"cannot move the model into {dest_dir / name}: {err}") from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unpack(archive_path: Path, staging: Path) -> None:
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = archive.infolist()
            _check_members(archive, members, staging.resolve())
            for info in members:
                archive.extract(info, staging)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as err:
        raise ModelError(f"the model archive is damaged or unreadable: {err}") from err
    except OSError as err:
        raise ModelError(f"cannot unpack into {staging.parent}: {err.strerror or err}") from err


def _check_members(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], root: Path) -> None:
    # Every entry is checked before anything is written, so a bad archive leaves nothing.
    unpacked_bytes = 0
    for info in members:
        problem = _member_problem(archive, info, root)
        if problem:
            raise ModelError(
                f"unsafe model archive: entry {info.filename!r} {problem}; nothing was installed",
                event=info.filename,
            )
        unpacked_bytes += info.file_size
    if unpacked_bytes > _MAX_UNPACKED_BYTES:
        raise ModelError(f"the model archive would unpack to {unpacked_bytes} bytes; refusing")


def _member_problem(archive: zipfile.ZipFile, info: zipfile.ZipInfo, root: Path) -> str | None:
    name = info.filename.replace("\\", "/")
    if stat.S_ISLNK(info.external_attr >> 16):
        # Vosk models hold only files and folders, so a link has no business here; one that
        # points outside would let later entries write anywhere.
        target = archive.read(info).decode("utf-8", "replace")
        return f"is a symbolic link to {target!r}"
    if name.startswith("/") or _DRIVE.match(name):
        return "has an absolute path"
    if ".." in PurePosixPath(name).parts:
        return "climbs out of the model folder with '..'"
    if not (root / name).resolve().is_relative_to(root):
        return "resolves outside the model folder"
    return None


def _model_root(staging: Path, name: str, is_model: Callable[[Path], bool]) -> Path:
    for candidate in (staging / name, staging):
        if is_model(candidate):
            return candidate
    folders = [child for child in staging.iterdir() if child.is_dir()]
    if len(folders) == 1 and is_model(folders[0]):
        return folders[0]
    raise ModelError("the archive does not contain a Vosk model (no am/final.mdl and conf/)")
