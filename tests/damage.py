"""Damaged files for tests: an episode whose compressed frames have one bit flipped."""
from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path


def flip_a_bit_in_the_frames(path: Path) -> None:
    """Flip the first bit of ``frames.npy``'s deflate stream, inside an episode file, whose
    flip makes the stream undecodable (zlib.error, not only a CRC mismatch)."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("frames.npy")
    data = bytearray(path.read_bytes())
    head = info.header_offset
    name_len, extra_len = struct.unpack("<HH", data[head + 26:head + 30])  # the local header's
    start = head + 30 + name_len + extra_len
    stream = bytes(data[start:start + info.compress_size])
    for k in range(len(stream)):
        for bit in range(8):
            flipped = bytearray(stream)
            flipped[k] ^= 1 << bit
            try:
                zlib.decompressobj(-zlib.MAX_WBITS).decompress(bytes(flipped))
            except zlib.error:
                data[start:start + len(stream)] = flipped
                path.write_bytes(bytes(data))
                return
    raise AssertionError(f"no single bit flip breaks {path}'s frames")
