"""The bucket routes of the Hub API, as huggingface_hub 2.4 calls them (the Jobs OpenAPI does not cover them).

- ``POST /api/buckets/{ns}/{name}`` create (``{"visibility": "private"}``; 409 if it exists; ``me`` = you),
  ``GET`` info, ``DELETE``, ``PUT .../settings`` (``{"private": bool}``), ``GET /api/buckets/{ns}`` list.
- ``GET .../tree[/{prefix}]?recursive=``, ``POST .../paths-info`` (``{"paths": [...]}``): files with
  ``path, size, xetHash, mtime, uploadedAt`` (and folders when not recursive).
- ``POST .../batch``: NDJSON ``addFile``/``copyFile``/``deleteFile``; 200 ``{"failed": [...]}`` (422 if all failed).
- ``GET .../xet-write-token`` and ``.../xet-read-token``: a storage token, in the ``X-Xet-*`` headers
  (huggingface_hub reads those) and as JSON ``{"accessToken", "exp", "casUrl"}`` (hf_xet reads that).
- ``HEAD``/``GET /buckets/{ns}/{name}/resolve/{path}``: ``X-Xet-Hash``, the size, a ``Link`` to the read
  token (``rel="xet-auth"``); ``GET`` also sends the bytes, or one ``Range`` of them (206; 416 when unsatisfiable).

A missing bucket is 404 with ``X-Error-Code: RepoNotFound`` (huggingface_hub raises BucketNotFoundError);
writing needs the bucket's namespace (403 otherwise), reading a private bucket too.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, cast

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from hfjobs_mcp.local.auth import check_token, owner_type
from hfjobs_mcp.local.validation import RequestError, load_json

from . import paths
from .service import Buckets
from .store import BucketExistsError, BucketNameError, BucketRecord

if TYPE_CHECKING:
    from hfjobs_mcp.local.core import LocalCore


def _core(request: Request) -> LocalCore:
    return cast("LocalCore", request.app.state.core)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _not_found(bucket_id: str) -> HTTPException:
    return HTTPException(404, f"Bucket {bucket_id} not found", headers={"X-Error-Code": "RepoNotFound"})


def _no_entry(path: str, bucket_id: str) -> HTTPException:
    return HTTPException(404, f"{path} not found in bucket {bucket_id}", headers={"X-Error-Code": "EntryNotFound"})


def _namespace_of(request: Request, user: str) -> str:
    ns = str(request.path_params["namespace"])
    return user if ns == "me" else ns


def _may_use(core: LocalCore, user: str, namespace: str) -> bool:
    return namespace in (user, *core.cfg.orgs_of(user))


def _bucket(request: Request, *, write: bool) -> tuple[LocalCore, Buckets, BucketRecord, str]:
    """(core, buckets, the bucket, user) after the 401, 404 and 403 checks."""
    core = _core(request)
    user = check_token(request, core.cfg)
    namespace = _namespace_of(request, user)
    rec = core.buckets.store.get(f"{namespace}/{request.path_params['name']}")
    allowed = _may_use(core, user, namespace)
    if rec is None or (rec.private and not allowed):
        raise _not_found(f"{namespace}/{request.path_params['name']}")
    if write and not allowed:
        owner_type(namespace, core.cfg, user)  # raises the 403
    return core, core.buckets, rec, user


async def create_bucket(request: Request) -> Response:
    core = _core(request)
    user = check_token(request, core.cfg)
    namespace = _namespace_of(request, user)
    owner_type(namespace, core.cfg, user)
    body = await _json(request)
    visibility = body.get("visibility", "public")
    if visibility not in ("public", "private"):
        raise RequestError("visibility: must be 'public' or 'private'")
    name = str(request.path_params["name"])
    try:
        rec = core.buckets.store.create(namespace, name, private=visibility == "private", now=time.time())
    except BucketNameError as exc:
        raise RequestError(str(exc)) from None
    except BucketExistsError as exc:
        # huggingface_hub's create_bucket(exist_ok=True) reads the url from the 409 body too.
        url = f"{base_url(request)}/buckets/{namespace}/{name}"
        return JSONResponse({"error": str(exc), "url": url}, status_code=409)
    return JSONResponse({"url": f"{base_url(request)}/buckets/{rec.id}", "id": rec.id, "name": rec.name})


async def bucket_info(request: Request) -> Response:
    _, buckets, rec, _ = _bucket(request, write=False)
    return JSONResponse(buckets.info(rec))


async def list_buckets(request: Request) -> Response:
    core = _core(request)
    user = check_token(request, core.cfg)
    namespace = _namespace_of(request, user)
    allowed = _may_use(core, user, namespace)
    found = core.buckets.store.of_namespace(namespace, request.query_params.get("search"))
    return JSONResponse([core.buckets.info(b) for b in found if allowed or not b.private])


async def delete_bucket(request: Request) -> Response:
    _, buckets, rec, _ = _bucket(request, write=True)
    buckets.store.delete(rec.id)
    return JSONResponse({})


async def bucket_settings(request: Request) -> Response:
    _, buckets, rec, _ = _bucket(request, write=True)
    body = await _json(request)
    if not isinstance(body.get("private"), bool):
        raise RequestError("private: must be true or false")
    buckets.store.set_private(rec.id, body["private"])
    return JSONResponse({})


async def bucket_tree(request: Request) -> Response:
    _, buckets, rec, _ = _bucket(request, write=False)
    recursive = request.query_params.get("recursive", "false").lower() in ("true", "1")
    try:
        listing = await buckets.tree(rec, str(request.path_params.get("prefix", "")), recursive=recursive)
    except paths.BadPath as exc:
        raise RequestError(f"prefix: {exc}") from None
    return JSONResponse(listing)


async def paths_info(request: Request) -> Response:
    _, buckets, rec, _ = _bucket(request, write=False)
    body = await _json(request)
    wanted = body.get("paths")
    if not isinstance(wanted, list) or not all(isinstance(p, str) for p in wanted) or len(wanted) > 1000:
        raise RequestError("paths: must be a list of at most 1000 file paths")
    return JSONResponse(await buckets.paths_info(rec, wanted))


async def batch(request: Request) -> Response:
    core, buckets, rec, user = _bucket(request, write=True)
    try:
        ops = _ndjson(await request.body())
    except RequestError as exc:
        raise RequestError(f"the body must be NDJSON operations: {exc}") from None
    if not all(isinstance(op, dict) for op in ops):
        raise RequestError("each line must be a JSON object")

    def may_read(source: str) -> bool:
        src = core.buckets.store.get(source)
        return src is not None and (not src.private or _may_use(core, user, src.namespace))

    failures = await buckets.batch(rec, ops, may_read=may_read)
    body = {"success": not failures, "processed": len(ops), "failed": [f.__dict__ for f in failures]}
    status = 422 if failures and len(failures) == len(ops) else 200
    return JSONResponse(body, status_code=status)


def xet_token(*, write: bool) -> Any:
    async def handler(request: Request) -> Response:
        _, buckets, rec, _ = _bucket(request, write=write)
        token, expires = buckets.cas.mint(rec.id, write=write)
        cas_url = f"{base_url(request)}/xet/{buckets.cas.store_id}"
        headers = {"X-Xet-Cas-Url": cas_url, "X-Xet-Access-Token": token, "X-Xet-Token-Expiration": str(expires)}
        return JSONResponse({"accessToken": token, "exp": expires, "casUrl": cas_url}, headers=headers)

    return handler


async def resolve(request: Request) -> Response:
    _, buckets, rec, _ = _bucket(request, write=False)
    path = str(request.path_params["path"])
    try:
        (found,) = await buckets.paths_info(rec, [path])
    except ValueError:
        raise _no_entry(path, rec.id) from None
    headers = {
        "X-Xet-Hash": found["xetHash"],
        "X-Linked-Size": str(found["size"]),
        "ETag": f'"{found["xetHash"]}"',
        "Link": f'<{base_url(request)}/api/buckets/{rec.id}/xet-read-token>; rel="xet-auth"',
        "Content-Length": str(found["size"]),
    }
    headers["Accept-Ranges"] = "bytes"
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers)
    size = int(found["size"])
    status, start, end = 200, 0, size
    wanted = request.headers.get("range")
    if wanted is not None:
        span = byte_range(wanted, size)
        if span is None:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        status, (start, end) = 206, span
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        headers["Content-Length"] = str(end - start)
    try:
        with paths.open_file(buckets.store.folder(rec.id), paths.split(path)) as (fd, _):
            reader = os.fdopen(os.dup(fd), "rb")
    except OSError:
        raise _no_entry(path, rec.id) from None

    def chunks() -> Any:
        with reader:
            reader.seek(start)
            left = end - start
            while left > 0 and (block := reader.read(min(1 << 20, left))):
                left -= len(block)
                yield block

    return StreamingResponse(chunks(), status_code=status, headers=headers, media_type="application/octet-stream")


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """``(start, end)`` (end excluded) of a single-range ``Range: bytes=...`` header, or None if unsatisfiable.

    As the Hub's file servers do: ``a-b``, ``a-`` and ``-n`` (the last n bytes); an end past the file is cut to
    it; a start at or past the end, several ranges, or anything else is refused with 416.
    """
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or not all(p.isdigit() for p in (first, last) if p):
        return None
    if not first:
        start, end = max(0, size - int(last)), size
    else:
        start = int(first)
        end = min(size, int(last) + 1) if last else size
    return (start, end) if start < end else None


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = load_json(raw)  # the Jobs routes' limits: nesting, integers, no NaN, valid Unicode (a 400, never a 500)
    if not isinstance(data, dict):
        raise RequestError("The request body must be a JSON object")
    return data


def _ndjson(raw: bytes) -> list[Any]:
    return [load_json(line) for line in raw.splitlines() if line.strip()]


_B = "/api/buckets/{namespace}/{name}"

ROUTES = [
    Route("/api/buckets/{namespace}", list_buckets, methods=["GET"]),
    Route(_B, create_bucket, methods=["POST"]),
    Route(_B, bucket_info, methods=["GET"]),
    Route(_B, delete_bucket, methods=["DELETE"]),
    Route(f"{_B}/settings", bucket_settings, methods=["PUT"]),
    Route(f"{_B}/tree", bucket_tree, methods=["GET"]),
    Route(f"{_B}/tree/{{prefix:path}}", bucket_tree, methods=["GET"]),
    Route(f"{_B}/paths-info", paths_info, methods=["POST"]),
    Route(f"{_B}/batch", batch, methods=["POST"]),
    Route(f"{_B}/xet-write-token", xet_token(write=True), methods=["GET"]),
    Route(f"{_B}/xet-read-token", xet_token(write=False), methods=["GET"]),
    Route("/buckets/{namespace}/{name}/resolve/{path:path}", resolve, methods=["GET", "HEAD"]),
]
