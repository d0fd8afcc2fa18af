"""Find, list and download Vosk models; downloads are checked against a pinned SHA-256.

Discovery order: the ``--model`` argument, ``$VOICECOACH_VOSK_MODEL``, ``./models/`` in the
working tree, then ``<user data>/voicecoach/models/``. A path the user named explicitly (the
argument or the variable) must be a model: it is an error, never a silent fall-through.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import platformdirs

from voicecoach import __version__
from voicecoach.errors import ModelError
from voicecoach.speech.model_archive import install

#: Environment variable naming a model folder; overrides the folders searched.
ENV_MODEL = "VOICECOACH_VOSK_MODEL"
#: Environment variable naming a download URL (ends in .zip) or a mirror base URL.
ENV_MODEL_URL = "VOICECOACH_MODEL_URL"
#: The model used when none is named: small, fast enough for a Raspberry Pi, grammar-capable.
DEFAULT_MODEL = "vosk-model-small-en-us-0.15"

#: Progress callback: bytes received so far and the expected total (0 when unknown).
Progress = Callable[[int, int], None]

_TIMEOUT_SECONDS = 30.0
_CHUNK_BYTES = 1 << 16
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_URL_SCHEMES = ("http", "https", "file")


@dataclass(frozen=True)
class CatalogueEntry:
    """A published Vosk model: where it is, its pinned SHA-256, and the zip's size in bytes."""

    name: str
    url: str
    sha256: str
    size_bytes: int
    summary: str


# Checksums are of the zip files served at alphacephei.com. Each one agrees across several
# independent projects that pin these archives (Yocto and Arch packaging recipes, Homebrew
# formula resources, application installers): see models/README.md.
CATALOGUE: dict[str, CatalogueEntry] = {
    entry.name: entry
    for entry in (
        CatalogueEntry(
            name=DEFAULT_MODEL,
            url="https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
            sha256="30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
            size_bytes=41_205_931,
            summary="small US English; about 300 MB of RAM; keeps up on a Raspberry Pi 3/4/5",
        ),
        CatalogueEntry(
            name="vosk-model-en-us-0.22-lgraph",
            url="https://alphacephei.com/vosk/models/vosk-model-en-us-0.22-lgraph.zip",
            sha256="d9838b4aaa82a75c4a17f5aca300eaca129aaab2a7cbf951bafbb500eb9c4334",
            size_bytes=130_557_655,
            summary="larger US English, more accurate; slower; a Raspberry Pi 4/5 with 2 GB+",
        ),
    )
}


def looks_like_model(path: Path) -> bool:
    """True when ``path`` is a folder laid out like a Vosk model (``am/final.mdl``, ``conf/``)."""
    has_acoustic_model = (path / "am" / "final.mdl").is_file() or (path / "final.mdl").is_file()
    return path.is_dir() and has_acoustic_model and (path / "conf").is_dir()


def models_in(folder: Path) -> list[Path]:
    """Models inside ``folder`` (or ``folder`` itself), the default model first, then by name."""
    if looks_like_model(folder):
        return [folder]
    if not folder.is_dir():
        return []
    found = [child for child in folder.iterdir() if looks_like_model(child)]
    return sorted(found, key=lambda p: (p.name != DEFAULT_MODEL, p.name))


def working_tree_models_dir() -> Path:
    """``models/`` under the current working directory."""
    return Path.cwd() / "models"


def user_models_dir() -> Path:
    """``models/`` under the per-user data folder (``~/.local/share/voicecoach`` on Linux)."""
    return Path(platformdirs.user_data_dir("voicecoach")) / "models"


@dataclass(frozen=True)
class ModelLocation:
    """One place a model is looked for, what was found there, and what is wrong with it."""

    source: str
    path: Path | None
    models: tuple[Path, ...]
    problem: str | None = None
    #: True for places the user named (``--model``, the variable): a problem there is an error.
    explicit: bool = False


def model_candidates(explicit: str | Path | None = None) -> list[ModelLocation]:
    """Every location checked, in discovery order, with the models found in each."""
    env_value = os.environ.get(ENV_MODEL) or None
    return [
        _named_location("--model", explicit),
        _named_location(f"${ENV_MODEL}", env_value),
        _folder_location("working tree", working_tree_models_dir()),
        _folder_location("user data", user_models_dir()),
    ]


def find_model(explicit: str | Path | None = None) -> Path | None:
    """The model folder to use, or None when none is installed anywhere.

    Raises ModelError when the ``--model`` argument or ``$VOICECOACH_VOSK_MODEL`` names
    something that is not a model, rather than quietly using a different one.
    """
    for location in model_candidates(explicit):
        if location.explicit and location.problem:
            raise ModelError(
                f"{location.source} {location.path}: {location.problem}", event=location.path
            )
        if location.models:
            return location.models[0]
    return None


def no_model_message() -> str:
    """What to tell the user when no model is installed."""
    return (
        "no Vosk speech model found. Get one with `voicecoach model download` (needs "
        f"internet), or on an offline machine copy an unzipped model folder into "
        f"{working_tree_models_dir()} or {user_models_dir()}, or set {ENV_MODEL} to its path. "
        "See models/README.md."
    )


def _named_location(source: str, value: str | Path | None) -> ModelLocation:
    if value is None:
        return ModelLocation(source, None, (), explicit=True)
    path = Path(value).expanduser()
    if looks_like_model(path):
        return ModelLocation(source, path, (path,), explicit=True)
    return ModelLocation(source, path, (), _why_not_a_model(path), explicit=True)


def _folder_location(source: str, folder: Path) -> ModelLocation:
    if not folder.is_dir():
        return ModelLocation(source, folder, (), "folder does not exist")
    found = tuple(models_in(folder))
    return ModelLocation(source, folder, found, None if found else "no model in this folder")


def _why_not_a_model(path: Path) -> str:
    if not path.exists():
        return "does not exist"
    if not path.is_dir():
        return "is a file, not an unzipped model folder"
    inside = models_in(path)
    if inside:
        return f"is not a Vosk model folder; did you mean {inside[0]}?"
    return "is not a Vosk model folder (it needs am/final.mdl and conf/)"


# --- download -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    url: str
    sha256: str
    size_bytes: int


def download_model(
    name: str,
    dest_dir: Path,
    *,
    url: str | None = None,
    sha256: str | None = None,
    progress: Progress | None = None,
) -> Path:
    """Download model ``name`` into ``dest_dir/name``, verify it, unpack it safely; its path.

    ``url`` (or ``$VOICECOACH_MODEL_URL``) replaces the catalogue URL: a full ``.zip`` URL, a
    mirror folder holding ``NAME.zip``, or a ``file://`` URL of a copied zip. A model already
    in place is returned as is. A partial download left by Ctrl-C is resumed next time.
    """
    if not _SAFE_NAME.match(name):
        raise ModelError(f"not a model name: {name!r}", event=name)
    source = _resolve_source(name, url, sha256)
    dest_dir = Path(dest_dir).expanduser()
    target = dest_dir / name
    if looks_like_model(target):
        return target
    if target.exists():
        raise ModelError(f"{target} exists but is not a Vosk model; remove it and try again")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ModelError(f"cannot create {dest_dir}: {err.strerror or err}") from err
    _remove_stale_staging(dest_dir, name)
    part = dest_dir / f".{name}.zip.part"
    _fetch(name, source, part, dest_dir, progress)
    _verify(part, source)
    try:
        install(part, dest_dir, name, looks_like_model)
    finally:
        part.unlink(missing_ok=True)
    return target


def _resolve_source(name: str, url: str | None, sha256: str | None) -> _Source:
    entry = CATALOGUE.get(name)
    chosen_url = url or os.environ.get(ENV_MODEL_URL) or (entry.url if entry else None)
    if chosen_url is None:
        known = ", ".join(sorted(CATALOGUE))
        raise ModelError(f"unknown model {name!r}; known models: {known} (or pass --url)")
    if not chosen_url.lower().endswith(".zip"):
        chosen_url = f"{chosen_url.rstrip('/')}/{name}.zip"
    if urllib.parse.urlsplit(chosen_url).scheme not in _URL_SCHEMES:
        raise ModelError(f"unsupported URL {chosen_url!r}: use http, https or file")
    digest = (sha256 or (entry.sha256 if entry else "")).strip().lower()
    if not digest:
        raise ModelError(f"no pinned checksum for {name!r}; pass --sha256 with the zip's SHA-256")
    if not _SHA256_HEX.match(digest):
        raise ModelError(f"not a SHA-256 (64 hex digits): {digest!r}")
    return _Source(chosen_url, digest, entry.size_bytes if entry else 0)


def _remove_stale_staging(dest_dir: Path, name: str) -> None:
    # Left behind only if a previous run was killed while unpacking; never a usable model.
    for stale in dest_dir.glob(f".{name}.*.extract"):
        shutil.rmtree(stale, ignore_errors=True)


def _manual_hint(name: str, url: str, dest_dir: Path) -> str:
    return (
        f"To install by hand: on a machine with internet download {url}, unzip it, and copy "
        f"the folder {name} into {dest_dir} (or ./models/), or set {ENV_MODEL} to the "
        "unzipped folder."
    )


def _fetch(
    name: str, source: _Source, part: Path, dest_dir: Path, progress: Progress | None
) -> None:
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": f"voicecoach/{__version__}"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    host = urllib.parse.urlsplit(source.url).hostname or source.url
    try:
        with urllib.request.urlopen(
            urllib.request.Request(source.url, headers=headers), timeout=_TIMEOUT_SECONDS
        ) as response:
            _receive(response, part, offset, source, progress)
    except urllib.error.HTTPError as err:
        err.close()
        if err.code == 416 and offset:
            # The partial file does not fit what the server has now: start again from zero.
            part.unlink(missing_ok=True)
            _fetch(name, source, part, dest_dir, progress)
            return
        raise ModelError(
            f"{host} answered HTTP {err.code} {err.reason} for {source.url}. "
            + _manual_hint(name, source.url, dest_dir),
            event=source.url,
        ) from err
    except urllib.error.URLError as err:
        if urllib.parse.urlsplit(source.url).scheme == "file":
            raise ModelError(f"cannot read {source.url}: {err.reason}") from err
        raise ModelError(
            f"could not reach {host} to download {name} ({err.reason}); this machine may be "
            "offline. " + _manual_hint(name, source.url, dest_dir),
            event=source.url,
        ) from err
    except (OSError, http.client.HTTPException) as err:
        raise ModelError(
            f"the download from {host} broke off ({err}); run the command again to resume. "
            + _manual_hint(name, source.url, dest_dir),
            event=source.url,
        ) from err


def _receive(
    response: IO[bytes], part: Path, offset: int, source: _Source, progress: Progress | None
) -> None:
    # A server that ignores Range answers 200 with the whole file: start the file again.
    resumed = offset > 0 and getattr(response, "status", None) == 206
    done = offset if resumed else 0
    length = _content_length(response)
    total = done + length if length is not None else source.size_bytes
    with _open_part(part, resumed) as out:
        while chunk := response.read(_CHUNK_BYTES):
            _write(out, chunk, part)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    if length is not None and done < total:
        raise ConnectionError(f"received {done} of {total} bytes")


def _open_part(part: Path, resumed: bool) -> IO[bytes]:
    try:
        return part.open("ab" if resumed else "wb")
    except OSError as err:
        raise ModelError(f"cannot write {part}: {err.strerror or err}") from err


def _write(out: IO[bytes], chunk: bytes, part: Path) -> None:
    # Disk errors are ours to report; network errors from read() go to the caller.
    try:
        out.write(chunk)
    except OSError as err:
        raise ModelError(f"cannot write {part}: {err.strerror or err}") from err


def _content_length(response: IO[bytes]) -> int | None:
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    return int(value) if value is not None and str(value).isdigit() else None


def _verify(part: Path, source: _Source) -> None:
    digest = hashlib.sha256()
    with part.open("rb") as data:
        while block := data.read(1 << 20):
            digest.update(block)
    got = digest.hexdigest()
    if got != source.sha256:
        part.unlink(missing_ok=True)
        raise ModelError(
            f"checksum mismatch for {source.url}: expected sha256 {source.sha256}, got {got}. "
            "The download was deleted; nothing was installed.",
            event=source.url,
        )
