"""Converting images to the model's input shape exactly as the hub's datasets library does
(datasets/image_convert.cpp): bilinear resize with half-pixel centres (clamped to the border,
no antialiasing), in float32, rounded to the nearest byte once; grey repeated over three
channels; colour to grey by luma 0.299 R + 0.587 G + 0.114 B before the resize; alpha dropped;
a flat input [d] takes the image flattened as it is (HWC) when h*w*c == d.

Batches of equally sized images are converted at once (numpy, vectorised).
"""

from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np

from ..errors import DataError


def check_target(shape: Sequence[int]) -> Tuple[int, ...]:
    """The model input shape if images can be converted to it: [h, w, 1], [h, w, 3] or [d]."""
    shape = tuple(int(d) for d in shape)
    ok = (len(shape) == 1 and shape[0] > 0) or (len(shape) == 3 and shape[0] > 0 and shape[1] > 0 and shape[2] in (1, 3))
    if not ok:
        raise DataError(f"model input shape {list(shape)} cannot take images: it needs [h, w, 1], [h, w, 3] or a flat [d]")
    return shape


def _taps(src: int, dst: int):
    scale = src / dst
    s = np.clip((np.arange(dst, dtype=np.float64) + 0.5) * scale - 0.5, 0.0, float(src - 1))
    i0 = np.floor(s).astype(np.int64)
    i1 = np.minimum(i0 + 1, src - 1)
    return i0, i1, (s - i0).astype(np.float32)


def _round_bytes(v: np.ndarray) -> np.ndarray:
    v = v + np.float32(0.5)
    out = np.where(v > 0, v, np.float32(0))
    out = np.where(out >= np.float32(255), np.float32(255), out)
    return out.astype(np.uint8)  # truncation of non-negative values, as static_cast<uint8_t>


def _fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """float32 a * b + c rounded once (a fused multiply-add), through float64.

    The hub's C++ (datasets/image_convert.cpp) writes its multiply-adds as
    std::fma, so every build rounds them once; the product of two floats is
    exact in float64 and so, for pixel values, is the sum.
    """
    return (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(np.float32)


def _luma(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., k].astype(np.float32) for k in range(3))
    return _fma(np.float32(0.114), b, _fma(np.float32(0.587), g, np.float32(0.299) * r))


def convert_images(images: np.ndarray, target: Sequence[int], what: str) -> np.ndarray:
    """``images`` [n, h, w, c] uint8 (c: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) to [n, *target] uint8."""
    target = check_target(target)
    n, h, w, c = images.shape
    sc = 1 if c <= 2 else 3  # colour channels, alpha dropped
    src = images[..., :sc]
    if len(target) == 1:
        if h * w * sc != target[0]:
            raise DataError(
                f"{what}: the image is {h}x{w}x{sc} = {h * w * sc} values but the model's flat input has {target[0]}; "
                "use a model with an image input [h, w, c] so that images are resized"
            )
        return np.ascontiguousarray(src).reshape(n, target[0])
    th, tw, tc = target
    if (h, w) == (th, tw):
        if tc == 1:
            return src if sc == 1 else _round_bytes(_luma(src))[..., None]
        return np.repeat(src, 3, axis=3) if sc == 1 else np.ascontiguousarray(src)
    wc = 1 if tc == 1 else sc
    plane = src.astype(np.float32) if (wc == sc) else _luma(src)[..., None]
    y0, y1, fy = _taps(h, th)
    x0, x1, fx = _taps(w, tw)
    fx = fx[None, None, :, None]
    fy = fy[None, :, None, None]
    r0, r1 = plane[:, y0], plane[:, y1]
    top = _fma(fx, r0[:, :, x1] - r0[:, :, x0], r0[:, :, x0])
    bottom = _fma(fx, r1[:, :, x1] - r1[:, :, x0], r1[:, :, x0])
    out = _round_bytes(_fma(fy, bottom - top, top))
    return np.repeat(out, 3, axis=3) if (wc == 1 and tc == 3) else out
