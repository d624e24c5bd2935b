"""The one place that relies on MCP SDK internals; ``tests/serve/test_sdk_shim.py`` fails when the SDK changes them.

Our tools go through the SDK's public surface (``MCPServer(tools=...)``, ``Resolve`` and ``Elicit`` for the consent
resolvers, the ``Context`` of each call). Two things that surface has no way to say are done here, each on the
narrowest internal it needs:

1. **A tool validates its own arguments.** ``Tool.from_function`` validates a call with a pydantic model it builds
   from the function's signature and answers a refusal with pydantic's text. Our tools validate with their own
   argument model (:func:`hfjobs_mcp.tools.arguments.parse_arguments`), so a refusal is an ``isError`` result
   naming every field, what is expected and the closest valid name. :class:`RawArguments` is call metadata whose
   ``validate_arguments`` hands the raw arguments through under one name (:data:`ARGUMENTS`); ``Tool.run`` passes
   that mapping both to the function and to the resolvers that take a tool argument by name.
2. **The published schemas are ours**: the compact cached input schema (without ``confirm`` unless
   ``--confirm-via code``) and the result model's output schema (``Tool.parameters``,
   ``FuncMetadata.output_schema``); ``FuncMetadata.output_model`` keeps the SDK's check of structured content
   (given on a tool's first call, once its model is imported: the SDK reads the field live).
   :func:`sdk_tool_of` builds the ``Tool`` that ``Tool.from_function`` would, with the SDK's own context and
   resolver discovery, but without deriving an argument model and schema from the signature only to replace them
   (1.3 ms a tool under pydantic, about 16 ms of every start). The test holds it equal to ``from_function``'s.
3. **Logging stays ours.** ``MCPServer()`` calls the module-level ``configure_logging`` of
   ``mcp.server.mcpserver.server``, which imports rich, builds a console handler and hands it to
   ``logging.basicConfig``, which drops it when the root logger already has a handler: the command line sets ours
   (:mod:`hfjobs_mcp.logsetup`) before any server is built. That is 14 ms of every start for nothing (rich is
   otherwise never imported). :func:`keep_configured_logging` skips the call in exactly that case; with no root
   handler (a library user's own script), the SDK's set-up runs as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from mcp.server.mcpserver import server as _sdk_server
from mcp.server.mcpserver.resolve import build_resolver_plans, find_resolved_parameters
from mcp.server.mcpserver.tools.base import Tool
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.server.mcpserver.utilities.logging import configure_logging as _sdk_configure_logging
from mcp_types import ToolAnnotations

ARGUMENTS = "arguments"
"""The one parameter (of a tool function and of its plan resolver) that receives a call's raw arguments."""


class RawArguments(FuncMetadata):
    """Call metadata that hands a call's arguments through, unvalidated, as ``{ARGUMENTS: {...}}``."""

    def validate_arguments(self, arguments_to_validate: dict[str, Any]) -> dict[str, Any]:
        return {ARGUMENTS: dict(arguments_to_validate)}


class _Arguments(ArgModelBase):
    """The argument model the SDK would derive from ``fn(ctx, arguments: dict[str, Any], ...)``; never validated."""

    arguments: dict[str, Any]


def sdk_tool_of(
    fn: Callable[..., Any],
    *,
    name: str,
    title: str | None,
    description: str,
    annotations: ToolAnnotations | None,
    meta: dict[str, Any] | None,
    input_schema: dict[str, Any],
    output_model: type[Any] | None,
    output_schema: dict[str, Any],
) -> Tool:
    """What ``Tool.from_function(fn, ..., structured_output=False)`` builds, with our arguments and schemas.

    ``fn`` is async and takes the SDK's ``Context``, the call's raw arguments as :data:`ARGUMENTS`, and any number of
    ``Annotated[T, Resolve(...)]`` parameters.
    """
    context_kwarg = find_context_parameter(fn)
    resolved = find_resolved_parameters(fn)
    return Tool(
        fn=fn,
        name=name,
        title=title,
        description=description,
        parameters=input_schema,
        fn_metadata=RawArguments(arg_model=_Arguments, output_model=output_model, output_schema=output_schema),
        is_async=True,
        context_kwarg=context_kwarg,
        resolved_params=resolved,
        resolver_plans=build_resolver_plans(resolved, {ARGUMENTS}),
        annotations=annotations,
        meta=meta,
    )


def _configure_logging_unless_configured(
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO",
) -> None:
    if not logging.getLogger().handlers:  # only then would the SDK's basicConfig do anything
        _sdk_configure_logging(level)


def keep_configured_logging() -> None:
    """Have ``MCPServer()`` leave a configured root logger alone without building rich's handler (item 3 above)."""
    _sdk_server.configure_logging = _configure_logging_unless_configured  # type: ignore[attr-defined]


__all__ = ["ARGUMENTS", "RawArguments", "keep_configured_logging", "sdk_tool_of"]
