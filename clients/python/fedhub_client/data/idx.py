"""``idx:PREFIX[:CLASSES]``: the IDX pair PREFIX-images-idx3-ubyte[.gz] and PREFIX-labels-idx1-ubyte[.gz]
(MNIST, Fashion-MNIST); the uncompressed file is taken when both exist."""

from __future__ import annotations

import gzip
import os
import zlib
from typing import Optional, Sequence

import numpy as np

from ..errors import DataError
from .convert import check_target, convert_images
from .dataset import Dataset
from .labels import map_classes, read_labels_file, select_classes
from .source_spec import SourceSpec


def _path(prefix: str, suffix: str, source: str) -> str:
    for candidate in (f"{prefix}-{suffix}", f"{prefix}-{suffix}.gz"):
        if os.path.isfile(candidate):
            return candidate
    raise DataError(f"{source}: neither {prefix}-{suffix} nor {prefix}-{suffix}.gz exists")


def _read(path: str, dims: int, what: str) -> np.ndarray:
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if path.endswith(".gz"):
            raw = gzip.decompress(raw)
    except OSError as e:
        raise DataError(f"cannot read the IDX {what} file '{path}': {e}") from e
    except (zlib.error, EOFError) as e:
        raise DataError(f"'{path}': corrupt or truncated gzip data ({e})") from e
    magic = 0x0800 + dims
    if len(raw) < 4 + 4 * dims or int.from_bytes(raw[:4], "big") != magic:
        raise DataError(
            f"'{path}' is not an IDX {what} file (magic 0x{magic:08x} expected): are images and labels swapped?"
        )
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    start = 4 + 4 * dims
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - start != count:
        state = "is truncated" if len(raw) - start < count else "has trailing bytes"
        raise DataError(f"'{path}' {state}: its header declares {shape} = {count} bytes, it holds {len(raw) - start}")
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(shape)


def load_idx(spec: SourceSpec, input_shape, model_labels: Sequence[str], labels_file: Optional[str], warn) -> Dataset:
    """Loads an IDX pair for a model (see the module's docstring and docs/models.md)."""
    target = check_target(input_shape)
    labels_path = _path(spec.path, "labels-idx1-ubyte", spec.text)
    images_path = _path(spec.path, "images-idx3-ubyte", spec.text)
    labels = _read(labels_path, 1, "labels")
    images = _read(images_path, 3, "images")
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{spec.text}: '{images_path}' holds {images.shape[0]} images but '{labels_path}' holds "
            f"{labels.shape[0]} labels; they must belong together"
        )
    if labels.shape[0] == 0:
        raise DataError(f"{spec.text}: '{images_path}' holds no images")
    names = read_labels_file(labels_file) if labels_file else []
    if names:
        count = len(names)
        if int(labels.max()) >= count:
            bad = int(np.argmax(labels >= count))
            raise DataError(
                f"{spec.text}: label {bad} in '{labels_path}' is class {labels[bad]} but the labels file "
                f"'{labels_file}' names only {count} classes"
            )
    else:
        count = int(labels.max()) + 1
    keep = select_classes(spec.classes, count, names, spec.text)
    to_model = np.array(map_classes(count, names, keep, model_labels, spec.text, labels_file), dtype=np.int32)
    mapped = to_model[labels]
    selected = np.nonzero(mapped >= 0)[0]
    pixels = convert_images(images[selected][..., None], target, images_path)
    return Dataset(np.ascontiguousarray(pixels.reshape((len(selected),) + target)), mapped[selected].astype(np.int32))
