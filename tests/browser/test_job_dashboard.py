"""The live job dashboard (issue 20) in a real browser, rendered by a test host against a real server.

The page is bound to run_job, run_uv_job, rerun_job, inspect_job and wait_for_job. It reads the job from the
result the host hands it, then keeps itself current through the server's own read tools (fetch_logs with its
cursor, inspect_job, fetch_metrics, list_hardware) over the host bridge, and cancels through cancel_job. Jobs
really run, as local processes of ``hfjobs-mcp --local``'s embedded backend, which the tests also read directly.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from playwright.async_api import expect

from tests.browser.harness import Harness, hosted

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

# The tools the page may call, and the ones it polls with.
POLLING = {"fetch_logs", "fetch_metrics", "inspect_job", "list_hardware"}
ALLOWED = POLLING | {"cancel_job", "answer_approval"}

UV_LINES = 40
UV_SCRIPT = f"""
import time
for i in range({UV_LINES}):
    print(f"line {{i:03d}} of {UV_LINES}", flush=True)
    time.sleep(0.1)
"""

# Busy half the time and printing twice a second, for up to two minutes (the tests cancel it).
BUSY = (
    "import time\n"
    "end = time.time() + 120\n"
    "i = 0\n"
    "while time.time() < end:\n"
    "    t = time.time() + 0.25\n"
    "    while time.time() < t: pass\n"
    "    print(f'tick {i} loss={1 / (i + 1):.4f}', flush=True)\n"
    "    i += 1\n"
    "    time.sleep(0.25)\n"
)
LONG_JOB = {"image": "python:3.12", "command": ["python", "-c", BUSY], "flavor": "cpu-basic"}
# The same work as a named UV script with labels and an exposed port: what the README shows.
LONG_UV = {
    "script": BUSY,
    "name": "finetune-demo",
    "flavor": "cpu-basic",
    "timeout": "20m",
    "labels": {"team": "research", "run": "demo"},
    "expose": [7860],
}


async def _app_calls(h: Harness) -> list[dict[str, Any]]:
    return [c for c in (await h.state())["calls"] if c["from"] == "app"]


async def _points(h: Harness, chart: str) -> int:
    points = await h.app.locator(f"#{chart} polyline").first.get_attribute("points")
    return len((points or "").split())


async def _lines(h: Harness) -> list[str]:
    return await h.app.locator("#logs .line").all_inner_texts()


def _assert_spaced(calls: list[dict[str, Any]]) -> None:
    """Polling never calls the server more than about once a second."""
    starts = [c["at"] for c in calls if c["name"] in POLLING]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert not gaps or min(gaps) >= 950, f"polling calls {min(gaps):.0f} ms apart"


async def _quiet_for(h: Harness, seconds: float) -> None:
    """The page stopped following (a call in flight may end first), then makes no call for ``seconds``."""
    await expect(h.app.locator("#live")).to_be_hidden(timeout=15_000)
    await _no_calls_for(h, seconds)


async def _no_calls_for(h: Harness, seconds: float) -> None:
    before = len(await _app_calls(h))
    await anyio.sleep(seconds)
    after = await _app_calls(h)
    assert len(after) == before, [c["name"] for c in after[before:]]


async def test_a_uv_job_streams_its_lines_in_order_once_and_completes(
    tmp_path: Path, chromium: str, shots: Path
) -> None:
    async with hosted(tmp_path, chromium, shots) as h:
        await h.start("run_uv_job", {"script": UV_SCRIPT, "flavor": "cpu-basic"})
        dashboard = h.app.locator("#dashboard")
        await expect(dashboard).to_be_visible(timeout=15_000)
        # Lines arrive while the job runs, not only at the end.
        await expect(h.app.locator("#logs .line").first).to_be_visible(timeout=30_000)
        seen_running = await h.app.locator("#badge").inner_text()
        await expect(h.app.locator("#badge")).to_have_text("COMPLETED", timeout=60_000)
        expected = [f"line {i:03d} of {UV_LINES}" for i in range(UV_LINES)]
        assert await _lines(h) == expected
        assert seen_running in ("SCHEDULING", "RUNNING")
        # The backend agrees: this is the job it ran, and this is what it printed.
        jobs = list(await h.backend.list_jobs())
        assert len(jobs) == 1
        ref = f"{jobs[0].owner.name}/{jobs[0].id}"
        await expect(h.app.locator("#job-ref")).to_have_text(ref)
        printed = [line.text async for line in h.backend.stream_logs(ref, follow=False)]
        assert printed == expected
        # It followed by cursor: every fetch_logs after the first passed the previous one's cursor.
        calls = await _app_calls(h)
        assert {c["name"] for c in calls} <= ALLOWED
        logs = [c for c in calls if c["name"] == "fetch_logs"]
        assert len(logs) >= 2
        for before, after in itertools.pairwise(logs):
            assert after["arguments"]["cursor"] == before["result"]["structuredContent"]["cursor"]
        _assert_spaced(calls)
        # The timeline reached the end; the cost meter priced cpu-basic.
        await expect(h.app.locator("#step-finished")).to_contain_text("COMPLETED")
        await expect(h.app.locator("#cost-now")).to_contain_text("$0.01/h")
        await expect(h.app.locator("#job-facts")).to_contain_text("UV script")
        await h.screenshot("dashboard-uv-completed")
        # Over: no more polling.
        await _quiet_for(h, 3)
        await h.assert_clean()


async def test_a_running_job_charts_its_usage_follows_its_tail_and_cancel_stops_it(
    tmp_path: Path, chromium: str, shots: Path
) -> None:
    async with hosted(tmp_path, chromium, shots) as h:
        await h.start("run_uv_job", LONG_UV)
        await expect(h.app.locator("#badge")).to_have_text("RUNNING", timeout=30_000)
        # Charts get points while it runs.
        with anyio.fail_after(45):
            while await _points(h, "chart-cpu") < 4 or await _points(h, "chart-memory") < 4:
                await anyio.sleep(0.5)
        assert await _points(h, "chart-network") >= 4
        cpu = await h.app.locator("#chart-cpu .value").inner_text()
        assert re.fullmatch(r"\d+%", cpu), cpu
        assert "MiB" in await h.app.locator("#chart-memory .value").inner_text()
        await expect(h.app.locator("#chart-gpu")).to_be_hidden()  # a CPU flavor: no GPU charts
        await expect(h.app.locator("#cost-now")).to_contain_text("so far")
        await expect(h.app.locator("#cost-ceiling")).to_contain_text("at most $0.0033 (timeout 20m)")
        await expect(h.app.locator("#step-running")).to_have_class(re.compile(r"\bnow\b"))
        chips = await h.app.locator("#job-facts .chip").all_inner_texts()
        assert sorted(chips) == ["run=demo", "team=research"]
        await expect(h.app.locator("#job-title")).to_have_text("finetune-demo")
        await expect(h.app.locator("#job-facts")).to_contain_text("UV script finetune-demo")
        # Exposed URLs are links the host opens (the sandbox opens nothing itself).
        await h.app.get_by_role("link", name="http://127.0.0.1:7860").click()
        assert (await h.state())["links"] == [{"url": "http://127.0.0.1:7860"}]
        await h.screenshot("dashboard-running", docs="job-dashboard.png")

        # The tail follows, in order, each line once.
        logs = h.app.locator("#logs")
        await expect(h.app.locator("#logs .line").nth(5)).to_be_attached(timeout=20_000)
        lines = await _lines(h)
        assert lines == [f"tick {i} loss={1 / (i + 1):.4f}" for i in range(len(lines))]
        # Scrolled up, it stays where the person is; the jump button brings the tail back.
        await logs.evaluate("e => { e.scrollTop = 0; e.dispatchEvent(new Event('scroll')); }")
        count = len(lines)
        with anyio.fail_after(20):
            while len(await _lines(h)) <= count + 2:
                await anyio.sleep(0.3)
        assert await logs.evaluate("e => e.scrollTop") == 0
        await expect(h.app.locator("#jump")).to_be_visible()
        await h.app.locator("#jump").click()
        assert await logs.evaluate("e => e.scrollTop + e.clientHeight >= e.scrollHeight - 8")
        # The grep box filters what is shown.
        await h.app.locator("#grep").fill("tick 1")
        visible = await h.app.locator("#logs .line:not(.hidden)").all_inner_texts()
        assert visible
        assert all("tick 1" in line for line in visible)
        await expect(h.app.locator("#log-count")).to_contain_text(" of ")
        await h.app.locator("#grep").fill("")

        # Dark and narrow, while it runs.
        await h.set_theme("dark")
        await h.screenshot("dashboard-running-dark")
        await h.page.evaluate("w => host.setWidth(w)", 360)
        await anyio.sleep(0.5)
        overflow = await h.app.locator("body").evaluate("b => b.scrollWidth - b.clientWidth")
        assert overflow <= 0, f"the dashboard scrolls sideways at 360 px by {overflow} px"
        await h.screenshot("dashboard-running-narrow")
        await h.page.evaluate("w => host.setWidth(w)", 720)
        await h.set_theme("light")

        # "Tell the agent" sends what the person sees.
        await h.app.locator("#tell").click()
        await expect(h.app.locator("#status")).to_have_text("Sent to the agent.")
        told = (await h.state())["messages"][-1]["content"][0]["text"]
        ref = await h.app.locator("#job-ref").inner_text()
        assert ref in told
        assert "RUNNING" in told
        assert "tick " in told

        # Cancel: the backend's job ends CANCELED, the page shows it and stops polling.
        await h.app.locator("#cancel").click()
        await expect(h.app.locator("#badge")).to_have_text("CANCELED", timeout=20_000)
        assert str((await h.backend.inspect_job(ref)).status.stage) == "CANCELED"
        await expect(h.app.locator("#cancel")).to_be_hidden()
        await expect(h.app.locator("#step-finished")).to_contain_text("CANCELED")
        await h.screenshot("dashboard-canceled")
        calls = await _app_calls(h)
        assert [c["name"] for c in calls].count("cancel_job") == 1
        assert {c["name"] for c in calls} <= ALLOWED
        _assert_spaced(calls)
        await _quiet_for(h, 4)
        assert len(list(await h.backend.list_jobs())) == 1
        await h.assert_clean()


async def test_a_finished_job_is_shown_without_polling(tmp_path: Path, chromium: str, shots: Path) -> None:
    async with hosted(tmp_path, chromium, shots) as h:
        # Colour codes, a progress bar's carriage returns, a tab and a right-to-left override, then a failure.
        script = (
            "print('done'); print('\\x1b[31mred\\x1b[0m'); print('10%\\r100%'); print('tab\\there');"
            " print('rl\\u202eo'); raise SystemExit(3)"
        )
        started = await h.client.call_tool("run_job", {"image": "python:3.12", "command": ["python", "-c", script]})
        job = (started.structured_content or {})["job"]
        ref = f"{job['namespace']}/{job['id']}"
        await h.client.call_tool("wait_for_job", {"job_id": ref, "timeout_seconds": 60})
        await h.start("inspect_job", {"job_id": ref})
        await expect(h.app.locator("#badge")).to_have_text("ERROR", timeout=15_000)
        await expect(h.app.locator("#logs .line")).to_have_count(5)
        assert await _lines(h) == ["done", "red", "100%", "tab\there", "rl\\u202eo"]
        await expect(h.app.locator("#stage-message")).to_contain_text("3")
        await expect(h.app.locator("#cancel")).to_be_hidden()
        await expect(h.app.locator("#metrics")).to_be_hidden()
        await expect(h.app.locator("#cost-now")).to_contain_text("in all")
        await h.screenshot("dashboard-error")
        await _quiet_for(h, 3)
        # One read of its log; its price came with the job.
        assert [c["name"] for c in await _app_calls(h)] == ["fetch_logs"]
        await h.assert_clean()


async def test_wait_for_job_shows_the_job_while_the_agent_waits(tmp_path: Path, chromium: str, shots: Path) -> None:
    async with hosted(tmp_path, chromium, shots) as h:
        started = await h.client.call_tool(
            "run_job", {**LONG_JOB, "command": ["python", "-c", BUSY.replace("120", "8")]}
        )
        job = (started.structured_content or {})["job"]
        ref = f"{job['namespace']}/{job['id']}"
        await h.start("wait_for_job", {"job_id": ref, "timeout_seconds": 60})
        # The model's call is still waiting, and the page already follows the job.
        await expect(h.app.locator("#badge")).to_have_text(re.compile("SCHEDULING|RUNNING"), timeout=15_000)
        assert await h.page.evaluate("() => host.toolResult === null")
        await expect(h.app.locator("#logs .line").first).to_be_visible(timeout=20_000)
        await expect(h.app.locator("#badge")).to_have_text("COMPLETED", timeout=30_000)
        with anyio.fail_after(30):
            while await h.page.evaluate("() => host.toolResult === null"):
                await anyio.sleep(0.3)
        result = await h.page.evaluate("() => host.toolResult.structuredContent")
        assert result["job"]["stage"] == "COMPLETED"
        lines = await _lines(h)
        assert lines == [f"tick {i} loss={1 / (i + 1):.4f}" for i in range(len(lines))]
        assert len(lines) >= 10
        await _quiet_for(h, 3)
        await h.assert_clean()


async def test_polling_stops_while_the_page_cannot_be_seen(tmp_path: Path, chromium: str, shots: Path) -> None:
    async with hosted(tmp_path, chromium, shots) as h:
        await h.start("run_job", LONG_JOB)
        await expect(h.app.locator("#badge")).to_have_text("RUNNING", timeout=20_000)
        await expect(h.app.locator("#logs .line").first).to_be_visible(timeout=20_000)
        # Scrolled out of view (a long conversation): after the call in flight, nothing.
        await h.page.evaluate("() => host.scrollAway()")
        await anyio.sleep(12)  # the longest fetch_logs wait, plus the call that was in flight
        await _no_calls_for(h, 4)
        # Back in view: it catches up, in order, without repeating a line.
        before = len(await _lines(h))
        await h.page.evaluate("() => host.scrollBack()")
        with anyio.fail_after(20):
            while len(await _lines(h)) <= before:
                await anyio.sleep(0.3)
        lines = await _lines(h)
        assert lines == [f"tick {i} loss={1 / (i + 1):.4f}" for i in range(len(lines))]
        # The document hidden (another tab, a minimised window): nothing either.
        frame = next(f for f in h.page.frames if f.url == "about:srcdoc")
        await frame.evaluate(
            "() => { Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
            " document.dispatchEvent(new Event('visibilitychange')); }"
        )
        await anyio.sleep(12)
        await _no_calls_for(h, 4)
        await frame.evaluate(
            "() => { Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});"
            " document.dispatchEvent(new Event('visibilitychange')); }"
        )
        before = len(await _app_calls(h))
        with anyio.fail_after(15):
            while len(await _app_calls(h)) <= before:
                await anyio.sleep(0.3)
        _assert_spaced(await _app_calls(h))
        await h.app.locator("#cancel").click()
        await expect(h.app.locator("#badge")).to_have_text("CANCELED", timeout=20_000)
        await h.assert_clean()


async def test_no_secret_value_reaches_the_page(tmp_path: Path, chromium: str, shots: Path) -> None:
    """A job that prints its secret: the page shows it masked, and no value ever crosses the bridge."""
    value = "fake-dashboard-secret-0123456789abcdef"
    leak = "import os; print('key=' + os.environ['MY_KEY'])"
    args = {"image": "python:3.12", "command": ["python", "-c", leak], "secrets": ["MY_KEY"]}
    server_args = ("--secrets-policy", "allowlist", "--allow-secret", "MY_KEY")
    async with hosted(tmp_path, chromium, shots, env={"MY_KEY": value}, server_args=server_args) as h:
        await h.start("run_job", args)
        await expect(h.app.locator("#badge")).to_have_text("COMPLETED", timeout=30_000)
        await expect(h.app.locator("#logs .line").first).to_have_text("key=***")
        await expect(h.app.locator("#job-facts")).to_contain_text("MY_KEY")
        bridge = json.dumps((await h.state())["log"])
        page_text = await h.app.locator("body").inner_text()
        token = h.backend.token_secret()
        assert token is not None
        for secret in (value, token.get_secret_value()):
            assert secret
            assert secret not in bridge
            assert secret not in page_text
            assert secret not in json.dumps(h.relay.seen)
        await h.assert_clean()
