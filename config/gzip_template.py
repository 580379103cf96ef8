"""Gzip a kept page once, and fill in its per-visitor values without
compressing it again.

A page served from the page cache (config/page_cache.py) differs between
visitors only in a few fixed-length values: the CSRF token (64 characters)
and the CSP nonce (24). Compressing the whole page again for every visitor
was a quarter of the cost of serving it. Instead, the page is compressed
once when it is kept, with the compressor fed a run of NUL bytes of the
right length wherever a value goes and flushed (``Z_SYNC_FLUSH``) on both
sides of it, so the compressed page falls into pieces that are whole deflate
blocks. Serving joins the static pieces with each value written as a
*stored* (uncompressed) block of the same length, then a gzip header and
trailer. Back-references in later pieces point at the same distances,
because the value has the same length as the run the compressor saw; and no
static byte can refer into the run, as an HTML page has no NUL bytes.

A value in a stored block of its own is not compressed against anything
else on the page, so its compressed length never depends on what an
attacker reflects into the page (the BREACH attack that Django's
GZipMiddleware pads against).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

LEVEL = 6
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # BFINAL, fixed Huffman, end-of-block
# gzip header: magic, deflate, no flags, no mtime, no extra flags, OS unknown.
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


@dataclass(frozen=True)
class GzipTemplate:
    """A page compressed around its placeholders.

    ``pieces`` are compressed static parts; between consecutive pieces is the
    value of ``slots[i]`` (a placeholder name), whose value must be
    ``lengths[name]`` bytes long."""

    pieces: tuple[bytes, ...]
    slots: tuple[str, ...]
    lengths: Mapping[str, int]

    def render(self, plain: bytes, values: Mapping[str, bytes]) -> bytes | None:
        """The gzip stream of ``plain`` (the page with ``values`` filled in,
        for the checksum), or None when a value is missing or not of its
        length."""
        for name, length in self.lengths.items():
            if len(values.get(name, b"")) != length:
                return None
        out = [_HEADER, self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            value = values[slot]
            out.append(b"\x00" + struct.pack("<HH", len(value), len(value) ^ 0xFFFF) + value)
            out.append(piece)
        out.append(_FINAL_EMPTY_BLOCK)
        out.append(struct.pack("<II", zlib.crc32(plain), len(plain) & 0xFFFFFFFF))
        return b"".join(out)


def compress(body: bytes, placeholders: Mapping[str, int]) -> GzipTemplate | None:
    """``body`` compressed around each placeholder (name → the length its
    value will have), or None when it cannot be (a NUL byte in the page, a
    value over a stored block's 65,535 bytes)."""
    if b"\x00" in body or any(n > 0xFFFF or n < 1 for n in placeholders.values()):
        return None
    names = [name for name in placeholders if name.encode() in body]
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    pieces: list[bytes] = []
    slots: list[str] = []
    rest = body
    current = b""
    while True:
        # The next placeholder of any kind.
        found = [(rest.find(name.encode()), name) for name in names]
        found = [(at, name) for at, name in found if at >= 0]
        if not found:
            break
        at, name = min(found)
        current += compressor.compress(rest[:at]) + compressor.flush(zlib.Z_SYNC_FLUSH)
        pieces.append(current)
        # The compressor sees a run as long as the value; its output is dropped.
        compressor.compress(b"\x00" * placeholders[name])
        compressor.flush(zlib.Z_SYNC_FLUSH)
        slots.append(name)
        rest = rest[at + len(name.encode()) :]
        current = b""
    current += compressor.compress(rest) + compressor.flush(zlib.Z_SYNC_FLUSH)
    pieces.append(current)
    return GzipTemplate(tuple(pieces), tuple(slots), {name: placeholders[name] for name in names})
