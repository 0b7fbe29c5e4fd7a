"""``folder:DIR[:CLASSES]``: one sub-folder per class of image files; the sub-folder's name is the class name.

Sub-folders and files are read in byte order of their names. PNG, BMP, GIF and JPEG files
are decoded with Pillow (Debian: python3-pil); PPM/PGM/PNM files are decoded here without
it. Files that cannot be decoded, files that are not images, files beside the class folders
and folders inside class folders are skipped and reported through ``warn``, with a summary.
JPEG decoders differ slightly, so JPEG pixels may differ by a few levels from the C++ hub's
(stb_image); lossless formats give the same bytes.
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..errors import DataError
from .convert import check_target, convert_images
from .dataset import Dataset
from .labels import map_classes, select_classes
from .source_spec import SourceSpec

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tga", ".ppm", ".pgm", ".pnm")


def _sorted(path: str) -> List[str]:
    return sorted(os.listdir(path), key=lambda n: os.fsencode(n))


def _netpbm(raw: bytes) -> np.ndarray:
    """Binary PGM (P5) or PPM (P6) with maxval <= 255, as [h, w, c] uint8."""
    tokens, at = [], 2
    while len(tokens) < 3:
        while raw[at : at + 1].isspace():
            at += 1
        if raw[at : at + 1] == b"#":
            at = raw.index(b"\n", at) + 1
            continue
        end = at
        while not raw[end : end + 1].isspace():
            end += 1
        tokens.append(int(raw[at:end]))
        at = end
    w, h, maxval = tokens
    if maxval > 255:
        raise ValueError("16-bit netpbm files are not supported")
    c = 3 if raw[:2] == b"P6" else 1
    return np.frombuffer(raw, dtype=np.uint8, count=w * h * c, offset=at + 1).reshape(h, w, c)


def decode_image(path: str) -> np.ndarray:
    """An image file as [h, w, c] uint8 (c 1-4); ValueError or OSError when it cannot be decoded."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] in (b"P5", b"P6"):
        return _netpbm(raw)
    try:
        from PIL import Image
    except ImportError as e:
        raise ValueError("decoding this format needs Pillow (Debian: apt-get install python3-pil)") from e
    import io

    with Image.open(io.BytesIO(raw)) as im:
        if im.mode not in ("L", "LA", "RGB", "RGBA"):
            im = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
        a = np.asarray(im, dtype=np.uint8)
    return a[..., None] if a.ndim == 2 else a


def load_folder(spec: SourceSpec, input_shape, model_labels: Sequence[str], labels_file: Optional[str], warn) -> Dataset:
    """Loads a folder of class folders for a model (see the module's docstring and docs/models.md)."""
    target = check_target(input_shape)
    if not os.path.isdir(spec.path):
        raise DataError(f"{spec.text}: '{spec.path}' is not a folder")
    if labels_file:
        warn(f"{spec.text}: --data-labels is not used for folders (the sub-folder names are the classes)")
    skipped: Dict[str, int] = {}
    classes, entries = [], _sorted(spec.path)
    for name in entries:
        full = os.path.join(spec.path, name)
        if os.path.isdir(full):
            classes.append(name)
        else:
            warn(f"skipped '{full}': a file beside the class folders")
            skipped["files beside the class folders"] = skipped.get("files beside the class folders", 0) + 1
    if not classes:
        raise DataError(f"{spec.text}: '{spec.path}' has no sub-folders (one per class is needed)")
    keep = select_classes(spec.classes, len(classes), classes, spec.text)
    to_model = map_classes(len(classes), classes, keep, model_labels, spec.text)
    pixels, labels = [], []
    for c, name in enumerate(classes):
        if to_model[c] < 0:
            continue
        folder, found = os.path.join(spec.path, name), 0
        for file in _sorted(folder):
            full = os.path.join(folder, file)
            if os.path.isdir(full):
                warn(f"skipped '{full}': a folder inside a class folder")
                skipped["nested folders"] = skipped.get("nested folders", 0) + 1
                continue
            if os.path.splitext(file)[1].lower() not in EXTENSIONS:
                warn(f"skipped '{full}': not an image file name ({', '.join(EXTENSIONS)})")
                skipped["non-image names"] = skipped.get("non-image names", 0) + 1
                continue
            try:
                image = decode_image(full)
            except (ValueError, OSError, IndexError) as e:
                warn(f"skipped '{full}': it could not be decoded ({e})")
                skipped["files could not be decoded"] = skipped.get("files could not be decoded", 0) + 1
                continue
            pixels.append(convert_images(image[None], target, full)[0])
            labels.append(to_model[c])
            found += 1
        if found == 0:
            warn(f"class folder '{folder}' holds no images")
    if skipped:
        detail = ", ".join(f"{n} {what}" for what, n in skipped.items())
        warn(f"loaded {len(labels)} images, skipped {sum(skipped.values())} entries: {detail}")
    if not labels:
        raise DataError(f"{spec.text}: no image left to load")
    return Dataset(np.stack(pixels).reshape((len(labels),) + target), np.array(labels, dtype=np.int32))
