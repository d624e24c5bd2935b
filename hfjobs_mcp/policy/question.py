"""The question the user is asked: every reason and every fact of the request, faithful to what is sent.

Everything in it that the agent wrote (commands, names, labels, script lines) goes through :func:`shown`, which
escapes control characters (newlines, carriage returns, tabs, ANSI escapes, bidirectional overrides, zero-width
characters) and cuts long values with a visible count, so nothing the agent writes can pose as a line of the
question or push a reason out of view.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hfjobs_mcp.policy.request import Request
    from hfjobs_mcp.policy.review import Review

MAX_FIELD_CHARS = 300
MAX_LISTED_UPLOADS = 20

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """``text`` on one line with every control or invisible character escaped, cut to ``limit`` characters."""
    out: list[str] = []
    for ch in text:
        if ch in _NAMED:
            out.append(_NAMED[ch])
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    escaped = "".join(out)
    if len(escaped) > limit:
        return f"{escaped[:limit]}… (+{len(escaped) - limit} more characters)"
    return escaped


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.2f}"


def lines(request: Request, review: Review) -> list[str]:
    """The question, line by line: the reasons first, then every fact of the request."""
    out = [f"An agent asks to {shown(request.action)} ({request.tool}). Approve?"]
    out += [f"- needs your yes: {shown(r, 600)}" for r in review.reasons]
    out.append(f"- namespace billed: {shown(request.namespace)}")
    if request.runs:
        out.append(f"- runs: {shown(request.runs, 600)}")
    price = request.price
    if price is not None:
        per_hour = "unknown price" if price.price_per_hour is None else f"${price.price_per_hour:.2f}/h"
        attempts = f" x {price.attempts} attempts" if price.attempts > 1 else ""
        out.append(
            f"- hardware: {shown(price.flavor)}, {per_hour}, timeout {price.timeout_seconds}s{attempts}: "
            f"at most {_money(price.ceiling_usd)} per run"
        )
    if request.schedule is not None:
        out.append(f"- RECURS on schedule {shown(request.schedule)!r}: at most {_money(request.daily_ceiling_usd)}/day")
    if request.unbounded:
        out.append("- RECURS on every watched event, with no limit on the number of runs")
    # The budget is in the reasons when it matters, in whole dollars: the question is asked again if its text
    # changes between the rounds of one call, and the committed spend moves by cents as jobs run and finish. The
    # exact figures are in the structured plan (as_dict).
    if request.secrets:
        how = "stored secrets sent again" if request.stored_secrets else "secrets forwarded"
        out.append(f"- {how} (names only): {', '.join(shown(n) for n in request.secrets)}")
    if request.ports:
        out.append(
            f"- exposes ports over HTTPS: {', '.join(str(p) for p in request.ports)} (the hardware list gives no fee)"
        )
    for v in request.volumes:
        rev = f"@{shown(v.revision)}" if v.revision else ""
        out.append(f"- mounts {v.type} {shown(v.source)}{rev} at {shown(v.mount_path)} ({v.mode})")
    out += _upload_lines(request)
    script = request.script
    if script is not None:
        size = "" if script.size is None else f", {script.size} bytes, sha256 {script.sha256}"
        out.append(f"- script: {shown(script.origin)}{size}")
        out += [f"    | {shown(line, 200)}" for line in script.head]
        if script.settings:
            out.append(f"    set by its [tool.hf-jobs] table: {shown(', '.join(script.settings), 600)}")
    return out


def _upload_lines(request: Request) -> list[str]:
    """The uploads: a summary line, then each file (where the job sees it, size, sha256, origin), the first
    :data:`MAX_LISTED_UPLOADS` of them (the structured plan and the dry run list them all)."""
    files = request.uploads
    if not files:
        return []
    total = sum(f.size for f in files)
    bucket = shown(request.upload_bucket or "?")
    out = [f"- uploads {len(files)} file(s), {total} bytes, to bucket {bucket} (private) for the job to read:"]
    out += [
        f"    {shown(f.path)}: {f.size} bytes, sha256 {f.sha256}, {shown(f.origin)}" for f in files[:MAX_LISTED_UPLOADS]
    ]
    rest = files[MAX_LISTED_UPLOADS:]
    if rest:
        out.append(f"    … and {len(rest)} more file(s), {sum(f.size for f in rest)} bytes (a dry run lists them all)")
    return out


def render(request: Request, review: Review) -> str:
    """The question as one text (deterministic, so a retried elicitation round renders the same question)."""
    return "\n".join(lines(request, review))


def as_dict(request: Request, review: Review) -> dict[str, Any]:
    """The same facts as structure, for dry runs, approval cards and confirmation results."""
    price = request.price
    budget = review.budget
    return {
        "tool": request.tool,
        "action": request.action,
        "reasons": list(review.reasons),
        "namespace": request.namespace,
        "runs": request.runs,
        "flavor": price.flavor if price else None,
        "price_per_hour_usd": price.price_per_hour if price else None,
        "timeout_seconds": price.timeout_seconds if price else None,
        "attempts": price.attempts if price else None,
        "price_ceiling_usd": price.ceiling_usd if price else None,
        "schedule": request.schedule,
        "daily_ceiling_usd": request.daily_ceiling_usd,
        "unbounded": request.unbounded,
        "budget": None
        if budget is None
        else {
            "limit_usd": budget.limit_usd,
            "committed_usd": budget.committed_usd,
            "adds_usd": budget.adds_usd,
            "after_usd": budget.after_usd,
        },
        "secrets": list(request.secrets),
        "stored_secrets": request.stored_secrets,
        "ports": list(request.ports),
        "volumes": [
            {"type": v.type, "source": v.source, "mount_path": v.mount_path, "mode": v.mode, "revision": v.revision}
            for v in request.volumes
        ],
        "uploads": None
        if not request.uploads
        else {
            "bucket": request.upload_bucket,
            "files": [
                {"path": f.path, "size": f.size, "sha256": f.sha256, "origin": f.origin} for f in request.uploads
            ],
        },
        "script": None
        if request.script is None
        else {
            "origin": request.script.origin,
            "size": request.script.size,
            "sha256": request.script.sha256,
            "head": list(request.script.head),
            "settings": list(request.script.settings),
        },
    }
