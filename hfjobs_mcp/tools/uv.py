"""UV-script jobs: what kind of script was given, and the command that runs it.

``hf jobs uv run`` uploads local scripts to a bucket; this server never uploads anything. Inline and local
scripts travel inside the job spec instead: base64 in the ``UV_SCRIPT_ENCODED`` environment variable, decoded
by a ``bash -c`` prefix into a temporary ``.py`` file that ``uv run`` then executes. A URL is passed to ``uv run``
as is (uv fetches it inside the job), and a bare command name (``fast-agent``) is run from the dependencies, as
the CLI allows.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from hfjobs_mcp.errors import InvalidRequestError
from hfjobs_mcp.policy.request import FileFacts, ScriptFacts

ScriptKind = Literal["url", "inline", "local", "command"]

SCRIPT_ENV = "UV_SCRIPT_ENCODED"
# An environment string is limited to 128 KiB on Linux (MAX_ARG_STRLEN); base64 grows by a third.
MAX_SCRIPT_BYTES = 64 * 1024

_COMMAND_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


def classify_script(script: str) -> ScriptKind:
    """Tell a URL, a local path, a command name and inline source apart, without touching the file system."""
    stripped = script.strip()
    if re.match(r"^https?://", stripped):
        return "url"
    single_line = "\n" not in stripped
    if single_line and stripped.endswith(".py") and " " not in stripped:
        return "local"
    if single_line and _COMMAND_NAME.match(stripped):
        return "command"
    return "inline"


@dataclass(frozen=True)
class UvCommand:
    """The command of a UV job, the environment it needs, and a default job name."""

    command: list[str]
    env: dict[str, str]
    default_name: str
    kind: ScriptKind
    script: ScriptFacts
    """What the user is shown of the script: how it was given, first lines, size, sha256."""
    file: FileFacts | None = None
    """The file of the server's disk the script was read from (stdio only)."""

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


def build_uv_command(
    *,
    script: str,
    script_args: list[str],
    dependencies: list[str],
    python: str | None,
    local_files: bool,
) -> UvCommand:
    """The ``uv run`` command for ``script``; inline and local sources are embedded, never uploaded.

    Raises :class:`InvalidRequestError` for a local path when local files are not allowed (HTTP transport),
    a missing or unreadable file, or a script too large to embed.
    """
    kind = classify_script(script)
    uv_args = _uv_args(dependencies, python)
    if kind in ("url", "command"):
        target = script.strip()
        name = _name_from(target)
        origin = f"fetched by uv from {target}" if kind == "url" else f"the command {target!r} from `dependencies`"
        return UvCommand(
            command=["uv", "run", *uv_args, target, *script_args],
            env={},
            default_name=f"{name}-{_short_hash(target, *script_args)}",
            kind=kind,
            script=ScriptFacts(origin=origin, size=None, sha256=None),
        )

    if kind == "local":
        path = Path(script.strip()).expanduser()
        if not local_files:
            raise InvalidRequestError(
                "a local script path can only be used when the server runs over stdio on your machine",
                hint="pass the script's source text in `script` instead, or an http(s) URL",
            )
        if not path.is_file():
            raise InvalidRequestError(
                f"script file not found: {path}",
                hint="give an existing .py path, the script's source text, or an http(s) URL",
            )
        source = path.read_bytes()
        name = _name_from(path.name)
        digest = hashlib.sha256(source).hexdigest()
        file = FileFacts(path=str(path.resolve()), size=len(source), sha256=digest)
        facts = ScriptFacts.of(f"file {path.resolve()} of the server's disk", source)
    else:
        source = script.encode()
        name = "uv-inline"
        file = None
        facts = ScriptFacts.of("inline source", source)

    if len(source) > MAX_SCRIPT_BYTES:
        raise InvalidRequestError(
            f"the script is {len(source)} bytes; at most {MAX_SCRIPT_BYTES} bytes can travel inside the job spec",
            hint="host the script at an http(s) URL (e.g. a file in a Hugging Face repo) and pass the URL",
        )
    encoded = base64.b64encode(source).decode()
    shell = (
        'f="$(mktemp --suffix=.py)" && printf %s "$'
        + SCRIPT_ENV
        + '" | base64 -d > "$f" && exec uv run '
        + " ".join(shlex.quote(a) for a in uv_args)
        + (" " if uv_args else "")
        + '"$f" "$@"'
    )
    return UvCommand(
        # "$@" carries script_args untouched by the shell: `bash -c CMD NAME ARG...` binds them to $1...
        command=["bash", "-c", shell, "uv-script", *script_args],
        env={SCRIPT_ENV: encoded},
        default_name=f"{name}-{hashlib.sha256(source).hexdigest()[:8]}",
        kind=kind,
        script=facts,
        file=file,
    )


class UvScriptFields(Protocol):
    """The UV fields run_uv_job and schedule_uv_job share (see ``tools.args.UvScriptArgs``)."""

    script: str
    script_args: list[str]
    dependencies: list[str]
    python: str | None


def uv_command_for(args: UvScriptFields, *, local_files: bool) -> UvCommand:
    """:func:`build_uv_command` from a UV tool's arguments."""
    return build_uv_command(
        script=args.script,
        script_args=list(args.script_args),
        dependencies=list(args.dependencies),
        python=args.python,
        local_files=local_files,
    )
