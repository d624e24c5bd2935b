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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver.resolve import build_resolver_plans, find_resolved_parameters
from mcp.server.mcpserver.tools.base import Tool
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
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


__all__ = ["ARGUMENTS", "RawArguments", "sdk_tool_of"]
