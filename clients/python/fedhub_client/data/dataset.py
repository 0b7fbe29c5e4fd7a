"""A loaded data source (uint8 samples in the model's input shape, model label indices) and the loader."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from ..errors import DataError
from .source_spec import parse_source


@dataclass
class Dataset:
    """``pixels`` [n, *input_shape] uint8 in HWC order; ``labels`` [n] int32 indices into the model's labels."""

    pixels: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def _warn_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def load_data(
    sources: Sequence[str],
    input_shape: Sequence[int],
    model_labels: Sequence[str],
    labels_file: Optional[str] = None,
    warn: Callable[[str], None] = _warn_stderr,
) -> Dataset:
    """Loads and concatenates the sources (``idx:PREFIX[:CLASSES]``, ``folder:DIR[:CLASSES]``) for a model.

    Raises DataError naming the source and what to do.
    """
    from .folder import load_folder
    from .idx import load_idx

    parts = []
    for source in sources:
        spec = parse_source(source)
        loader = {"idx": load_idx, "folder": load_folder}.get(spec.kind)
        if loader is None:
            raise DataError(
                f"{source}: the Python participant reads idx: and folder: sources "
                f"(convert {spec.kind}: data to a folder of images per class, or use fl-participant)"
            )
        data = loader(spec, tuple(input_shape), list(model_labels), labels_file, warn)
        if len(data) == 0:
            raise DataError(f"the data source '{source}' holds no samples")
        parts.append(data)
    if not parts:
        raise DataError("no data source given: pass --data SPEC (e.g. idx:/usr/share/datasets/fashion-mnist/train)")
    if len(parts) == 1:
        return parts[0]
    return Dataset(np.concatenate([p.pixels for p in parts]), np.concatenate([p.labels for p in parts]))
