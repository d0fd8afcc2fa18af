"""Model discovery, the catalogue, and downloads from a local HTTP server, without a real model."""

from __future__ import annotations

import hashlib
import io
import socket
import stat
import threading
import zipfile
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicecoach.cli import main
from voicecoach.errors import ModelError
from voicecoach.speech.models import (
    CATALOGUE,
    DEFAULT_MODEL,
    ENV_MODEL,
    ENV_MODEL_URL,
    download_model,
    find_model,
    looks_like_model,
    model_candidates,
    user_models_dir,
)

NAME = "vosk-model-test-0.1"

# --- helpers ------------------------------------------------------------------------------


def make_model(folder: Path) -> Path:
    """A folder laid out like a Vosk model (contents are placeholders)."""
    (folder / "am").mkdir(parents=True)
    (folder / "am" / "final.mdl").write_bytes(b"acoustic model")
    (folder / "conf").mkdir()
    (folder / "conf" / "model.conf").write_text("--beam=10.0\n")
    return folder


def model_zip(
    prefix: str = f"{NAME}/", extra: Sequence[tuple[zipfile.ZipInfo | str, bytes]] = ()
) -> bytes:
    """A zip of a fake model under ``prefix``, plus any ``extra`` entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{prefix}am/final.mdl", b"acoustic model" * 100)
        archive.writestr(f"{prefix}conf/model.conf", "--beam=10.0\n")
        archive.writestr(f"{prefix}graph/HCLr.fst", b"graph" * 100)
        archive.writestr(f"{prefix}README", "fake model for tests\n")
        for info, data in extra:
            archive.writestr(info, data)
    return buffer.getvalue()


def symlink_entry(name: str, target: str) -> zipfile.ZipInfo:
    """A zip entry that unzip would create as a symbolic link to ``target``."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Everything in ``folder``, hidden temporary files included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


class _Server(HTTPServer):
    routes: dict[str, bytes]
    ranges: list[str]
    honour_range: bool


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        body = self.server.routes.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        start = self._range_start()
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def _range_start(self) -> int:
        header = self.headers.get("Range")
        if header is None or not self.server.honour_range:
            return 0
        self.server.ranges.append(header)
        return int(header.removeprefix("bytes=").rstrip("-"))

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep test output quiet."""


@pytest.fixture
def server() -> Iterator[_Server]:
    """An HTTP server on 127.0.0.1 serving ``server.routes``; Range only if ``honour_range``."""
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.routes = {}
    httpd.ranges = []
    httpd.honour_range = False
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def base_url(httpd: _Server) -> str:
    host, port = httpd.server_address[:2]
    return f"http://{host!s}:{port}"


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean working directory and user data folder; no model variables set."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(ENV_MODEL, raising=False)
    monkeypatch.delenv(ENV_MODEL_URL, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    return tmp_path


# --- discovery ----------------------------------------------------------------------------


def test_looks_like_model_needs_acoustic_model_and_conf(tmp_path: Path) -> None:
    assert looks_like_model(make_model(tmp_path / "m"))
    flat = tmp_path / "flat"
    (flat / "conf").mkdir(parents=True)
    (flat / "final.mdl").write_bytes(b"x")
    assert looks_like_model(flat)
    no_conf = tmp_path / "no_conf" / "am"
    no_conf.mkdir(parents=True)
    (no_conf / "final.mdl").write_bytes(b"x")
    assert not looks_like_model(no_conf.parent)
    assert not looks_like_model(tmp_path / "missing")


def test_nothing_installed_finds_none(isolated: Path) -> None:
    assert find_model() is None


def test_discovery_order(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = make_model(user_models_dir() / "vosk-model-user")
    assert find_model() == user
    tree = make_model(Path.cwd() / "models" / "vosk-model-tree")
    assert find_model() == tree
    env = make_model(isolated / "env-model")
    monkeypatch.setenv(ENV_MODEL, str(env))
    assert find_model() == env
    explicit = make_model(isolated / "explicit-model")
    assert find_model(explicit) == explicit
    assert find_model(str(explicit)) == explicit


def test_default_model_wins_within_a_folder(isolated: Path) -> None:
    make_model(Path.cwd() / "models" / "a-model")
    default = make_model(Path.cwd() / "models" / DEFAULT_MODEL)
    assert find_model() == default


@pytest.mark.parametrize("kind", ["missing", "empty", "file"])
def test_bad_explicit_path_is_an_error_naming_it(isolated: Path, kind: str) -> None:
    make_model(Path.cwd() / "models" / "vosk-model-tree")
    bad = isolated / f"bad-{kind}"
    if kind == "empty":
        bad.mkdir()
    elif kind == "file":
        bad.write_text("not a model")
    with pytest.raises(ModelError, match=str(bad)):
        find_model(bad)


def test_bad_environment_path_is_an_error_naming_the_variable(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_model(Path.cwd() / "models" / "vosk-model-tree")
    monkeypatch.setenv(ENV_MODEL, str(isolated / "nowhere"))
    with pytest.raises(ModelError, match=ENV_MODEL) as caught:
        find_model()
    assert str(isolated / "nowhere") in str(caught.value)


def test_parent_folder_given_by_mistake_suggests_the_model(isolated: Path) -> None:
    inner = make_model(isolated / "holder" / "vosk-model-x")
    with pytest.raises(ModelError, match="did you mean") as caught:
        find_model(isolated / "holder")
    assert str(inner) in str(caught.value)


def test_candidates_list_every_location_in_order(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = make_model(Path.cwd() / "models" / "vosk-model-tree")
    monkeypatch.setenv(ENV_MODEL, str(isolated / "nowhere"))
    locations = model_candidates()
    assert [loc.source for loc in locations] == [
        "--model",
        f"${ENV_MODEL}",
        "working tree",
        "user data",
    ]
    explicit, env, work, user = locations
    assert explicit.path is None
    assert env.problem == "does not exist"
    assert work.models == (tree,)
    assert user.path == user_models_dir()
    assert user.problem == "folder does not exist"


def test_catalogue_pins_the_default_model() -> None:
    entry = CATALOGUE[DEFAULT_MODEL]
    assert entry.url == f"https://alphacephei.com/vosk/models/{DEFAULT_MODEL}.zip"
    assert entry.sha256 == "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"
    for item in CATALOGUE.values():
        assert len(item.sha256) == 64
        assert item.size_bytes > 0
        assert item.url.endswith(f"/{item.name}.zip")


# --- download -----------------------------------------------------------------------------


def test_download_extracts_into_place(isolated: Path, server: _Server) -> None:
    data = model_zip()
    server.routes[f"/{NAME}.zip"] = data
    dest = isolated / "dest"
    seen: list[tuple[int, int]] = []
    path = download_model(
        NAME,
        dest,
        url=f"{base_url(server)}/{NAME}.zip",
        sha256=sha256(data),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert path == dest / NAME
    assert looks_like_model(path)
    assert (path / "graph" / "HCLr.fst").is_file()
    assert leftovers(dest) == [NAME]
    assert seen[-1] == (len(data), len(data))


def test_download_of_installed_model_does_nothing(isolated: Path) -> None:
    existing = make_model(isolated / "dest" / NAME)
    assert (
        download_model(NAME, isolated / "dest", url="http://127.0.0.1:9/x.zip", sha256="0" * 64)
        == existing
    )


def test_zip_without_top_folder_is_installed_under_its_name(
    isolated: Path, server: _Server
) -> None:
    data = model_zip(prefix="")
    server.routes["/flat.zip"] = data
    path = download_model(NAME, isolated, url=f"{base_url(server)}/flat.zip", sha256=sha256(data))
    assert path == isolated / NAME
    assert looks_like_model(path)


def test_mirror_base_url_from_environment(
    isolated: Path, server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = model_zip()
    server.routes[f"/mirror/{NAME}.zip"] = data
    monkeypatch.setenv(ENV_MODEL_URL, f"{base_url(server)}/mirror/")
    assert looks_like_model(download_model(NAME, isolated / "d", sha256=sha256(data)))


def test_checksum_mismatch_leaves_nothing(isolated: Path, server: _Server) -> None:
    data = model_zip()
    server.routes[f"/{NAME}.zip"] = data
    dest = isolated / "dest"
    wrong = "ab" * 32
    with pytest.raises(ModelError, match="checksum mismatch") as caught:
        download_model(NAME, dest, url=f"{base_url(server)}/{NAME}.zip", sha256=wrong)
    assert wrong in str(caught.value)
    assert sha256(data) in str(caught.value)
    assert leftovers(dest) == []


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("../evil", "'..'"),
        (f"{NAME}/../../evil", "'..'"),
        ("/tmp/voicecoach-evil", "absolute"),
        ("C:/evil", "absolute"),
        (symlink_entry(f"{NAME}/link", "/etc/passwd"), "symbolic link"),
        (symlink_entry(f"{NAME}/up", "../../outside"), "symbolic link"),
    ],
)
def test_unsafe_entries_are_rejected_with_nothing_extracted(
    isolated: Path, server: _Server, entry: zipfile.ZipInfo | str, reason: str
) -> None:
    data = model_zip(extra=[(entry, b"pwned")])
    server.routes["/bad.zip"] = data
    dest = isolated / "deep" / "dest"
    with pytest.raises(ModelError, match="unsafe model archive") as caught:
        download_model(NAME, dest, url=f"{base_url(server)}/bad.zip", sha256=sha256(data))
    assert reason in str(caught.value)
    assert leftovers(dest) == []
    assert not (isolated / "deep" / "evil").exists()
    assert not (isolated / "evil").exists()
    assert not Path("/tmp/voicecoach-evil").exists()


def test_archive_without_a_model_is_rejected(isolated: Path, server: _Server) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    server.routes["/empty.zip"] = buffer.getvalue()
    dest = isolated / "dest"
    with pytest.raises(ModelError, match="does not contain a Vosk model"):
        download_model(
            NAME, dest, url=f"{base_url(server)}/empty.zip", sha256=sha256(buffer.getvalue())
        )
    assert leftovers(dest) == []


def test_not_a_zip_is_rejected(isolated: Path, server: _Server) -> None:
    server.routes["/junk.zip"] = b"<html>not a zip</html>"
    dest = isolated / "dest"
    with pytest.raises(ModelError, match="damaged"):
        download_model(
            NAME, dest, url=f"{base_url(server)}/junk.zip", sha256=sha256(b"<html>not a zip</html>")
        )
    assert leftovers(dest) == []


def test_http_404_says_how_to_install_by_hand(isolated: Path, server: _Server) -> None:
    with pytest.raises(ModelError, match="HTTP 404") as caught:
        download_model(
            NAME, isolated / "dest", url=f"{base_url(server)}/missing.zip", sha256="0" * 64
        )
    assert "by hand" in str(caught.value)
    assert ENV_MODEL in str(caught.value)
    assert leftovers(isolated / "dest") == []


def test_unreachable_host_says_so(isolated: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port once the probe is closed: the connection is refused.
    with pytest.raises(ModelError, match="could not reach 127.0.0.1") as caught:
        download_model(
            NAME, isolated / "dest", url=f"http://127.0.0.1:{port}/m.zip", sha256="0" * 64
        )
    assert "by hand" in str(caught.value)


def test_local_zip_by_file_url(isolated: Path) -> None:
    data = model_zip()
    copied = isolated / "usb" / f"{NAME}.zip"
    copied.parent.mkdir()
    copied.write_bytes(data)
    path = download_model(NAME, isolated / "dest", url=copied.as_uri(), sha256=sha256(data))
    assert looks_like_model(path)
    with pytest.raises(ModelError, match="cannot read"):
        download_model(
            "other", isolated / "dest", url=(isolated / "no.zip").as_uri(), sha256="0" * 64
        )


def test_stale_partial_download_is_replaced(isolated: Path, server: _Server) -> None:
    data = model_zip()
    server.routes[f"/{NAME}.zip"] = data
    dest = isolated / "dest"
    dest.mkdir()
    (dest / f".{NAME}.zip.part").write_bytes(b"garbage from an older attempt")
    (dest / f".{NAME}.abc.extract").mkdir()
    path = download_model(NAME, dest, url=f"{base_url(server)}/{NAME}.zip", sha256=sha256(data))
    assert looks_like_model(path)
    assert leftovers(dest) == [NAME]


def test_interrupted_download_resumes(isolated: Path, server: _Server) -> None:
    data = model_zip()
    server.routes[f"/{NAME}.zip"] = data
    server.honour_range = True
    dest = isolated / "dest"
    dest.mkdir()
    half = len(data) // 2
    (dest / f".{NAME}.zip.part").write_bytes(data[:half])
    path = download_model(NAME, dest, url=f"{base_url(server)}/{NAME}.zip", sha256=sha256(data))
    assert looks_like_model(path)
    assert server.ranges == [f"bytes={half}-"]
    assert leftovers(dest) == [NAME]


def test_unknown_model_needs_a_url_and_a_checksum(isolated: Path) -> None:
    with pytest.raises(ModelError, match="unknown model"):
        download_model("vosk-model-nope", isolated)
    with pytest.raises(ModelError, match="--sha256"):
        download_model("vosk-model-nope", isolated, url="http://127.0.0.1:9/x.zip")


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", ""])
def test_model_names_cannot_be_paths(isolated: Path, name: str) -> None:
    with pytest.raises(ModelError, match="not a model name"):
        download_model(name, isolated, url="http://127.0.0.1:9/x.zip", sha256="0" * 64)


# --- CLI ----------------------------------------------------------------------------------


def test_cli_download_installs_and_prints_the_path(isolated: Path, server: _Server) -> None:
    data = model_zip()
    server.routes[f"/{NAME}.zip"] = data
    dest = isolated / "dest"
    args = ["model", "download", NAME, "--dir", str(dest)]
    args += ["--url", f"{base_url(server)}/{NAME}.zip", "--sha256", sha256(data)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"installed {NAME} in {dest / NAME}"
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0
    assert "already installed" in again.stdout


def test_cli_download_failure_is_a_message_not_a_traceback(isolated: Path, server: _Server) -> None:
    args = ["model", "download", "--dir", str(isolated / "d")]
    args += ["--url", f"{base_url(server)}/nothing.zip"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "HTTP 404" in result.stderr
    assert "Traceback" not in result.output


def test_cli_download_checksum_mismatch(isolated: Path, server: _Server) -> None:
    server.routes[f"/{NAME}.zip"] = model_zip()
    args = ["model", "download", NAME, "--dir", str(isolated / "d")]
    args += ["--url", f"{base_url(server)}/{NAME}.zip", "--sha256", "cd" * 32]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "checksum mismatch" in result.stderr
    assert "Traceback" not in result.output


def test_cli_path_without_a_model_exits_1_with_help(isolated: Path) -> None:
    result = CliRunner().invoke(main, ["model", "path"])
    assert result.exit_code == 1
    assert "no Vosk speech model found" in result.stderr
    assert "voicecoach model download" in result.stderr
    assert result.stdout == ""


def test_cli_path_prints_the_model(isolated: Path) -> None:
    tree = make_model(Path.cwd() / "models" / "vosk-model-tree")
    result = CliRunner().invoke(main, ["model", "path"])
    assert result.exit_code == 0
    assert result.stdout.strip() == str(tree)


def test_cli_path_with_bad_model_option(isolated: Path) -> None:
    result = CliRunner().invoke(main, ["model", "path", "--model", str(isolated / "nope")])
    assert result.exit_code == 1
    assert str(isolated / "nope") in result.stderr


def test_cli_list_shows_locations_and_catalogue(isolated: Path) -> None:
    tree = make_model(Path.cwd() / "models" / "vosk-model-tree")
    result = CliRunner().invoke(main, ["model", "list"])
    assert result.exit_code == 0
    assert "working tree" in result.stdout
    assert "user data" in result.stdout
    assert f"* {tree}" in result.stdout
    for entry in CATALOGUE.values():
        assert entry.name in result.stdout
        assert entry.sha256 in result.stdout
    assert "41 MB" in result.stdout


@pytest.mark.parametrize("args", [["model", "--help"], ["model", "download", "--help"]])
def test_cli_help(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert "model" in result.stdout
