"""The PyTorch module equivalent to an architecture, and the conversion of
weights between the hub's Keras layouts and torch's.

The module takes inputs in the hub's order (a batch of HWC images, or
vectors) and works in NCHW inside. Layouts:

* conv2d: the hub's kernel [kh, kw, in, out] is torch's weight [out, in, kh, kw]
  (``permute(3, 2, 0, 1)``; back with ``permute(2, 3, 1, 0)``);
* dense: the hub's kernel [in, out] is torch's weight transposed;
* flatten: values in (h, w, c) order as Keras' Flatten, so the module's flatten
  permutes NCHW back to NHWC first and dense kernels need no reordering of rows;
* "same" padding: TensorFlow's, the extra row/column at the bottom/right
  (an explicit F.pad before an unpadded convolution).
"""

from __future__ import annotations

from typing import List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .architecture import Architecture, LayerSpec
from .errors import ArchitectureError
from .tensors import TensorInfo


class HwcToNchw(nn.Module):
    """Batches of HWC images (the hub's order) to NCHW."""

    def forward(self, x):
        return x.permute(0, 3, 1, 2)


class FlattenHwc(nn.Module):
    """Keras' Flatten on channels-last data: NCHW is flattened in (h, w, c) order."""

    def forward(self, x):
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        return x.reshape(x.shape[0], -1)


class Conv2dSame(nn.Module):
    """A convolution with explicit (TensorFlow-style, possibly asymmetric) zero padding."""

    def __init__(self, conv: nn.Conv2d, pads):
        super().__init__()
        self.conv = conv
        top, bottom, left, right = pads
        self.pad = (left, right, top, bottom)

    def forward(self, x):
        if any(self.pad):
            x = F.pad(x, self.pad)
        return self.conv(x)


def _activation(name: str) -> List[nn.Module]:
    # softmax on the last layer means logits (the softmax is part of the loss).
    return [nn.ReLU()] if name == "relu" else []


class FedhubNet(nn.Module):
    """A sequential torch network built from an Architecture; ``forward`` returns logits."""

    def __init__(self, arch: Architecture):
        super().__init__()
        self.arch = arch
        modules: List[nn.Module] = []
        # (layer spec, the nn.Module holding its parameters) for weight conversion
        self._owners = []
        if len(arch.input_shape) == 3:
            modules.append(HwcToNchw())
        for l in arch.layers:
            modules.extend(self._layer(l))
        self.body = nn.Sequential(*modules)

    def _layer(self, l: LayerSpec) -> List[nn.Module]:
        if l.type == "dense":
            m = nn.Linear(l.input_shape[0], l.units, bias=l.use_bias)
            self._owners.append((l, m))
            return [m] + _activation(l.activation)
        if l.type == "conv2d":
            conv = nn.Conv2d(l.input_shape[2], l.filters, l.kernel, stride=l.strides, padding=0, bias=l.use_bias)
            self._owners.append((l, conv))
            return [Conv2dSame(conv, l.pads)] + _activation(l.activation)
        if l.type == "maxpool2d":
            return [nn.MaxPool2d(l.pool, stride=l.strides)]
        if l.type == "flatten":
            return [FlattenHwc()]
        if l.type == "relu":
            return [nn.ReLU()]
        if l.type == "dropout":
            return [nn.Dropout(l.rate)]
        raise ArchitectureError(f"architecture: layer '{l.name}': type {l.type} has no torch equivalent")

    def forward(self, x):
        return self.body(x)

    def load_hub_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Sets the parameters from the hub's tensors (model order, Keras layouts)."""
        expected = self.arch.parameters()
        if len(weights) != len(expected):
            raise ArchitectureError(f"weights: {len(weights)} tensors, the architecture has {len(expected)}")
        for info, w in zip(expected, weights):
            if tuple(w.shape) != info.shape:
                raise ArchitectureError(f"weights: '{info.name}' has shape {list(w.shape)}, the architecture's is {list(info.shape)}")
        it = iter(weights)
        with torch.no_grad():
            for l, m in self._owners:
                kernel = torch.from_numpy(np.array(next(it), dtype=np.float32))
                m.weight.copy_(kernel.permute(3, 2, 0, 1) if l.type == "conv2d" else kernel.t())
                if l.use_bias:
                    m.bias.copy_(torch.from_numpy(np.array(next(it), dtype=np.float32)))

    def freeze_frozen(self) -> None:
        """No gradients for the parameters of frozen layers (trainable: false)."""
        for l, m in self._owners:
            if not l.trainable:
                for p in m.parameters():
                    p.requires_grad_(False)

    def hub_weights(self) -> List[np.ndarray]:
        """The parameters as the hub's tensors (model order, Keras layouts), float32 copies."""
        out = []
        with torch.no_grad():
            for l, m in self._owners:
                w = m.weight.detach()
                kernel = w.permute(2, 3, 1, 0) if l.type == "conv2d" else w.t()
                out.append(np.ascontiguousarray(kernel.cpu().numpy(), dtype=np.float32))
                if l.use_bias:
                    out.append(np.ascontiguousarray(m.bias.detach().cpu().numpy(), dtype=np.float32))
        return out

    def layout(self) -> List[TensorInfo]:
        """The hub's tensor list of this network."""
        return self.arch.parameters()


def build_model(arch: Architecture, weights: Sequence[np.ndarray] = None) -> FedhubNet:
    """The torch network of ``arch``, with the hub's ``weights`` loaded when given."""
    net = FedhubNet(arch)
    if weights is not None:
        net.load_hub_weights(weights)
    return net


PIXEL_SCALE = np.float32(1) / np.float32(255)


def pixels_to_input(pixels: np.ndarray) -> torch.Tensor:
    """Bytes 0..255 [n, *input_shape] to the network's float input, ``byte * (1/255.f)`` as the hub's trainer does."""
    return torch.from_numpy(pixels.astype(np.float32) * PIXEL_SCALE)
