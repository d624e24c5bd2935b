"""The Xet storage endpoint over raw HTTP: tokens, scopes, signatures, bad objects, ranges.

Xorbs and shards are built by hand here (uncompressed chunks), so the expected bytes are known exactly;
the backend then rebuilds the file with the real hf_xet client when a batch adds it to a bucket.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from hfjobs_mcp.local import LocalBackend, LocalConfig
from hfjobs_mcp.local.buckets.xetfmt import SHARD_TAG, XetFormatError, chunk_offsets, parse_shard
from tests.backends import serve_backend

from .util import TOKEN

pytestmark = pytest.mark.timeout(60)

BOB = "hf_local_bob_token_0123456789"
XORB = "11" * 32
FILE = "22" * 32
CHUNKS = [b"first chunk data|", b"second-chunk", b"third"]


def raw_hash(hex_hash: str) -> bytes:
    return b"".join(struct.pack("<Q", int(hex_hash[i : i + 16], 16)) for i in range(0, 64, 16))


def xorb(chunks: list[bytes]) -> bytes:
    out = b""
    for c in chunks:  # version 0, compressed length, scheme 0 (none), uncompressed length
        out += bytes([0]) + len(c).to_bytes(3, "little") + bytes([0]) + len(c).to_bytes(3, "little") + c
    return out + b"XETBLOB" + b"\0" * 16


def shard(file_hash: str, terms: list[tuple[str, int, int, int]], xorbs: list[tuple[str, int]]) -> bytes:
    out = SHARD_TAG + struct.pack("<QQ", 2, 0)
    out += raw_hash(file_hash) + struct.pack("<IIQ", 0, len(terms), 0)
    for h, length, start, end in terms:
        out += raw_hash(h) + struct.pack("<IIII", 0, length, start, end)
    out += b"\xff" * 32 + b"\0" * 16
    for h, n in xorbs:
        out += raw_hash(h) + struct.pack("<IIII", 0, n, 0, 0)
        out += (b"\x33" * 32 + b"\0" * 16) * n
    return out + b"\xff" * 32 + b"\0" * 16


@pytest.fixture
def backend(fast_config: LocalConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalBackend]:
    monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / "xet-cache"))
    with serve_backend(dataclasses.replace(fast_config, extra_users={BOB: ("bob", ())})) as b:
        yield b


@pytest.fixture
def hub(backend: LocalBackend) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=backend.url, headers={"authorization": f"Bearer {TOKEN}"}, timeout=60) as c:
        assert c.post("/api/buckets/alice/store", json={"visibility": "private"}).status_code == 200
        assert c.post("/api/buckets/alice/other", json={"visibility": "private"}).status_code == 200
        yield c


def token(hub: httpx2.Client, kind: str, bucket: str = "alice/store") -> tuple[str, str]:
    r = hub.get(f"/api/buckets/{bucket}/xet-{kind}-token")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accessToken"] == r.headers["x-xet-access-token"]
    assert body["casUrl"] == r.headers["x-xet-cas-url"]
    assert str(body["exp"]) == r.headers["x-xet-token-expiration"]
    return body["casUrl"], body["accessToken"]


def cas(url: str, tok: str | None) -> httpx2.Client:
    headers = {"authorization": f"Bearer {tok}"} if tok else {}
    return httpx2.Client(base_url=url, headers=headers, timeout=30)


def upload(url: str, tok: str) -> None:
    with cas(url, tok) as c:
        assert c.post(f"/v1/xorbs/default/{XORB}", content=xorb(CHUNKS)).json() == {"was_inserted": True}
        assert c.post(f"/v1/xorbs/default/{XORB}", content=xorb(CHUNKS)).json() == {"was_inserted": False}
        total = sum(map(len, CHUNKS))
        r = c.post("/v1/shards", content=shard(FILE, [(XORB, total, 0, 3)], [(XORB, 3)]))
        assert r.status_code == 200, r.text


@pytest.mark.slow
def test_tokens_are_needed_and_read_tokens_cannot_write(hub: httpx2.Client) -> None:
    url, read = token(hub, "read")
    with cas(url, None) as c:
        assert c.post(f"/v1/xorbs/default/{XORB}", content=xorb(CHUNKS)).status_code == 401
    with cas(url, "xet_local_forged") as c:
        assert c.post(f"/v1/xorbs/default/{XORB}", content=xorb(CHUNKS)).status_code == 401
    with cas(url, read) as c:
        assert c.post(f"/v1/xorbs/default/{XORB}", content=xorb(CHUNKS)).status_code == 403
        assert c.post("/v1/shards", content=b"x").status_code == 403


@pytest.mark.slow
def test_bad_objects_are_refused(hub: httpx2.Client) -> None:
    url, write = token(hub, "write")
    with cas(url, write) as c:
        assert c.post(f"/v1/xorbs/default/{XORB}", content=b"\x07garbage").status_code == 400
        assert c.post("/v1/xorbs/default/not-a-hash", content=xorb(CHUNKS)).status_code == 400
        assert c.post("/v1/shards", content=b"not a shard").status_code == 400
        missing = shard(FILE, [("44" * 32, 5, 0, 1)], [])
        r = c.post("/v1/shards", content=missing)
        assert r.status_code == 400
        assert "was not uploaded" in r.json()["error"]
        # Newer API versions and upload grants are not offered: the client falls back to the routes above.
        assert c.post("/v2/shards", content=b"x").status_code == 404
        assert c.post(f"/v1/xorb-grants/default/{XORB}", json={}).status_code == 404
    with cas(url.rsplit("/", 1)[0] + "/0000000000000000", write) as c:  # another store's id
        assert c.post(f"/v1/xorbs/default/{XORB}", content=xorb(CHUNKS)).status_code == 404


@pytest.mark.slow
def test_a_batch_rebuilds_the_file_with_the_real_client_and_ranges_are_served(
    hub: httpx2.Client, backend: LocalBackend
) -> None:
    url, write = token(hub, "write")
    upload(url, write)
    _, read = token(hub, "read")
    with cas(url, read) as c:
        assert c.get(f"/v1/reconstructions/{FILE}").status_code == 404  # not a file of this token's bucket yet
    ops = json.dumps({"type": "addFile", "path": "x/f.bin", "xetHash": FILE, "mtime": 1_700_000_000_000})
    r = hub.post("/api/buckets/alice/store/batch", content=ops.encode() + b"\n")
    assert r.status_code == 200, r.text
    assert r.json()["failed"] == []
    placed = Path(backend.state_dir) / "buckets" / "alice" / "store" / "x" / "f.bin"
    assert placed.read_bytes() == b"".join(CHUNKS)  # rebuilt by hf_xet from the hand-made xorb
    assert placed.stat().st_mtime == 1_700_000_000
    with cas(url, read) as c:
        full = c.get(f"/v1/reconstructions/{FILE}").json()
        assert full["offset_into_first_range"] == 0
        assert full["terms"] == [{"hash": XORB, "unpacked_length": 34, "range": {"start": 0, "end": 3}}]
        (fetch,) = full["fetch_info"][XORB]
        assert fetch["url_range"] == {"start": 0, "end": len(xorb(CHUNKS)) - 7 - 16 - 1}
        part = c.get(f"/v1/reconstructions/{FILE}", headers={"range": "bytes=20-25"}).json()
        assert part["offset_into_first_range"] == 20
        assert c.get(f"/v1/reconstructions/{FILE}", headers={"range": "bytes=34-40"}).status_code == 416
        url_fetch: str = fetch["url"]
        got = httpx2.get(url_fetch, headers={"range": "bytes=8-24"})  # presigned: no token needed
        assert got.status_code == 206
        assert got.content == CHUNKS[0]
        forged = url_fetch.replace("sig=", "sig=0")
        assert httpx2.get(forged, headers={"range": "bytes=8-24"}).status_code == 403
    _, other = token(hub, "read", "alice/other")
    with cas(url, other) as c:
        assert c.get(f"/v1/reconstructions/{FILE}").status_code == 404  # another bucket's token


@pytest.mark.slow
def test_a_batch_naming_an_unknown_hash_fails_that_operation(hub: httpx2.Client) -> None:
    ops = [
        {"type": "addFile", "path": "a.txt", "xetHash": "55" * 32, "mtime": 1},
        {"type": "addFile", "path": "../escape", "xetHash": FILE, "mtime": 1},
        {"type": "deleteFile", "path": "nope.txt"},
    ]
    r = hub.post("/api/buckets/alice/store/batch", content="\n".join(json.dumps(o) for o in ops).encode())
    assert r.status_code == 422
    failed: list[dict[str, Any]] = r.json()["failed"]
    assert [f["path"] for f in failed] == ["a.txt", "../escape", "nope.txt"]
    assert "upload the file's data first" in failed[0]["error"]
    assert "'..'" in failed[1]["error"]


def test_formats_are_checked_strictly() -> None:
    with pytest.raises(XetFormatError):
        chunk_offsets(b"")
    with pytest.raises(XetFormatError, match="truncated"):
        chunk_offsets(xorb(CHUNKS)[:20])
    assert chunk_offsets(xorb(CHUNKS)) == [0, 25, 45, 58]
    parsed = parse_shard(shard(FILE, [(XORB, 34, 0, 3)], [(XORB, 3)]))
    assert [(f.hash, f.size) for f in parsed.files] == [(FILE, 34)]
    assert [(x.hash, x.chunks) for x in parsed.xorbs] == [(XORB, 3)]
    with pytest.raises(XetFormatError, match="truncated"):
        parse_shard(shard(FILE, [(XORB, 34, 0, 3)], [(XORB, 3)])[:100])
