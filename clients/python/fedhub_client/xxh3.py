"""XXH3-64 with seed 0 (xxHash 0.8): the ``data_hash`` of framed buffers.

The hub checks every contribution's data section against the ``data_hash`` in
its header (messages/checksum.hpp). This is a pure Python/numpy version of the
same function: short inputs (up to 240 bytes) follow xxHash's scalar code
with Python integers; longer ones run the stripe accumulation vectorised in
numpy, one block of 1 KiB per row, so that megabytes hash in milliseconds.

>>> hex(xxh3_64(b""))
'0x2d06800538d394c2'
"""

from __future__ import annotations

import numpy as np

__all__ = ["xxh3_64", "hash_to_string"]

_M64 = (1 << 64) - 1

PRIME32_1 = 0x9E3779B1
PRIME32_2 = 0x85EBCA77
PRIME32_3 = 0xC2B2AE3D
PRIME64_1 = 0x9E3779B185EBCA87
PRIME64_2 = 0xC2B2AE3D27D4EB4F
PRIME64_3 = 0x165667B19E3779F9
PRIME64_4 = 0x85EBCA77C2B2AE63
PRIME64_5 = 0x27D4EB2F165667C5

# XXH3_kSecret, the default 192-byte secret of xxhash.h.
_SECRET = bytes.fromhex(
    "b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671f"
    "cb79e64eccc0e578825ad07dccff7221b8084674f743248ee03590e6813a264c"
    "3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8"
    "a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364"
    "eac5ac8334d3ebc3c581a0fffa1363eb170ddd51b7f0da49d3165526 29d4689e"
    "2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e".replace(" ", "")
)
assert len(_SECRET) == 192

_STRIPE = 64
_STRIPES_PER_BLOCK = (len(_SECRET) - _STRIPE) // 8  # 16
_BLOCK = _STRIPE * _STRIPES_PER_BLOCK  # 1024 bytes
_BLOCKS_PER_CHUNK = 4096  # 4 MiB of input per numpy pass (bounded memory)

_SECRET_U64 = np.frombuffer(_SECRET, dtype="<u8").astype(np.uint64)
# Key of lane i in stripe s: the secret's u64 at byte offset 8 * (s + i).
_STRIPE_KEYS = np.stack([_SECRET_U64[s : s + 8] for s in range(_STRIPES_PER_BLOCK)])
_SCRAMBLE_KEY = np.frombuffer(_SECRET, dtype="<u8", count=8, offset=len(_SECRET) - _STRIPE).astype(np.uint64)
_LAST_KEY = np.frombuffer(_SECRET, dtype="<u8", count=8, offset=len(_SECRET) - _STRIPE - 7).astype(np.uint64)
_LANE_SWAP = np.array([1, 0, 3, 2, 5, 4, 7, 6])
_LOW32 = np.uint64(0xFFFFFFFF)


def _r64(b: bytes, at: int) -> int:
    return int.from_bytes(b[at : at + 8], "little")


def _r32(b: bytes, at: int) -> int:
    return int.from_bytes(b[at : at + 4], "little")


def _mul128_fold64(a: int, b: int) -> int:
    p = a * b
    return (p ^ (p >> 64)) & _M64


def _xxh64_avalanche(h: int) -> int:
    h ^= h >> 33
    h = (h * PRIME64_2) & _M64
    h ^= h >> 29
    h = (h * PRIME64_3) & _M64
    return h ^ (h >> 32)


def _xxh3_avalanche(h: int) -> int:
    h ^= h >> 37
    h = (h * 0x165667919E3779F9) & _M64
    return h ^ (h >> 32)


def _rotl64(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M64


def _rrmxmx(h: int, length: int) -> int:
    h ^= _rotl64(h, 49) ^ _rotl64(h, 24)
    h = (h * 0x9FB21C651E98DF25) & _M64
    h ^= (h >> 35) + length
    h = (h * 0x9FB21C651E98DF25) & _M64
    return h ^ (h >> 28)


def _mix16(data: bytes, at: int, secret_at: int) -> int:
    return _mul128_fold64(_r64(data, at) ^ _r64(_SECRET, secret_at), _r64(data, at + 8) ^ _r64(_SECRET, secret_at + 8))


def _len_0_to_16(data: bytes) -> int:
    n = len(data)
    if n > 8:
        lo = _r64(data, 0) ^ (_r64(_SECRET, 24) ^ _r64(_SECRET, 32))
        hi = _r64(data, n - 8) ^ (_r64(_SECRET, 40) ^ _r64(_SECRET, 48))
        swapped = int.from_bytes(lo.to_bytes(8, "little"), "big")
        return _xxh3_avalanche((n + swapped + hi + _mul128_fold64(lo, hi)) & _M64)
    if n >= 4:
        x = (_r32(data, n - 4) + (_r32(data, 0) << 32)) & _M64
        return _rrmxmx(x ^ (_r64(_SECRET, 8) ^ _r64(_SECRET, 16)), n)
    if n > 0:
        combined = (data[0] << 16) | (data[n >> 1] << 24) | data[n - 1] | (n << 8)
        return _xxh64_avalanche(combined ^ (_r32(_SECRET, 0) ^ _r32(_SECRET, 4)))
    return _xxh64_avalanche(_r64(_SECRET, 56) ^ _r64(_SECRET, 64))


def _len_17_to_128(data: bytes) -> int:
    n = len(data)
    acc = (n * PRIME64_1) & _M64
    pairs = [(0, 0)]
    if n > 32:
        pairs.append((16, 32))
        if n > 64:
            pairs.append((32, 64))
            if n > 96:
                pairs.append((48, 96))
    for front, secret_at in pairs:
        acc += _mix16(data, front, secret_at) + _mix16(data, n - 16 - front, secret_at + 16)
    return _xxh3_avalanche(acc & _M64)


def _len_129_to_240(data: bytes) -> int:
    n = len(data)
    acc = (n * PRIME64_1) & _M64
    for i in range(8):
        acc += _mix16(data, 16 * i, 16 * i)
    acc = _xxh3_avalanche(acc & _M64)
    for i in range(8, n // 16):
        acc += _mix16(data, 16 * i, 16 * (i - 8) + 3)
    acc += _mix16(data, n - 16, 136 - 17)
    return _xxh3_avalanche(acc & _M64)


def _stripe_sums(lanes: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Sum over stripes of one accumulate step: lanes [..., stripes, 8] u64."""
    keyed = lanes ^ keys
    products = (keyed & _LOW32) * (keyed >> np.uint64(32))
    return (products + lanes[..., _LANE_SWAP]).sum(axis=-2, dtype=np.uint64)


def _scramble(acc: np.ndarray) -> np.ndarray:
    acc = acc ^ (acc >> np.uint64(47))
    acc ^= _SCRAMBLE_KEY
    return acc * np.uint64(PRIME32_1)


def _long(view: memoryview) -> int:
    n = len(view)
    acc = np.array(
        [PRIME32_3, PRIME64_1, PRIME64_2, PRIME64_3, PRIME64_4, PRIME32_2, PRIME64_5, PRIME32_1], dtype=np.uint64
    )
    blocks = (n - 1) // _BLOCK
    with np.errstate(over="ignore"):
        for first in range(0, blocks, _BLOCKS_PER_CHUNK):
            count = min(_BLOCKS_PER_CHUNK, blocks - first)
            lanes = np.frombuffer(view, dtype="<u8", count=count * _BLOCK // 8, offset=first * _BLOCK)
            sums = _stripe_sums(lanes.reshape(count, _STRIPES_PER_BLOCK, 8), _STRIPE_KEYS)
            for row in sums:
                acc = _scramble(acc + row)
        tail_at = blocks * _BLOCK
        stripes = (n - 1 - tail_at) // _STRIPE
        if stripes:
            lanes = np.frombuffer(view, dtype="<u8", count=stripes * 8, offset=tail_at).reshape(stripes, 8)
            acc = acc + _stripe_sums(lanes, _STRIPE_KEYS[:stripes])
        last = np.frombuffer(view, dtype="<u8", count=8, offset=n - _STRIPE).reshape(1, 8)
        acc = acc + _stripe_sums(last, _LAST_KEY)
    a = [int(x) for x in acc]
    result = (n * PRIME64_1) & _M64
    for i in range(4):
        result += _mul128_fold64(a[2 * i] ^ _r64(_SECRET, 11 + 16 * i), a[2 * i + 1] ^ _r64(_SECRET, 19 + 16 * i))
    return _xxh3_avalanche(result & _M64)


def xxh3_64(data) -> int:
    """XXH3-64 (seed 0) of a bytes-like object (bytes, bytearray, memoryview, a C-contiguous numpy array)."""
    view = memoryview(data).cast("B")
    n = len(view)
    if n <= 16:
        return _len_0_to_16(bytes(view))
    if n <= 128:
        return _len_17_to_128(bytes(view))
    if n <= 240:
        return _len_129_to_240(bytes(view))
    return _long(view)


def hash_to_string(value: int) -> str:
    """A hash as the hub's messages print it: ``0x2d06800538d394c2``."""
    return f"0x{value:016x}"
