"""Wiring for a running server: the API client (remote, or the local backend) and the transport.

Kept out of ``cli.py`` so that the command line only parses arguments, and out of ``server.py`` so that the
server only adapts tools to MCP. Tests and the demo use :func:`open_client` to get exactly what the command
line gets.
"""

from __future__ import annotations

import logging
import os
import secrets as _random
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import anyio
from pydantic import SecretStr

from hfjobs_mcp.api import JobsClient, find_endpoint
from hfjobs_mcp.api.auth import TokenSource
from hfjobs_mcp.config import Settings
from hfjobs_mcp.policy.approvals import Approvals
from hfjobs_mcp.policy.redaction import Redactor, mask_logs
from hfjobs_mcp.policy.sources import SecretSources
from hfjobs_mcp.private_paths import UnsafePathError
from hfjobs_mcp.tools.base import ToolContext

logger = logging.getLogger("hfjobs_mcp")

LOCAL_USER = "local-user"


def default_state_dir() -> Path:
    """Where the local backend keeps its jobs: ``$HFJOBS_MCP_HOME/local`` or ``~/.cache/hfjobs-mcp/local``."""
    home = os.environ.get("HFJOBS_MCP_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".cache" / "hfjobs-mcp") / "local"


@asynccontextmanager
async def open_client(settings: Settings, *, embedded: bool = False) -> AsyncIterator[JobsClient]:
    """The API client the settings ask for.

    With ``local``, the local backend serving the state folder is used, started as a detached process if none
    runs, so its jobs outlive this server (``hfjobs_mcp.local.detached``); this process holds a client lease
    until it leaves. ``embedded`` instead serves a backend from a thread of this process, stopped on leaving
    (the demo, with its throwaway state folder).
    """
    async with AsyncExitStack() as stack:
        if settings.local:
            from hfjobs_mcp.local.private import UnsafeStateDirError

            state_dir = settings.state_dir or default_state_dir()
            if embedded:
                from hfjobs_mcp.local import LocalConfig, serve_in_thread

                token = _random.token_urlsafe(24)
                config = LocalConfig(state_dir=state_dir, token=token, user=LOCAL_USER, host="127.0.0.1", port=0)
                try:
                    url = stack.enter_context(serve_in_thread(config)).url
                except UnsafeStateDirError as exc:  # another user's folder, or one others may write to
                    raise UnsafePathError(str(exc)) from None
            else:
                from hfjobs_mcp.local.detached import attach

                try:
                    attached = await anyio.to_thread.run_sync(lambda: attach(state_dir, user=LOCAL_USER))
                except UnsafeStateDirError as exc:  # another user's folder, or one others may write to
                    raise UnsafePathError(str(exc)) from None
                stack.callback(attached.release)
                url, token = attached.url, attached.token
                how = "started" if attached.started else "attached to"
                logger.info("%s the local Jobs backend at %s (pid %d, state in %s)", how, url, attached.pid, state_dir)
            local_token = TokenSource(SecretStr(token), origin="the local backend's own token (no cost)")
            client = JobsClient(token=local_token, endpoint=url, namespace=settings.namespace)
        else:
            # The token found as huggingface_hub finds it; a browser login's token file is refreshed before it expires.
            source = (
                TokenSource(settings.token, origin="the token given to the server")
                if settings.token
                else TokenSource.found()
            )
            endpoint = settings.endpoint or find_endpoint()
            client = JobsClient(token=source, endpoint=endpoint, namespace=settings.namespace)
            if source.token is None:
                logger.warning("no Hugging Face token found: tools will say so until HF_TOKEN is set (or use --local)")
        await stack.enter_async_context(client)
        yield client


def base_context(settings: Settings, client: JobsClient, *, environ: Mapping[str, str] | None = None) -> ToolContext:
    """The context every tool call starts from (the server adds per-call progress and consent).

    The redactor knows, from the start, the server's own token and every value of the secrets file; values
    resolved from the environment join it when they are first resolved.
    """
    sources = SecretSources(
        environ=environ,
        secrets_file=settings.secrets_file,
        hf_token=client.token_secret,  # the token in use now (a refreshed browser login included)
        # Served over HTTP, the server's own environment is nobody's to forward (design §5.8).
        use_environment=settings.transport == "stdio",
    )
    redactor = Redactor(sources.file_values())
    client.on_new_token(lambda token: redactor.add([token.get_secret_value()]))
    mask_logs(redactor)
    return ToolContext(
        client=client,
        settings=settings,
        local_files=settings.transport == "stdio",
        sources=sources,
        redactor=redactor,
        approvals=Approvals(),
        principal="stdio" if settings.transport == "stdio" else "anyone",
    )


async def serve(settings: Settings) -> None:
    """Run the MCP server over stdio until stdin ends (``--transport http`` is :func:`hfjobs_mcp.web.run_http`)."""
    from hfjobs_mcp.server import build_server  # the MCP SDK, imported when serving (start-up time)

    async with open_client(settings) as client:
        server = build_server(base_context(settings, client), toolsets=settings.toolsets, read_only=settings.read_only)
        await server.run_stdio_async()
