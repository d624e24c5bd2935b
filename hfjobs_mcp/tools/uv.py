"""UV-script jobs: what the script is, what is uploaded with it, and the ``uv run`` command, as huggingface_hub 2.4.

As ``hf jobs uv run`` does it (wire-protocol.md §8): the script and its input files are uploaded to a new folder of
the namespace's private ``jobs-artifacts`` bucket, mounted read-write at ``/data``, and the job runs
``uv run [--with DEP]... [--python V] /data/<script> ARGS...``; the script's ``[tool.hf-jobs]`` table is honoured
(:mod:`hfjobs_mcp.tools.uvheader`). What travels:

- inline source: uploaded as ``/data/script.py``;
- a local file (stdio only; over HTTP the caller's paths are not the server's): uploaded under its own name, as
  are the local files among ``script_args`` (each argument is replaced by ``/data/<name>``, as 2.4 does);
- an http(s) URL: over stdio it is downloaded once, here, and shipped like a local file (as the CLI does, so the
  job runs what the user was shown and its table is read); over HTTP it is passed to ``uv run`` as is (as the
  library does: this server does not fetch URLs a remote caller names);
- a bare command name (``lighteval``): run from the dependencies, nothing uploaded;
- ``files`` (local files or folders, stdio only) and ``file_texts`` (name -> text): more inputs uploaded beside
  the script; an argument naming one is replaced by its path under ``/data``.

Everything is read and hashed while planning (the user sees names, sizes and sha256, never a blob); nothing is
uploaded before the request is approved (:mod:`hfjobs_mcp.tools.uploads`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol, TypeVar, cast
from urllib.parse import urlsplit

import anyio.to_thread
import httpx2
from pydantic import BaseModel

from hfjobs_mcp.api.artifacts import ARTIFACTS_MOUNT
from hfjobs_mcp.errors import InvalidRequestError
from hfjobs_mcp.policy.request import ScriptFacts
from hfjobs_mcp.tools.uploads import UploadSet
from hfjobs_mcp.tools.uvheader import Header, apply_header, read_header

ScriptKind = Literal["url", "inline", "local", "command"]

INLINE_NAME = "script.py"
MAX_DOWNLOAD_BYTES = 10 << 20
DOWNLOAD_SECONDS = 10.0  # huggingface_hub's DEFAULT_REQUEST_TIMEOUT, which the CLI uses for this download
# huggingface_hub 2.4 refuses a script or argument with one of these suffixes that names no local file.
LOOKS_LOCAL = (".py", ".sh", ".yaml", ".yml", ".toml")

_COMMAND_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


class UvScriptFields(Protocol):
    """The UV fields run_uv_job and schedule_uv_job share (see ``tools.args.UvScriptArgs``)."""

    script: str
    script_args: list[str]
    dependencies: list[str]
    python: str | None
    image: str
    files: list[str]
    file_texts: dict[str, str]


A = TypeVar("A", bound=BaseModel)


def classify_script(script: str, *, local_files: bool) -> ScriptKind:
    """Tell a URL, a local path, a command name and inline source apart.

    Over stdio a one-line value naming an existing file is that file (as 2.4), and one ending in ``.py`` is meant
    as a path even when missing (it is refused with a clear error rather than run as a command).
    """
    stripped = script.strip()
    if re.match(r"^https?://", stripped):
        return "url"
    single_line = "\n" not in stripped
    if single_line and local_files and Path(stripped).expanduser().is_file():
        return "local"
    if single_line and stripped.endswith(".py") and " " not in stripped:
        return "local"
    if single_line and _COMMAND_NAME.match(stripped):
        return "command"
    return "inline"


@dataclass(frozen=True)
class UvCommand:
    """The command of a UV job, what it uploads, a default job name, and what the user is shown of the script."""

    command: list[str]
    default_name: str
    kind: ScriptKind
    script: ScriptFacts
    uploads: UploadSet = field(default_factory=UploadSet)
    from_script: tuple[str, ...] = ()
    """Arguments set by the script's ``[tool.hf-jobs]`` table (``flavor``, ``env.X``...)."""

    def target(self, image: str) -> str:
        """What runs, in one line: the script's name, how it was given, and the image (the question adds the rest)."""
        return f"uv script {self.default_name.rsplit('-', 1)[0]} ({self.kind}) in {image}"


def _uv_args(dependencies: list[str], python: str | None) -> list[str]:
    args: list[str] = []
    for dep in dependencies:
        args += ["--with", dep]
    if python:
        args += ["--python", python]
    return args


def _name_from(text: str) -> str:
    """A job name from a script's file name, sanitized as huggingface_hub does."""
    last = text.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    stem = last[:-3] if last.endswith(".py") else last
    return _NAME_UNSAFE.sub("-", stem)[:60] or "uv-script"


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:8]


async def download_script(url: str) -> bytes:
    """The script at ``url``, fetched once (redirects followed, at most :data:`MAX_DOWNLOAD_BYTES`)."""
    try:
        async with (
            httpx2.AsyncClient(timeout=DOWNLOAD_SECONDS, follow_redirects=True) as http,
            http.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise InvalidRequestError(
                    f"could not download the script from {url}: HTTP {response.status_code}; nothing was sent",
                    hint="check the URL (a raw file URL), or pass the script's source text in `script`",
                )
            chunks: list[bytes] = []
            size = 0
            async for block in response.aiter_bytes():
                size += len(block)
                if size > MAX_DOWNLOAD_BYTES:
                    raise InvalidRequestError(
                        f"the script at {url} is over {MAX_DOWNLOAD_BYTES >> 20} MiB; nothing was sent",
                        hint="a UV script is Python source: check the URL points at the raw script",
                    )
                chunks.append(block)
    except httpx2.HTTPError as exc:
        raise InvalidRequestError(
            f"could not download the script from {url} ({type(exc).__name__}); nothing was sent",
            hint="check the URL and the network, or pass the script's source text in `script`",
        ) from None
    return b"".join(chunks)


@dataclass
class _Source:
    kind: ScriptKind
    text: str
    """The script as given (a URL, a path, a command or source)."""
    data: bytes | None = None
    local: Path | None = None
    origin: str = ""


def _read_local(text: str) -> _Source:
    path = Path(text).expanduser()
    if not path.is_file():
        raise InvalidRequestError(
            f"script file not found: {path}",
            hint="give an existing .py path, the script's source text, or an http(s) URL",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidRequestError(f"script file {path} could not be read ({exc.strerror})", hint="check it") from None
    return _Source("local", text, data=data, local=path, origin=f"file {path.resolve()} of the server's disk")


async def _resolve(script: str, *, local_files: bool) -> _Source:
    kind = await anyio.to_thread.run_sync(lambda: classify_script(script, local_files=local_files))
    text = script.strip()
    if kind == "url":
        if not local_files:
            return _Source(kind, text, origin=f"fetched by uv inside the job from {text} (its table is not read)")
        return _Source(kind, text, data=await download_script(text), origin=f"downloaded from {text}")
    if kind == "local":
        if not local_files:
            raise InvalidRequestError(
                "a local script path can only be used when the server runs over stdio on your machine",
                hint="pass the script's source text in `script` instead, or an http(s) URL",
            )
        return await anyio.to_thread.run_sync(_read_local, text)
    if kind == "command":
        return _Source(kind, text, origin=f"the command {text!r} from `dependencies`")
    return _Source(kind, script, data=script.encode(), origin="inline source")


def _gather(args: UvScriptFields, src: _Source, uploads: UploadSet, *, local_files: bool) -> tuple[str, list[str]]:
    """Fill ``uploads`` (blocking file reads); the script and arguments as the job sees them."""
    script_ref = src.text
    if src.kind == "inline" and src.data is not None:
        script_ref = f"{ARTIFACTS_MOUNT}/{uploads.add_bytes(INLINE_NAME, src.data, 'inline source')}"
    elif src.kind == "url" and src.data is not None:
        name = PurePosixPath(urlsplit(src.text).path).name
        name = name if name.endswith(".py") else INLINE_NAME
        script_ref = f"{ARTIFACTS_MOUNT}/{uploads.add_bytes(uploads.free_name(name), src.data, src.origin)}"
    elif src.kind == "local" and src.local is not None:
        script_ref = f"{ARTIFACTS_MOUNT}/{uploads.add_local(src.local)}"

    named: dict[str, str] = {}  # what an argument may say -> where the job finds it
    script_args = list(args.script_args)
    rewritten: list[str] = list(script_args)
    if local_files:
        for i, arg in enumerate(script_args):
            if arg and not arg.startswith(("http://", "https://")) and Path(arg).expanduser().is_file():
                rewritten[i] = f"{ARTIFACTS_MOUNT}/{uploads.add_local(Path(arg))}"
    for name, content in args.file_texts.items():
        named[name] = f"{ARTIFACTS_MOUNT}/{uploads.add_bytes(name, content.encode(), 'inline text')}"
    for path in args.files:
        if not local_files:
            raise InvalidRequestError(
                "`files` are paths of the server's disk, usable only when it runs over stdio on your machine; "
                "nothing was sent",
                hint="pass the files' text in `file_texts` (name -> text) instead",
            )
        named[path] = f"{ARTIFACTS_MOUNT}/{uploads.add_local(Path(path))}"
    for i, arg in enumerate(script_args):
        if rewritten[i] == arg and arg in named:
            rewritten[i] = named[arg]
    if local_files:
        missing = [
            a
            for i, a in enumerate(script_args)
            if rewritten[i] == a and not a.startswith(("/", "http://", "https://", "-")) and a.endswith(LOOKS_LOCAL)
        ]
        if missing:
            raise InvalidRequestError(
                f"script_args name local files that do not exist: {', '.join(missing)}; nothing was sent",
                hint="give existing paths (they are uploaded to /data), pass the file in `files`, or use an "
                "absolute path inside the job",
            )
    return script_ref, rewritten


async def uv_command_for(args: A, *, local_files: bool) -> tuple[A, UvCommand]:
    """The arguments with the script's ``[tool.hf-jobs]`` table merged in, and the job's command and uploads.

    Reads (the script, local files, a URL over stdio) but never writes. Raises :class:`InvalidRequestError` for a
    local path over HTTP, a missing or unreadable file, a bad table, or names that clash.
    """
    fields = cast(UvScriptFields, args)
    src = await _resolve(fields.script, local_files=local_files)
    uploads = UploadSet()
    header: Header | None = read_header(src.data) if src.data is not None else None
    from_script: tuple[str, ...] = ()
    if header is not None:
        args, from_script = await anyio.to_thread.run_sync(
            lambda: apply_header(args, header, local_files=local_files, uploads=uploads)
        )
        fields = cast(UvScriptFields, args)
    script_ref, script_args = await anyio.to_thread.run_sync(
        lambda: _gather(fields, src, uploads, local_files=local_files)
    )
    if src.kind == "inline":
        default_name = f"uv-inline-{hashlib.sha256(src.text.encode()).hexdigest()[:8]}"
    else:
        default_name = f"{_name_from(src.text)}-{_short_hash(src.text, *fields.script_args)}"
    facts = (
        ScriptFacts.of(src.origin, src.data, settings=from_script, head=src.kind != "local")
        if src.data is not None
        else ScriptFacts(origin=src.origin, size=None, sha256=None)
    )
    command = ["uv", "run", *_uv_args(list(fields.dependencies), fields.python), script_ref, *script_args]
    return args, UvCommand(
        command=command,
        default_name=default_name,
        kind=src.kind,
        script=facts,
        uploads=uploads,
        from_script=from_script,
    )
