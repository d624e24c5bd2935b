"""The two Xet binary formats the storage endpoint reads: shards (what files are made of) and xorbs (chunks).

Only reading is needed: clients (``hf_xet``) build both. A shard uploaded by a client lists, per file, its
hash and the xorb chunk ranges that reconstruct it (the file info section), then each new xorb's chunks
(the xorb info section); each section ends with a "bookend" entry whose hash is all ones. A xorb is a run
of chunks, each an 8-byte header (version, compressed length u24, compression scheme, uncompressed
length u24) and its compressed bytes, followed by a footer starting with ``XETBLOB``. The endpoint never
decompresses: it serves byte ranges of stored xorbs, and the client decompresses.

Hashes travel as hex in the Xet way: the 32 bytes are four little-endian u64 words, each printed as 16
hex digits. Reference: the Xet protocol specification (huggingface.co/docs/xet) and xet-core's
``metadata_shard`` and ``xorb_object`` modules.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

SHARD_TAG = b"HFRepoMetaData\x00" + bytes.fromhex("556967456a7b815783a5bdd95ccdd14aa9")
_HEADER = 48  # tag (32) + version (u64) + footer size (u64)
_ENTRY = 48  # every shard entry: a 32-byte hash and 16 bytes of fields
_BOOKEND = b"\xff" * 32
_WITH_VERIFICATION = 1 << 31
_WITH_METADATA_EXT = 1 << 30
XORB_FOOTER_IDENT = b"XETBLOB"
CHUNK_HEADER = 8
MAX_CHUNK_BYTES = 128 * 1024
MAX_XORB_BYTES = 64 * 1024 * 1024 + 1024 * 1024  # 64 MiB of chunks (at most), their headers and a footer
_HEX = re.compile(r"^[0-9a-f]{64}$")


class XetFormatError(ValueError):
    """Bytes that are not a valid shard or xorb; the message says what is wrong."""


def hash_hex(raw: bytes) -> str:
    """A 32-byte Xet hash as the protocol prints it."""
    return "".join(f"{w:016x}" for w in struct.unpack("<4Q", raw))


def is_hash(text: str) -> bool:
    return bool(_HEX.match(text))


@dataclass(frozen=True)
class Term:
    """A piece of a file: chunks ``[start, end)`` of xorb ``xorb``, ``length`` bytes once unpacked."""

    xorb: str
    start: int
    end: int
    length: int


@dataclass(frozen=True)
class ShardFile:
    """One file a shard describes: its Xet hash, its size and the terms that rebuild it, in order."""

    hash: str
    size: int
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class ShardXorb:
    """One xorb a shard declares: its hash, its chunk count and the unpacked size of its chunks."""

    hash: str
    chunks: int
    unpacked_bytes: int


@dataclass(frozen=True)
class Shard:
    files: tuple[ShardFile, ...]
    xorbs: tuple[ShardXorb, ...]


def parse_shard(data: bytes) -> Shard:
    """The files and xorbs of an uploaded shard (its footer and lookup tables, if any, are not needed)."""
    if len(data) < _HEADER or data[:32] != SHARD_TAG:
        raise XetFormatError("not a Xet shard (wrong magic number)")
    (version,) = struct.unpack_from("<Q", data, 32)
    if version != 2:
        raise XetFormatError(f"shard header version {version} is not supported (expected 2)")
    off = _HEADER
    files: list[ShardFile] = []
    while True:
        _need(data, off, _ENTRY)
        file_hash = data[off : off + 32]
        flags, count, _ = struct.unpack_from("<IIQ", data, off + 32)
        off += _ENTRY
        if file_hash == _BOOKEND:
            break
        _need(data, off, count * _ENTRY)
        terms = []
        for _ in range(count):
            xorb = hash_hex(data[off : off + 32])
            _, length, start, end = struct.unpack_from("<IIII", data, off + 32)
            if end <= start:
                raise XetFormatError(f"file {hash_hex(file_hash)}: empty chunk range {start}-{end}")
            terms.append(Term(xorb=xorb, start=start, end=end, length=length))
            off += _ENTRY
        if flags & _WITH_VERIFICATION:
            off += count * _ENTRY
        if flags & _WITH_METADATA_EXT:
            off += _ENTRY
        files.append(ShardFile(hash=hash_hex(file_hash), size=sum(t.length for t in terms), terms=tuple(terms)))
    xorbs: list[ShardXorb] = []
    while True:
        _need(data, off, _ENTRY)
        xorb_hash = data[off : off + 32]
        _, count, unpacked, _ = struct.unpack_from("<IIII", data, off + 32)
        off += _ENTRY
        if xorb_hash == _BOOKEND:
            break
        _need(data, off, count * _ENTRY)
        off += count * _ENTRY
        xorbs.append(ShardXorb(hash=hash_hex(xorb_hash), chunks=count, unpacked_bytes=unpacked))
    return Shard(files=tuple(files), xorbs=tuple(xorbs))


def _need(data: bytes, off: int, size: int) -> None:
    if off + size > len(data):
        raise XetFormatError("truncated shard")


def chunk_offsets(xorb: bytes) -> list[int]:
    """Byte offsets of each chunk in a serialized xorb, plus the end of the last chunk (``len`` = chunks + 1).

    Walks the chunk headers up to the footer; checks every length so a stored xorb is known to be whole.
    """
    offsets = [0]
    off = 0
    while off < len(xorb):
        if xorb.startswith(XORB_FOOTER_IDENT, off):
            break
        if off + CHUNK_HEADER > len(xorb):
            raise XetFormatError(f"truncated chunk header at byte {off}")
        version = xorb[off]
        compressed = int.from_bytes(xorb[off + 1 : off + 4], "little")
        scheme = xorb[off + 4]
        unpacked = int.from_bytes(xorb[off + 5 : off + 8], "little")
        if version != 0 or scheme not in (0, 1, 2) or unpacked > MAX_CHUNK_BYTES or compressed > 2 * MAX_CHUNK_BYTES:
            raise XetFormatError(f"invalid chunk header at byte {off}")
        off += CHUNK_HEADER + compressed
        if off > len(xorb):
            raise XetFormatError("truncated chunk data")
        offsets.append(off)
    if len(offsets) == 1:
        raise XetFormatError("a xorb without chunks")
    return offsets
