"""A real browser rendering hfjobs-mcp's MCP Apps pages the way a chat host does, against a real server.

The pieces, all on this machine:

- ``hfjobs-mcp --local`` as a stdio subprocess (the real command, its embedded local Jobs backend running jobs as
  local processes), with a real MCP client session that declares the Apps extension, as Claude Desktop does;
- a loopback relay (Starlette on 127.0.0.1) that serves the test host page and forwards its ``tools/list``,
  ``tools/call`` and ``resources/read`` to that session, recording each;
- headless Chromium from Debian, driven by Playwright, loading the host page (``host.html``), which renders the
  ``ui://`` page in a sandboxed ``srcdoc`` iframe under the spec's default CSP and speaks the bridge with it;
- a direct client to the embedded backend (found from its state folder), to check what really ran.

Console errors, uncaught page errors and CSP violations of any frame are collected; :meth:`Harness.assert_clean`
fails a test on any of them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import mcp
import uvicorn
from mcp.client.extension import advertise
from mcp.client.stdio import StdioServerParameters
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.shared.exceptions import MCPError
from playwright.async_api import Browser, ConsoleMessage, FrameLocator, Page, async_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.local import find_running

BIN = Path(sys.executable).parent / "hfjobs-mcp"
HOST_PAGE = Path(__file__).with_name("host.html")
DOCS = Path(__file__).resolve().parents[2] / "docs"
# Debian's package puts the browser here (/usr/bin/chromium is a shell launcher in front of it).
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")


def find_chromium() -> str | None:
    return next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)


def install_chromium() -> str:
    """Debian's ``chromium``, installed with apt when missing (as root, as in CI); its path."""
    found = find_chromium()
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(
            "Debian's chromium is not installed and this process cannot install it: run "
            "`apt-get update && apt-get install -y chromium` as root, then the tests again."
        )
    quiet = {"stdout": subprocess.DEVNULL, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
    install = ["apt-get", "install", "-y", "-qq", "chromium"]
    # The package lists may be fresh already (tests/conftest.py updates them to install bubblewrap): update only
    # when the install cannot find the package.
    if subprocess.run(install, check=False, **quiet).returncode != 0:  # type: ignore[call-overload]
        subprocess.run(["apt-get", "update", "-qq"], check=True, **quiet)  # type: ignore[call-overload]
        subprocess.run(install, check=True, **quiet)  # type: ignore[call-overload]
    found = find_chromium()
    if found is None:
        raise RuntimeError(
            "apt-get installed chromium but no executable was found at " + ", ".join(CHROMIUM_CANDIDATES)
        )
    return found


def server_env(tmp: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "HFJOBS_MCP_"))}
    env.update({"HFJOBS_MCP_HOME": str(tmp / "home"), "HF_HOME": str(tmp / "hf")})
    env.update(extra or {})
    return env


@dataclass
class Relay:
    """The host's connection to the MCP server: what the page asks for, forwarded over one real MCP session."""

    client: mcp.Client
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def rpc(self, request: Request) -> Response:
        body = await request.json()
        method, params = body["method"], body.get("params") or {}
        entry: dict[str, Any] = {"method": method, "params": params}
        self.seen.append(entry)
        result: Any
        try:
            if method == "tools/list":
                result = await self.client.list_tools()
            elif method == "tools/call":
                result = await self.client.call_tool(params["name"], params.get("arguments") or {})
            elif method == "resources/read":
                result = await self.client.read_resource(params["uri"])
            else:
                return JSONResponse({"error": {"code": -32601, "message": f"the relay does not forward {method}"}})
        except MCPError as exc:
            entry["error"] = exc.message
            return JSONResponse({"error": {"code": exc.code, "message": exc.message}})
        dumped = result.model_dump(mode="json", by_alias=True, exclude_none=True)
        entry["result"] = dumped
        return JSONResponse({"result": dumped})

    def calls(self, name: str | None = None) -> list[dict[str, Any]]:
        """The tools/call requests that reached the server (optionally of one tool), in order."""
        return [e["params"] for e in self.seen if e["method"] == "tools/call" and name in (None, e["params"]["name"])]

    def app(self) -> Starlette:
        async def index(request: Request) -> Response:
            return HTMLResponse(HOST_PAGE.read_text(encoding="utf-8"))

        return Starlette(routes=[Route("/", index), Route("/rpc", self.rpc, methods=["POST"])])


@asynccontextmanager
async def serve_loopback(app: Starlette) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) in this event loop; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        while not server.started:
            await anyio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
    sock.close()


@dataclass
class Harness:
    page: Page
    relay: Relay
    client: mcp.Client
    backend: JobsClient
    shots: Path
    problems: list[str]

    @property
    def app(self) -> FrameLocator:
        """The rendered MCP App (inside the sandboxed iframe)."""
        return self.page.frame_locator("#slot iframe")

    async def start(
        self, tool: str, args: dict[str, Any], *, theme: str = "light", width: int = 720, viewport: int | None = None
    ) -> None:
        """What a host does when the model calls ``tool``: render its page, make the call, hand the page both."""
        if viewport is not None:
            await self.page.set_viewport_size({"width": viewport, "height": 900})
        await self.page.evaluate("o => host.start(o)", {"tool": tool, "args": args, "theme": theme, "width": width})

    async def state(self) -> dict[str, Any]:
        """The host's record of the bridge (calls, ui/message, sizes...), as JSON."""
        raw = await self.page.evaluate(
            "() => JSON.stringify({calls: host.calls, messages: host.messages, sizes: host.sizes, links: host.links,"
            " unknown: host.unknown, refused: host.refused, appLogs: host.appLogs, initialized: host.initialized,"
            " log: host.log})"
        )
        return dict(json.loads(raw))

    async def set_theme(self, theme: str) -> None:
        await self.page.evaluate("t => host.setTheme(t)", theme)

    async def screenshot(self, name: str, *, docs: str | None = None) -> Path:
        """A PNG of the rendered app alone (the iframe), written to the screenshot folder.

        ``docs``: the README's picture of this state; with ``HFJOBS_MCP_UPDATE_DOCS=1`` it is rewritten too.
        """
        path = self.shots / f"{name}.png"
        frame = self.page.locator("#slot iframe")
        # A frame taller than the viewport is not painted whole: grow the viewport to hold it.
        box = await frame.bounding_box()
        size = self.page.viewport_size
        if box is not None and size is not None and box["y"] + box["height"] + 16 > size["height"]:
            await self.page.set_viewport_size({"width": size["width"], "height": int(box["y"] + box["height"] + 32)})
        await frame.screenshot(path=str(path))
        if docs and os.environ.get("HFJOBS_MCP_UPDATE_DOCS") == "1":
            DOCS.mkdir(exist_ok=True)
            shutil.copyfile(path, DOCS / docs)
        return path

    async def assert_clean(self) -> None:
        """No console error, page error or CSP violation in any frame; only bridge methods the spec defines."""
        state = await self.state()
        assert not self.problems, self.problems
        assert not state["unknown"], f"bridge methods the host does not know: {state['unknown']}"
        assert not state["refused"], f"tool calls the host refused: {state['refused']}"


@asynccontextmanager
async def hosted(
    tmp: Path,
    chromium: str,
    shots: Path,
    *,
    server_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    mode: str = "auto",
) -> AsyncIterator[Harness]:
    state = tmp / "state"
    params = StdioServerParameters(
        command=str(BIN),
        args=["--local", "--state-dir", str(state), "--log-level", "WARNING", *server_args],
        env=server_env(tmp, env),
    )
    apps = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
    async with mcp.Client(params, mode=mode, extensions=[apps]) as client:  # type: ignore[arg-type]
        await client.call_tool("list_hardware", {})  # the server attaches to (or starts) its backend on a first call
        running = find_running(state)
        assert running is not None, "the server's backend did not write its discovery file"
        url, token = running
        relay = Relay(client)
        async with (
            JobsClient(token=token, endpoint=url) as backend,
            serve_loopback(relay.app()) as base,
            async_playwright() as pw,
        ):
            browser: Browser = await pw.chromium.launch(executable_path=chromium, headless=True)
            try:
                page = await browser.new_page(viewport={"width": 800, "height": 900})
                problems: list[str] = []

                def on_console(message: ConsoleMessage) -> None:
                    # Chromium reports each CSP violation of any frame, the sandboxed page's included, as a console
                    # error ("... violates the following Content Security Policy directive ...").
                    if message.type == "error" or "Content Security Policy" in message.text:
                        problems.append(f"console {message.type}: {message.text} at {message.location}")

                page.on("console", on_console)
                page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
                await page.goto(base + "/")
                yield Harness(page, relay, client, backend, shots, problems)
            finally:
                await browser.close()
