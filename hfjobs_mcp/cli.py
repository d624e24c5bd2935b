"""Command line: argument parsing, logging to stderr, wiring; nothing else.

``hfjobs-mcp`` (= ``hfjobs-mcp serve``) runs the MCP server; ``hfjobs-mcp local`` serves the local Jobs backend;
``hfjobs-mcp demo`` walks an MCP client through a typical agent session on the embedded backend. stdout belongs
to the MCP protocol under stdio, so every log line goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys

# No pydantic plugins in the server: one installed in the same environment would see every value the server
# validates (the token it is given included), and finding them reads every installed distribution's entry points
# (~8 ms of each start). PYDANTIC_DISABLE_PLUGINS set to anything else (even empty) keeps its meaning.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import anyio
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from hfjobs_mcp import __version__, logsetup
from hfjobs_mcp.config import Flag, Settings
from hfjobs_mcp.errors import InvalidRequestError, PolicyError
from hfjobs_mcp.private_paths import UnsafePathError

COMMANDS = ("serve", "local", "demo")

_Model = TypeVar("_Model", bound=BaseModel)


def _names(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _choices_or_all(choices: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    """Comma-separated names among ``choices``, or ``all`` of them."""

    def parse(value: str) -> tuple[str, ...]:
        if value.strip() == "all":
            return choices
        names = _names(value)
        if not names or any(n not in choices for n in names):
            raise argparse.ArgumentTypeError(f"choose among {', '.join(choices)} (comma-separated), or all")
        return names

    parse.__name__ = "choices"  # what argparse names in "invalid choices value"
    return parse


def _or_none(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse``, or ``none`` for None (an optional setting whose default is not None: ``--budget none``)."""

    def parse_or_none(value: str) -> Any:
        if value.strip().lower() == "none":
            return None
        try:
            return parse(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"give a number (e.g. 1.50) or 'none', not {value!r}") from None

    parse_or_none.__name__ = parse.__name__
    return parse_or_none


def _duration(value: str) -> int:
    # The API's own duration grammar, imported only when the option is given (start-up time).
    from hfjobs_mcp.api.spec import parse_timeout

    try:
        seconds = parse_timeout(value)
    except InvalidRequestError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None
    if seconds is None:
        raise argparse.ArgumentTypeError("give a positive duration such as 2h, 90m or 3600")
    return seconds


def _flag(field: FieldInfo) -> Flag | None:
    return next((m for m in field.metadata if isinstance(m, Flag)), None)


def _option(name: str, flag: Flag) -> str:
    return flag.name or "--" + name.replace("_", "-")


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _option_kwargs(name: str, field: FieldInfo, flag: Flag) -> dict[str, Any]:
    """The ``add_argument`` keywords of one :class:`Settings` field: its type read from its annotation."""
    annotation, default = field.annotation, field.default
    arms = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    optional = type(None) in arms
    kind = next(a for a in arms if a is not type(None))
    help_text = field.description or name.replace("_", " ")
    kwargs: dict[str, Any] = {"dest": name, "default": default, "metavar": flag.metavar}
    if kind is bool:
        assert default is False, f"{name}: a switch must default to False"
        return {"dest": name, "action": "store_true", "help": help_text}
    if get_origin(kind) is Literal:
        kwargs["choices"] = get_args(kind)
    elif get_origin(kind) is tuple:
        item = get_args(kind)[0]
        if flag.repeat:
            kwargs.update(action="append", default=list(default))
        elif get_origin(item) is Literal:
            kwargs["type"] = _choices_or_all(get_args(item))
            help_text += f": comma-separated among {','.join(get_args(item))}, or all"
        else:
            kwargs["type"] = _names
    else:
        parse: Callable[[str], Any] = _duration if flag.duration else kind
        kwargs["type"] = _or_none(parse) if optional and default is not None else parse
    if default not in (None, ()):
        help_text += f" (default {_shown(default)})"
    kwargs["help"] = help_text
    return kwargs


def flagged(model: type[BaseModel]) -> dict[str, Flag]:
    """The fields of ``model`` that are command-line options, with how each is written."""
    return {name: flag for name, field in model.model_fields.items() if (flag := _flag(field)) is not None}


def add_options(parser: argparse.ArgumentParser, model: type[BaseModel] = Settings) -> None:
    """One option per field of ``model`` marked with a :class:`~hfjobs_mcp.config.Flag`, in field order."""
    # Options of the HTTP deployment (see hfjobs_mcp.serve.http and the README's Deployment section).
    http = parser.add_argument_group("HTTP deployment (--transport http)")
    for name, flag in flagged(model).items():
        kwargs = _option_kwargs(name, model.model_fields[name], flag)
        (http if flag.http else parser).add_argument(_option(name, flag), **kwargs)


def settings_from_args(args: argparse.Namespace, model: type[_Model]) -> _Model:
    """The settings of parsed options; a value out of its field's bounds raises ValueError naming the option."""
    options = flagged(model)
    try:
        return model(**{name: getattr(args, name) for name in options})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = str(error["loc"][0]) if error["loc"] else ""
        option = _option(where, options[where]) if where in options else where
        raise ValueError(f"argument {option}: {error['msg']}") from None


def _add_serve_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the MCP server (the default command)")
    add_options(p, Settings)
    p.add_argument("--log-level", default="INFO", help="stderr log level (default INFO)")
    p.set_defaults(handler=_serve)


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
        from hfjobs_mcp.local.cli import add_arguments  # only for `local` (start-up time, see above)

        add_arguments(p)
    p.set_defaults(handler=_local)


def _local(args: argparse.Namespace) -> int:
    from hfjobs_mcp.local.cli import run_local, stop_local  # the backend, only for `local` (start-up time)

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
    try:
        settings = settings_from_args(args, Settings)
    except ValueError as exc:
        print(f"hfjobs-mcp serve: error: {exc}", file=sys.stderr)
        return 2
    if settings.transport == "http":
        from hfjobs_mcp.serve.http.run import run_http  # uvicorn and Starlette only for HTTP (start-up time)

        return run_http(settings)
    from hfjobs_mcp.serve.stdio import serve  # the serving side once the command line is read (start-up time)

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
    from hfjobs_mcp.demo import run_demo  # an MCP client and the embedded backend, only for `demo` (start-up time)

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
