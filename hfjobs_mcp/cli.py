"""Command line: argument parsing, logging to stderr, wiring; nothing else.

``hfjobs-mcp`` (= ``hfjobs-mcp serve``) runs the MCP server; ``hfjobs-mcp local`` serves the local Jobs backend;
``hfjobs-mcp demo`` walks an MCP client through a typical agent session on the embedded backend. stdout belongs
to the MCP protocol under stdio, so every log line goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from hfjobs_mcp import __version__, logsetup
from hfjobs_mcp.config import DEFAULT_TOOLSETS, TOOLSETS

COMMANDS = ("serve", "local", "demo")


def _toolsets(value: str) -> tuple[str, ...]:
    if value.strip() == "all":
        return TOOLSETS
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [n for n in names if n not in TOOLSETS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose toolsets among {', '.join(TOOLSETS)} (comma-separated), or all")
    return names


def _usd_or_none(value: str) -> float | None:
    if value.strip().lower() == "none":
        return None
    try:
        amount = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("give an amount in USD (e.g. 1.50) or 'none'") from None
    if amount < 0:
        raise argparse.ArgumentTypeError("the amount cannot be negative")
    return amount


def _duration(value: str) -> int:
    from hfjobs_mcp.api.spec import parse_timeout
    from hfjobs_mcp.errors import InvalidRequestError

    try:
        seconds = parse_timeout(value)
    except InvalidRequestError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None
    if seconds is None:
        raise argparse.ArgumentTypeError("give a positive duration such as 2h, 90m or 3600")
    return seconds


def _names(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _add_serve_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the MCP server (the default command)")
    p.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="stdio (default) or streamable HTTP")
    p.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    p.add_argument("--endpoint", help="Jobs API base URL (default: HF_ENDPOINT, else https://huggingface.co)")
    p.add_argument(
        "--local",
        action="store_true",
        help="use the local Jobs backend (started in the background if none runs): no token, no network, no cost",
    )
    p.add_argument("--state-dir", type=Path, help="local backend state (default ~/.cache/hfjobs-mcp/local)")
    p.add_argument("--namespace", help="default user or org for jobs (default: the token's user)")
    p.add_argument("--read-only", action="store_true", help="only tools that change nothing")
    p.add_argument(
        "--toolsets",
        type=_toolsets,
        default=DEFAULT_TOOLSETS,
        help=f"comma-separated subset of {','.join(TOOLSETS)}, or all (default {','.join(DEFAULT_TOOLSETS)})",
    )
    p.add_argument(
        "--secrets-policy",
        choices=("confirm", "strict", "allowlist", "deny"),
        default="confirm",
        help="how forwarding secrets is approved: confirm (default: asked through elicitation or an MCP Apps "
        "approval card), strict (elicitation only), allowlist (--allow-secret names without asking), deny (never)",
    )
    p.add_argument(
        "--confirm-via",
        choices=("client", "code"),
        default="client",
        help="client (default): a yes comes only through the client (elicitation, an MCP Apps approval card); "
        "a client with neither is refused. code: such clients get a one-time code in the tool result instead, "
        "which TRUSTS THE AGENT to show it to you rather than approve itself",
    )
    p.add_argument("--allow-secret", action="append", default=[], metavar="NAME", help="for --secrets-policy allowlist")
    p.add_argument("--secrets-file", type=Path, help="dotenv file of secret values the server may forward by name")
    p.add_argument(
        "--confirm-above",
        type=_usd_or_none,
        default=1.0,
        metavar="USD|none",
        help="ask the user when a run may cost more (per run; per day for schedules); 0 asks for every paid job, "
        "none never asks for price (default 1.00)",
    )
    p.add_argument(
        "--budget",
        type=_usd_or_none,
        default=10.0,
        metavar="USD|none",
        help="ask the user when a request would take a namespace's committed spend over 24 hours (what ran, the "
        "ceilings of running jobs and the daily ceilings of active schedules) above this (default 10.00)",
    )
    p.add_argument(
        "--max-spend-per-day", type=float, metavar="USD", help="refuse requests that would take it above this"
    )
    p.add_argument("--max-price-per-job", type=float, metavar="USD", help="refuse runs whose ceiling is above this")
    p.add_argument(
        "--max-timeout", type=_duration, metavar="DURATION", help="refuse longer timeouts (e.g. 2h, 90m, 3600)"
    )
    p.add_argument(
        "--allowed-namespaces",
        type=_names,
        default=(),
        metavar="NS,...",
        help="namespaces billed without asking, besides the default one",
    )
    p.add_argument("--only-namespaces", type=_names, default=(), metavar="NS,...", help="refuse every other namespace")
    _add_http_arguments(p)
    p.add_argument("--log-level", default="INFO", help="stderr log level (default INFO)")
    p.set_defaults(handler=_serve)


def _add_http_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the HTTP deployment (see hfjobs_mcp.serve.http and the README's Deployment section)."""
    g = p.add_argument_group("HTTP deployment (--transport http)")
    g.add_argument(
        "--auth",
        choices=("token", "hf", "none"),
        default="none",
        help="token: one bearer token from HFJOBS_MCP_AUTH_TOKEN, calls use the server's HF token; hf: each "
        "caller's bearer token is its own Hugging Face token; none (default): loopback only",
    )
    g.add_argument(
        "--allowed-hosts", type=_names, default=(), metavar="HOSTS", help="Host headers accepted besides loopback"
    )
    g.add_argument(
        "--allowed-origins", type=_names, default=(), metavar="ORIGINS", help="Origin headers accepted besides loopback"
    )
    g.add_argument("--max-body-bytes", type=int, default=1024 * 1024, help="request body cap (default 1 MiB)")
    g.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    g.add_argument(
        "--shutdown-grace", type=float, default=60.0, metavar="SECONDS", help="on SIGTERM, let calls finish (60)"
    )


def _add_demo_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="walk an MCP client through an agent session on the embedded local backend")
    p.add_argument("--state-dir", type=Path, help="where the demo's local jobs live (default: a temporary folder)")
    p.add_argument("--log-level", default="WARNING", help="stderr log level (default WARNING)")
    p.set_defaults(handler=_demo)


def _add_local_command(sub: argparse._SubParsersAction[argparse.ArgumentParser], *, full: bool = True) -> None:
    """The ``local`` command; its options come from the backend's module, imported only when it is chosen.

    Importing the backend (Starlette, uvicorn, its store) costs a third of a second: ``serve``, which MCP
    clients launch for every session, must not pay it.
    """
    p = sub.add_parser(
        "local",
        help="serve the local Jobs backend (the Jobs REST API on loopback; jobs run as local processes)",
        description="Serve the local Jobs backend. Point clients at it with HF_ENDPOINT=<the printed URL>.",
    )
    if full:
        from hfjobs_mcp.local.cli import add_arguments

        add_arguments(p)
    p.set_defaults(handler=_local)


def _local(args: argparse.Namespace) -> int:
    from hfjobs_mcp.local.cli import run_local, stop_local

    if args.stop:
        return stop_local(args.state_dir)
    return run_local(
        host=args.host,
        port=args.port,
        state_dir=args.state_dir,
        token=args.token,
        user=args.user,
        orgs=args.org,
        faults=args.faults,
        sandbox=args.sandbox,
        keep_days=args.keep_days,
        keep_jobs=args.keep_jobs,
    )


def _serve(args: argparse.Namespace) -> int:
    from hfjobs_mcp.config import Settings
    from hfjobs_mcp.serve.stdio import serve

    settings = Settings(
        transport=args.transport,
        host=args.host,
        port=args.port,
        endpoint=args.endpoint,
        namespace=args.namespace,
        local=args.local,
        state_dir=args.state_dir,
        read_only=args.read_only,
        toolsets=args.toolsets,
        secrets_policy=args.secrets_policy,
        allow_secrets=tuple(args.allow_secret),
        secrets_file=args.secrets_file,
        confirm_above=args.confirm_above,
        confirm_via=args.confirm_via,
        budget=args.budget,
        max_spend_per_day=args.max_spend_per_day,
        max_price_per_job=args.max_price_per_job,
        max_timeout=args.max_timeout,
        only_namespaces=args.only_namespaces,
        allowed_namespaces=args.allowed_namespaces,
        auth=args.auth,
        allowed_hosts=args.allowed_hosts,
        allowed_origins=args.allowed_origins,
        max_body_bytes=args.max_body_bytes,
        workers=args.workers,
        shutdown_grace_seconds=args.shutdown_grace,
    )
    if settings.transport == "http":
        from hfjobs_mcp.serve.http.run import run_http

        return run_http(settings)
    from hfjobs_mcp.errors import PolicyError
    from hfjobs_mcp.private_paths import UnsafePathError

    try:
        anyio.run(serve, settings)
    except UnsafePathError as exc:  # a state folder or secrets file another user could use
        print(f"hfjobs-mcp: {exc}", file=sys.stderr)
        return 2
    except PolicyError as exc:  # e.g. the secrets file is missing
        print(f"hfjobs-mcp: {exc.message}", file=sys.stderr)
        return 2
    return 0


def _demo(args: argparse.Namespace) -> int:
    from hfjobs_mcp.demo import run_demo

    return anyio.run(run_demo, args.state_dir)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hfjobs-mcp",
        description="MCP server for Hugging Face Jobs. Without a command: `serve` (see `hfjobs-mcp serve --help`).",
    )
    parser.add_argument("--version", action="version", version=f"hfjobs-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{serve,local,demo}")
    _add_serve_command(sub)
    _add_local_command(sub, full=command in (None, "local"))
    _add_demo_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `hfjobs-mcp --local` means `hfjobs-mcp serve --local`: serving is what MCP clients launch us for.
    if not args_list or (args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, "serve")
    parser = build_parser(args_list[0])
    args = parser.parse_args(args_list)
    logsetup.configure(getattr(args, "log_level", "INFO"))
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        return 130
