"""Framed buffers: the layout model packages and contribution files share.

::

    offset 0            "FHFB"
    offset 4            u32 LE H, the size of the FlatBuffer header (8 <= H <= 64 MiB)
    offset 8            the FlatBuffer header (H bytes), then zero bytes
    data_offset         the data section, data_offset = round_up(8 + H, 64)

(messages/framed.hpp, messages/schemas/model_package.fbs.)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import FormatError

MAGIC = b"FHFB"
FIXED_BYTES = 8
DATA_ALIGNMENT = 64
MIN_HEADER_BYTES = 8
MAX_HEADER_BYTES = 64 << 20


def data_offset(header_size: int) -> int:
    """Where the data section of a frame whose header has ``header_size`` bytes starts."""
    return (FIXED_BYTES + header_size + DATA_ALIGNMENT - 1) // DATA_ALIGNMENT * DATA_ALIGNMENT


@dataclass
class Frame:
    """A framed buffer split into its FlatBuffer header and its data section (views, no copies)."""

    header: memoryview
    data: memoryview
    data_offset: int


def read_frame(buf, what: str = "framed buffer") -> Frame:
    """Splits a whole framed buffer; the data section is everything after the padding.

    Checks the magic, the header size and that the padding is zero; the caller
    checks the header's data_bytes against ``len(frame.data)``. Raises
    FormatError naming the defect.
    """
    view = memoryview(buf).cast("B")
    if len(view) < FIXED_BYTES:
        raise FormatError(f"{what}: {len(view)} bytes is too short for a framed buffer (at least 8)")
    if bytes(view[:4]) != MAGIC:
        raise FormatError(
            f"{what}: does not start with the magic 'FHFB' (got {bytes(view[:4])!r}): "
            "not a fedhub model package or contribution file"
        )
    (size,) = struct.unpack_from("<I", view, 4)
    if not MIN_HEADER_BYTES <= size <= MAX_HEADER_BYTES:
        raise FormatError(f"{what}: header size {size} is out of range [{MIN_HEADER_BYTES}, {MAX_HEADER_BYTES}]")
    offset = data_offset(size)
    if len(view) < offset:
        raise FormatError(f"{what}: truncated: {len(view)} bytes, the header and its padding need {offset}")
    if any(view[FIXED_BYTES + size : offset]):
        raise FormatError(f"{what}: the padding after the header is not zero")
    return Frame(header=view[FIXED_BYTES : FIXED_BYTES + size], data=view[offset:], data_offset=offset)


def frame_prefix(header: bytes) -> bytes:
    """Magic, header size, the finished FlatBuffer and the zero padding up to the data section."""
    if not MIN_HEADER_BYTES <= len(header) <= MAX_HEADER_BYTES:
        raise ValueError(f"a frame header of {len(header)} bytes is out of range")
    offset = data_offset(len(header))
    return MAGIC + struct.pack("<I", len(header)) + bytes(header) + bytes(offset - FIXED_BYTES - len(header))


def make_frame(header: bytes, data) -> bytes:
    """A whole framed buffer: ``frame_prefix(header)`` followed by the data section."""
    return frame_prefix(header) + bytes(memoryview(data).cast("B"))
