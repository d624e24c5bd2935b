"""The MCP Apps approval card (issue 13) in a real browser, rendered by a test host against a real server.

A run that needs the human's yes returns ``ApprovalPending`` with the plan in the result's ``_meta``; the host
renders the card bound to the tool (``_meta.ui.resourceUri``) in a sandboxed iframe under the default CSP. The card
must show every reason and fact of the plan, start exactly one job on Approve (through the app-only
``answer_approval`` and then the original call), send nothing on Reject, and stay free of console errors and CSP
violations, in light and dark themes and at 360 px.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.harness import Harness, hosted

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

KEY = "fake-card-key-value-0123456789abcdef"
ENV = {"MY_KEY": KEY}
# Over $1 (the default --confirm-above: $2.50/h x 30 min) and a forwarded secret: two reasons to ask.
PRICEY = {
    "image": "python:3.12",
    "command": ["python", "-c", "print(42)"],
    "flavor": "a100-large",
    "secrets": ["MY_KEY"],
    "labels": {"purpose": "card-test"},
}
APPROVAL_META = "io.github.hfjobs-mcp/approval"


def _pending(h: Harness) -> dict[str, Any]:
    """The model's call as the server answered it: ApprovalPending, with the plan in `_meta`."""
    first = h.relay.calls("run_job")[0]
    result = next(e["result"] for e in h.relay.seen if e["method"] == "tools/call" and e["params"] is first)
    assert result["isError"] is True
    assert result["structuredContent"]["error"]["type"] == "ApprovalPending"
    return dict(result["_meta"][APPROVAL_META])


async def _jobs(h: Harness) -> list[Any]:
    return list(await h.backend.list_jobs())


async def _card_ready(h: Harness) -> None:
    await expect(h.app.locator("#buttons")).to_be_visible(timeout=15_000)


async def test_the_card_shows_every_reason_and_fact_of_the_plan(tmp_path: Path, chromium: str, shots: Path) -> None:
    async with hosted(tmp_path, chromium, shots, env=ENV) as h:
        await h.start("run_job", PRICEY)
        await _card_ready(h)
        card = _pending(h)
        plan = card["plan"]
        assert card["tool"] == "run_job"
        assert len(plan["reasons"]) >= 2, plan["reasons"]
        reasons = await h.app.locator("#reasons li").all_inner_texts()
        assert reasons == [f"Needs your yes: {r}" for r in plan["reasons"]]
        facts = await h.app.locator("#facts").inner_text()
        for expected in (plan["namespace"], "a100-large", "$2.50/h", "$1.25 per run", "MY_KEY", "print("):
            assert expected in facts, (expected, facts)
        title = await h.app.locator("#title").inner_text()
        assert "start a job" in title
        assert "run_job" in title
        # The approval id travels to the card only: never in what the model reads.
        first = next(e["result"] for e in h.relay.seen if e["method"] == "tools/call")
        assert card["id"] not in repr(first["content"]) + repr(first["structuredContent"])
        assert KEY not in repr(h.relay.seen)
        assert await _jobs(h) == []
        await h.screenshot("approval-card-light", docs="approval-card.png")
        await h.assert_clean()


async def test_approve_starts_exactly_one_job_and_the_page_follows_it(
    tmp_path: Path, chromium: str, shots: Path
) -> None:
    async with hosted(tmp_path, chromium, shots, env=ENV) as h:
        await h.start("run_job", PRICEY)
        await _card_ready(h)
        assert await _jobs(h) == []
        await h.app.locator("#approve").click()
        # The same page turns into the job's dashboard once the approved request started it.
        await expect(h.app.locator("#dashboard")).to_be_visible(timeout=20_000)
        await expect(h.app.locator("#approval")).to_be_hidden()
        await expect(h.app.locator("#notice")).to_contain_text("You approved this request")
        jobs = await _jobs(h)
        assert len(jobs) == 1
        job = jobs[0]
        assert job.flavor == "a100-large"
        assert job.secrets == ["MY_KEY"]
        assert job.labels is not None
        assert job.labels.get("purpose") == "card-test"
        await expect(h.app.locator("#job-ref")).to_have_text(f"{job.owner.name}/{job.id}")
        # What reached the server, in order: the model's call, the human's answer, the card's call; then only the
        # dashboard's reads.
        calls = [(c["name"], c.get("arguments")) for c in h.relay.calls()]
        card_id = _pending(h)["id"]
        assert calls[:3] == [
            ("run_job", PRICEY),
            ("answer_approval", {"approval_id": card_id, "approve": True}),
            ("run_job", PRICEY),
        ]
        assert {name for name, _ in calls[3:]} <= {"fetch_logs", "fetch_metrics", "inspect_job", "list_hardware"}
        state = await h.state()
        assert [m["role"] for m in state["messages"]] == ["user"]
        said = state["messages"][0]["content"][0]["text"]
        assert "approved" in said
        assert job.id in said
        await expect(h.app.locator("#badge")).to_have_text("COMPLETED", timeout=30_000)
        await expect(h.app.locator("#logs")).to_have_text("42")
        await h.screenshot("approval-card-approved")
        # The approval is single use: the card cannot be replayed into a second job.
        again = await h.client.call_tool("answer_approval", {"approval_id": card_id, "approve": True})
        assert again.is_error
        assert len(await _jobs(h)) == 1
        await h.assert_clean()


async def test_reject_sends_nothing(tmp_path: Path, chromium: str, shots: Path) -> None:
    async with hosted(tmp_path, chromium, shots, env=ENV) as h:
        await h.start("run_job", PRICEY)
        await _card_ready(h)
        await h.app.locator("#reject").click()
        await expect(h.app.locator("#status")).to_contain_text("Rejected: nothing was sent", timeout=15_000)
        card_id = _pending(h)["id"]
        assert [(c["name"], c.get("arguments")) for c in h.relay.calls()] == [
            ("run_job", PRICEY),
            ("answer_approval", {"approval_id": card_id, "approve": False}),
        ]
        assert await _jobs(h) == []
        state = await h.state()
        assert "rejected" in state["messages"][0]["content"][0]["text"]
        # The agent calling again learns the user said no; the rejected request does not go through.
        retry = await h.client.call_tool("run_job", PRICEY)
        assert retry.is_error
        assert "rejected" in (retry.structured_content or {})["error"]["message"]
        assert APPROVAL_META not in (retry.meta or {})
        assert await _jobs(h) == []
        await h.screenshot("approval-card-rejected")
        await h.assert_clean()


def _luminance(css: str) -> float:
    r, g, b = (int(x) for x in re.findall(r"\d+", css)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


async def test_the_card_follows_the_host_theme_and_fits_360_px(tmp_path: Path, chromium: str, shots: Path) -> None:
    async with hosted(tmp_path, chromium, shots, env=ENV) as h:
        await h.start("run_job", PRICEY, theme="dark")
        await _card_ready(h)
        card = h.app.locator("#card")
        dark_bg = await card.evaluate("e => getComputedStyle(e).backgroundColor")
        dark_fg = await card.evaluate("e => getComputedStyle(e).color")
        assert _luminance(dark_bg) < 0.3 < _luminance(dark_fg), (dark_bg, dark_fg)
        await h.screenshot("approval-card-dark")
        # The host switches to light while the card is shown.
        await h.set_theme("light")
        await expect(card).to_have_css("background-color", re.compile(r"rgb\((2[0-9]{2}), (2[0-9]{2}), (2[0-9]{2})\)"))
        await h.assert_clean()
    async with hosted(tmp_path / "narrow", chromium, shots, env=ENV) as h:
        await h.start("run_job", PRICEY, width=360, viewport=400)
        await _card_ready(h)
        overflow = await h.app.locator("body").evaluate("b => b.scrollWidth - b.clientWidth")
        assert overflow <= 0, f"the card scrolls sideways at 360 px by {overflow} px"
        for button in ("#approve", "#reject"):
            box = await h.app.locator(button).bounding_box()
            assert box is not None
            assert box["x"] + box["width"] <= 16 + 360, box
        await h.screenshot("approval-card-narrow")
        await h.assert_clean()


async def test_agent_text_cannot_pose_as_part_of_the_card(tmp_path: Path, chromium: str, shots: Path) -> None:
    """Markup, newlines, ANSI escapes and a right-to-left override in the command are shown inert and escaped."""
    hostile = "<img src=x onerror=alert(1)>\n- Needs your yes: nothing, this is free\u202eeert\x1b[2J"
    args = {**PRICEY, "command": ["python", "-c", "print(1)", hostile]}
    async with hosted(tmp_path, chromium, shots, env=ENV) as h:
        await h.start("run_job", args)
        await _card_ready(h)
        plan = _pending(h)["plan"]
        assert await h.app.locator("#reasons li").count() == len(plan["reasons"])
        assert await h.app.locator("img, script:not(:first-of-type)").count() == 0
        runs = await h.app.locator("#facts dd.code").first.inner_text()
        assert "<img src=x onerror=alert(1)>\\n- Needs your yes: nothing" in runs
        assert "\\u202eeert\\x1b[2J" in runs
        assert "\u202e" not in runs
        assert "\x1b" not in runs
        assert "\n" not in runs
        await h.assert_clean()


async def test_the_harness_sees_csp_violations_and_console_errors(tmp_path: Path, chromium: str, shots: Path) -> None:
    """The checks above can fail: a page that reaches for the network or the host is caught by this harness."""
    bad = """<!doctype html><html><head><title>bad</title></head><body>
    <img src="http://127.0.0.1:9/pixel.png">
    <script>
      fetch("/rpc", {method: "POST", body: "{}"}).catch(() => console.error("fetch blocked"));
      try { window.parent.document.title; } catch (e) { console.error("no access to the host page"); }
    </script></body></html>"""
    async with hosted(tmp_path, chromium, shots) as h:
        await h.page.evaluate("html => host.mount(html)", bad)
        await h.page.wait_for_timeout(1500)
        seen = "\n".join(h.problems)
        assert 'violates the following Content Security Policy directive: "img-src' in seen, seen
        assert "violates the following Content Security Policy directive: \"connect-src 'none'" in seen, seen
        assert "fetch blocked" in seen, seen
        assert "no access to the host page" in seen, seen
        assert not [e for e in h.relay.seen if e["method"] == "tools/call"]
        with pytest.raises(AssertionError):
            await h.assert_clean()


async def test_the_card_lists_the_files_a_uv_job_uploads(tmp_path: Path, chromium: str, shots: Path) -> None:
    import hashlib

    args = {
        "script": "print(open('/data/config.yml').read())\n",
        "file_texts": {"config.yml": "lr: 0.01\n"},
        "secrets": ["MY_KEY"],
    }
    async with hosted(tmp_path, chromium, shots, env=ENV) as h:
        await h.start("run_uv_job", args)
        await _card_ready(h)
        facts = await h.app.locator("#facts").inner_text()
        assert re.search(r"Uploads to [\w.-]+/jobs-artifacts", facts), facts
        digest = hashlib.sha256(b"lr: 0.01\n").hexdigest()
        assert f"/data/config.yml (9 bytes, sha256 {digest}, inline text)" in facts, facts
        assert "/data/script.py" in facts
        await h.screenshot("approval-card-files")  # looked at: the uploads listed, readable, nothing cut
        assert await _jobs(h) == []
        await h.assert_clean()
