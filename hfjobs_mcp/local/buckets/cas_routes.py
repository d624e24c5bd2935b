"""The Xet storage endpoint's HTTP routes (``/xet/<store id>/...``), the part of the CAS API ``hf_xet`` uses.

Requests carry a storage token (``Authorization: Bearer``) from a bucket's ``xet-*-token`` route; uploads
need a write token. Fetch URLs carry their own signature and expiry, as presigned URLs do. Every other
path under the endpoint (newer API versions, upload grants, global deduplication) answers 404, which
makes the client use the routes below. Errors are JSON ``{"error": ...}``; the client only reads statuses.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, cast

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .cas import FETCH_URL_SECONDS, Grant, reconstruction_json
from .routes import base_url
from .service import Buckets
from .xetfmt import MAX_XORB_BYTES, XetFormatError, is_hash

if TYPE_CHECKING:
    from hfjobs_mcp.local.core import LocalCore

MAX_SHARD_BYTES = 64 * 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _buckets(request: Request) -> Buckets:
    buckets = cast("LocalCore", request.app.state.core).buckets
    if request.path_params["store"] != buckets.cas.store_id:
        raise HTTPException(404, "Unknown Xet storage (this backend's store has another id)")
    return buckets


def _grant(request: Request, buckets: Buckets, *, write: bool) -> Grant:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    grant = buckets.cas.grant(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        raise HTTPException(401, "Invalid or expired Xet token: ask the bucket's xet token route for a new one")
    if write and not grant.write:
        raise HTTPException(403, "This Xet token is read-only")
    return grant


async def _body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise HTTPException(413, f"Body larger than {limit} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise HTTPException(413, f"Body larger than {limit} bytes")
    return bytes(data)


async def post_xorb(request: Request) -> Response:
    buckets = _buckets(request)
    _grant(request, buckets, write=True)
    xorb = str(request.path_params["hash"])
    data = await _body(request, MAX_XORB_BYTES)
    try:
        inserted = await asyncio.to_thread(buckets.cas.put_xorb, xorb, data)
    except XetFormatError as exc:
        raise HTTPException(400, f"Invalid xorb: {exc}") from None
    return JSONResponse({"was_inserted": inserted})


async def post_shard(request: Request) -> Response:
    buckets = _buckets(request)
    _grant(request, buckets, write=True)
    data = await _body(request, MAX_SHARD_BYTES)
    try:
        await asyncio.to_thread(buckets.cas.put_shard, data)
    except XetFormatError as exc:
        raise HTTPException(400, f"Invalid shard: {exc}") from None
    return JSONResponse({"result": 1})  # SyncPerformed


async def get_reconstruction(request: Request) -> Response:
    buckets = _buckets(request)
    grant = _grant(request, buckets, write=False)
    file_hash = str(request.path_params["hash"])
    if not is_hash(file_hash):
        raise HTTPException(400, f"{file_hash!r} is not a file hash")
    if grant.bucket != "*" and not buckets.holds(grant.bucket, file_hash):
        raise HTTPException(404, "No such file in this token's bucket")
    if not await buckets.ensure_stored(file_hash, grant.bucket):
        raise HTTPException(404, "No such file in the storage")
    first = last = None
    if (raw := request.headers.get("range")) is not None:
        m = _RANGE.match(raw.strip())
        if m is None or not m.group(1):
            raise HTTPException(416, f"Unsupported Range {raw!r}")
        first, last = int(m.group(1)), int(m.group(2)) if m.group(2) else None
    try:
        rec = buckets.cas.reconstruction(file_hash, first, last)
    except KeyError:
        raise HTTPException(404, "No such file in the storage") from None
    if rec is None:
        raise HTTPException(416, "Range not satisfiable")
    expires = int(time.time()) + FETCH_URL_SECONDS
    store = f"{base_url(request)}/xet/{buckets.cas.store_id}"

    def url_for(xorb: str) -> str:
        return f"{store}/fetch/{xorb}?exp={expires}&sig={buckets.cas.sign(xorb, expires)}"

    return JSONResponse(reconstruction_json(rec, url_for))


async def fetch(request: Request) -> Response:
    buckets = _buckets(request)
    xorb = str(request.path_params["xorb"])
    exp, sig = request.query_params.get("exp", ""), request.query_params.get("sig", "")
    if not (is_hash(xorb) and exp.isdigit() and buckets.cas.verify(xorb, int(exp), sig)):
        raise HTTPException(403, "Invalid or expired fetch URL")
    size = buckets.cas.xorb_size(xorb)
    if size is None:
        raise HTTPException(404, "No such xorb")
    start, end = 0, size - 1
    if (raw := request.headers.get("range")) is not None:
        m = _RANGE.match(raw.strip())
        if m is None or not m.group(1):
            raise HTTPException(416, f"Unsupported Range {raw!r}")
        start = int(m.group(1))
        end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        if start > end:
            raise HTTPException(416, "Range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
    data = await asyncio.to_thread(_read_range, buckets.cas.xorb_path(xorb), start, end - start + 1)
    headers = {"Content-Range": f"bytes {start}-{end}/{size}", "Accept-Ranges": "bytes"}
    status = 206 if raw is not None else 200
    return Response(data, status_code=status, headers=headers, media_type="application/octet-stream")


def _read_range(path: object, start: int, length: int) -> bytes:
    with open(cast("str", path), "rb") as f:
        f.seek(start)
        return f.read(length)


_X = "/xet/{store}"

ROUTES = [
    Route(f"{_X}/v1/xorbs/{{prefix}}/{{hash}}", post_xorb, methods=["POST"]),
    Route(f"{_X}/v1/shards", post_shard, methods=["POST"]),
    Route(f"{_X}/v1/reconstructions/{{hash}}", get_reconstruction, methods=["GET"]),
    Route(f"{_X}/fetch/{{xorb}}", fetch, methods=["GET"]),
]
