"""``hfjobs-mcp local``: serve the local Jobs backend on loopback until interrupted.

``hfjobs_mcp.cli`` only wires this in: the flags are defined by :func:`add_arguments` and run by
:func:`run_local`. Everything is printed and logged on stderr: the base URL to use as
``HF_ENDPOINT`` and, if no token was given (``--token`` or ``HFJOBS_LOCAL_TOKEN``), the generated one,
once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import LocalConfig
from .core import StateDirBusyError
from .detached import SANDBOX_ENV, stop
from .faults import FaultSpecError, parse_spec
from .private import UnsafeStateDirError
from .sandbox import SANDBOX_MODES
from .server import LocalBackend

DEFAULT_PORT = 8765
DEFAULT_USER = "local-user"
TOKEN_ENV = "HFJOBS_LOCAL_TOKEN"  # noqa: S105 (a variable name)
FAULTS_ENV = "HFJOBS_LOCAL_FAULTS"
DEFAULT_KEEP_DAYS = LocalConfig.keep_days
DEFAULT_KEEP_JOBS = LocalConfig.keep_jobs


def default_state_dir() -> Path:
    """``$HFJOBS_MCP_HOME/local`` if that is set, else ``~/.cache/hfjobs-mcp/local``."""
    home = os.environ.get("HFJOBS_MCP_HOME")
    if home:
        return Path(home).expanduser() / "local"
    return Path.home() / ".cache" / "hfjobs-mcp" / "local"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT}; 0 = any free)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="jobs, logs and schedules live here (default: $HFJOBS_MCP_HOME/local or ~/.cache/hfjobs-mcp/local)",
    )
    parser.add_argument(
        "--token",
        default=None,
        metavar="TOKEN",
        help=(
            f"the bearer token clients must send (default: ${TOKEN_ENV}, else generated); prefer ${TOKEN_ENV}: "
            "a command line is visible to every user of the machine"
        ),
    )
    parser.add_argument(
        "--user", default=DEFAULT_USER, metavar="NAME", help=f"the token's user name (default: {DEFAULT_USER})"
    )
    parser.add_argument(
        "--org", action="append", default=[], metavar="NAME", help="an organization of the user (repeatable)"
    )
    parser.add_argument(
        "--faults",
        default=None,
        metavar="SPEC",
        help=f"inject faults, e.g. '429:times=2,drop-after-create' (default: ${FAULTS_ENV}; see the README)",
    )
    parser.add_argument(
        "--stop",
        action="store_true",
        help="stop the backend serving the state folder (the one --local starts, or another `hfjobs-mcp local`)",
    )
    parser.add_argument(
        "--sandbox",
        choices=SANDBOX_MODES,
        default=os.environ.get(SANDBOX_ENV) or "auto",
        help=f"run each job in a bubblewrap sandbox: auto (when one can be made; default, or ${SANDBOX_ENV}), "
        "require, off",
    )
    parser.add_argument(
        "--keep-days",
        type=_positive_float,
        default=DEFAULT_KEEP_DAYS,
        metavar="DAYS",
        help=f"remove finished jobs (logs, folders) this many days after they ended (default: {DEFAULT_KEEP_DAYS:g}; "
        "inf: never)",
    )
    parser.add_argument(
        "--keep-jobs",
        type=_positive_int,
        default=DEFAULT_KEEP_JOBS,
        metavar="N",
        help=f"keep at most this many finished jobs, removing the oldest first (default: {DEFAULT_KEEP_JOBS})",
    )
    parser.add_argument(
        "--log-level", default="INFO", help="stderr log level (default INFO; DEBUG adds a line per request)"
    )


def stop_local(state_dir: Path | None = None) -> int:
    """``hfjobs-mcp local --stop``: stop the backend serving the state folder; 0 if none runs (nothing to do)."""
    folder = state_dir or default_state_dir()
    try:
        pid = stop(folder)
    except RuntimeError as exc:
        print(f"hfjobs-mcp local: {exc}", file=sys.stderr)
        return 1
    if pid is None:
        print(f"hfjobs-mcp local: no backend serves {folder}", file=sys.stderr)
    else:
        print(f"hfjobs-mcp local: stopped the backend (pid {pid}) serving {folder}", file=sys.stderr)
    return 0


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
    return value


def _positive_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def run_local(
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    state_dir: Path | None = None,
    token: str | None = None,
    user: str = DEFAULT_USER,
    orgs: Sequence[str] = (),
    faults: str | None = None,
    sandbox: str = "auto",
    keep_days: float = DEFAULT_KEEP_DAYS,
    keep_jobs: int = DEFAULT_KEEP_JOBS,
) -> int:
    """Serve until SIGINT or SIGTERM; the exit status (0, or 1/2 when it cannot start)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    generated = False
    token = token or os.environ.get(TOKEN_ENV) or None
    if not token:
        token, generated = secrets.token_urlsafe(32), True
    faults = faults if faults is not None else (os.environ.get(FAULTS_ENV) or None)
    if faults:
        try:
            parse_spec(faults)
        except FaultSpecError as exc:
            print(f"hfjobs-mcp local: --faults: {exc}", file=sys.stderr)
            return 2
    cfg = LocalConfig(
        state_dir=state_dir or default_state_dir(),
        token=token,
        user=user,
        orgs=tuple(orgs),
        host=host,
        port=port,
        faults=faults,
        sandbox=sandbox,
        keep_days=keep_days,
        keep_jobs=keep_jobs,
    )
    return asyncio.run(_serve(cfg, show_token=generated))


async def _serve(cfg: LocalConfig, *, show_token: bool) -> int:
    try:
        backend = LocalBackend(cfg, access_log=True)
    except StateDirBusyError as exc:
        print(f"hfjobs-mcp local: {exc}", file=sys.stderr)
        return 1
    except UnsafeStateDirError as exc:
        print(f"hfjobs-mcp local: refusing the state folder: {exc}", file=sys.stderr)
        return 2
    try:
        await backend.start()
    except OSError as exc:
        backend.core.close()
        print(f"hfjobs-mcp local: cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"hfjobs-mcp local backend: {backend.url}", file=sys.stderr)
    print(f"  use it as HF_ENDPOINT:  export HF_ENDPOINT={backend.url}", file=sys.stderr)
    if show_token:
        print(f"  generated token (shown once; set ${TOKEN_ENV} to choose one): {cfg.token}", file=sys.stderr)
    print(f"  user {cfg.user}; state in {cfg.state_dir}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await backend.aclose()
    return 0
