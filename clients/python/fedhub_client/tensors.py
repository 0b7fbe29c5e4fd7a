"""Named float32 tensors: the weights of a model package or a contribution, in the model's order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

from .errors import FormatError


@dataclass
class TensorInfo:
    """A tensor's name and shape as a header lists it (docs/models.md: ``dense/kernel`` [in, out], ...)."""

    name: str
    shape: Tuple[int, ...]

    @property
    def count(self) -> int:
        """Element count: the product of the shape (1 for a scalar)."""
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1


def data_bytes_of(layout: Sequence[TensorInfo]) -> int:
    """Bytes of the data section of these tensors: 4 per float32 value."""
    return 4 * sum(t.count for t in layout)


def split_data(layout: Sequence[TensorInfo], data, what: str) -> List[np.ndarray]:
    """The data section as one float32 array per tensor (read-only views, little-endian)."""
    expected = data_bytes_of(layout)
    if len(data) != expected:
        raise FormatError(f"{what}: the data section has {len(data)} bytes, its tensors need {expected}")
    flat = np.frombuffer(data, dtype="<f4")
    out, at = [], 0
    for t in layout:
        out.append(flat[at : at + t.count].reshape(t.shape))
        at += t.count
    return out


def join_data(layout: Sequence[TensorInfo], values: Sequence[np.ndarray], what: str = "weights") -> bytes:
    """The data section of ``values`` (one array per tensor of ``layout``): float32 LE, row-major, in order."""
    if len(values) != len(layout):
        raise FormatError(f"{what}: {len(values)} arrays for {len(layout)} tensors")
    parts = []
    for t, v in zip(layout, values):
        a = np.ascontiguousarray(v, dtype="<f4")
        if tuple(a.shape) != tuple(t.shape):
            raise FormatError(f"{what}: tensor '{t.name}' has shape {list(a.shape)}, the model's is {list(t.shape)}")
        if not np.isfinite(a).all():
            raise FormatError(f"{what}: tensor '{t.name}' holds NaN or Inf values (lower the learning rate)")
        parts.append(a.tobytes())
    return b"".join(parts)
