"""The architecture JSON of docs/models.md, parsed into layers with their
names, shapes and parameter tensors (no torch here).

Layer names follow the hub: an explicit ``name``, else the type with a
per-type counter as Keras does (``dense``, ``dense_1``, ...). Parameters are
``<name>/kernel`` then ``<name>/bias``, in layer order, in Keras' layouts:
conv kernel [kh, kw, in, out], dense kernel [in, out].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Tuple

from .errors import ArchitectureError
from .tensors import TensorInfo

_FIELDS = {
    "flatten": {"type", "name"},
    "dense": {"type", "name", "units", "activation", "use_bias", "trainable"},
    "relu": {"type", "name"},
    "dropout": {"type", "name", "rate"},
    "conv2d": {"type", "name", "filters", "kernel_size", "strides", "padding", "activation", "use_bias", "trainable"},
    "maxpool2d": {"type", "name", "pool_size", "strides", "padding"},
}
_ACTIVATIONS = {"linear": "linear", "none": "linear", "relu": "relu", "softmax": "softmax"}


@dataclass
class LayerSpec:
    """One parsed layer: its type, name, input and output shapes (HWC or [d]) and hyper-parameters."""

    type: str
    name: str
    input_shape: Tuple[int, ...]
    output_shape: Tuple[int, ...]
    units: int = 0
    filters: int = 0
    kernel: Tuple[int, int] = (0, 0)
    strides: Tuple[int, int] = (1, 1)
    pool: Tuple[int, int] = (0, 0)
    padding: str = "valid"
    # TensorFlow's "same" padding: (top, bottom, left, right); zeros for "valid".
    pads: Tuple[int, int, int, int] = (0, 0, 0, 0)
    activation: str = "linear"
    use_bias: bool = True
    rate: float = 0.0
    # False: a frozen layer (Keras' field; also the recipe's "freeze"): not trained, not uploaded.
    trainable: bool = True

    def parameters(self) -> List[TensorInfo]:
        """This layer's tensors, kernel before bias (none for layers without weights)."""
        if self.type == "dense":
            kernel = TensorInfo(f"{self.name}/kernel", (self.input_shape[0], self.units))
            size = self.units
        elif self.type == "conv2d":
            kernel = TensorInfo(f"{self.name}/kernel", (*self.kernel, self.input_shape[2], self.filters))
            size = self.filters
        else:
            return []
        return [kernel] + ([TensorInfo(f"{self.name}/bias", (size,))] if self.use_bias else [])


@dataclass
class Architecture:
    """A sequential network: the input shape and its layers."""

    input_shape: Tuple[int, ...]
    layers: List[LayerSpec] = field(default_factory=list)

    def parameters(self) -> List[TensorInfo]:
        """Every parameter tensor in the model's order (the order of a package's tensors)."""
        return [t for layer in self.layers for t in layer.parameters()]

    def trainable_parameters(self) -> List[TensorInfo]:
        """The tensors a contribution carries: those of layers that are not frozen."""
        return [t for layer in self.layers if layer.trainable for t in layer.parameters()]

    def freeze(self, names) -> None:
        """Marks the named layers (the recipe's "freeze") trainable: false."""
        for name in names:
            layer = next((l for l in self.layers if l.name == name), None)
            if layer is None or not layer.parameters():
                _fail("recipe", f"'freeze' names layer '{name}', which has no parameters or does not exist")
            layer.trainable = False

    @property
    def outputs(self) -> int:
        """Logits per sample (one per label)."""
        return self.layers[-1].output_shape[0]


def _fail(where: str, why: str):
    raise ArchitectureError(f"architecture: {where}: {why}")


def _positive(value, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        _fail(where, f"'{name}' must be a positive integer, got {value!r}")
    return value


def _pair(value, where: str, name: str) -> Tuple[int, int]:
    if isinstance(value, list):
        if len(value) != 2:
            _fail(where, f"'{name}' must be an integer or [h, w]")
        return _positive(value[0], where, name), _positive(value[1], where, name)
    v = _positive(value, where, name)
    return v, v


def _same_pads(size: int, k: int, s: int) -> Tuple[int, int, int]:
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return out, total // 2, total - total // 2


def _activation(j: dict, where: str) -> str:
    a = j.get("activation", "linear")
    if a not in _ACTIVATIONS:
        _fail(where, f"unknown activation '{a}' (use linear, relu or softmax)")
    return _ACTIVATIONS[a]


def _conv(l: LayerSpec, j: dict, shape, where: str):
    if "filters" not in j or "kernel_size" not in j:
        _fail(where, 'needs "filters" and "kernel_size"')
    if len(shape) != 3:
        _fail(where, f"needs an image input [h, w, c], got {list(shape)}")
    l.filters = _positive(j["filters"], where, "filters")
    l.kernel = _pair(j["kernel_size"], where, "kernel_size")
    l.strides = _pair(j.get("strides", 1), where, "strides")
    l.padding = j.get("padding", "valid")
    l.activation = _activation(j, where)
    l.use_bias = bool(j.get("use_bias", True))
    (kh, kw), (sh, sw) = l.kernel, l.strides
    if l.padding == "valid":
        oh, ow = (shape[0] - kh) // sh + 1, (shape[1] - kw) // sw + 1
    elif l.padding == "same":
        oh, top, bottom = _same_pads(shape[0], kh, sh)
        ow, left, right = _same_pads(shape[1], kw, sw)
        l.pads = (top, bottom, left, right)
    else:
        _fail(where, f"unknown padding '{l.padding}' (use valid or same)")
    if oh <= 0 or ow <= 0:
        _fail(where, f"kernel is larger than its input {list(shape)}")
    return (oh, ow, l.filters)


def _pool(l: LayerSpec, j: dict, shape, where: str):
    if "pool_size" not in j:
        _fail(where, 'needs "pool_size"')
    if j.get("padding", "valid") != "valid":
        _fail(where, 'only padding "valid" is supported')
    if len(shape) != 3:
        _fail(where, f"needs an image input [h, w, c], got {list(shape)}")
    l.pool = _pair(j["pool_size"], where, "pool_size")
    l.strides = _pair(j.get("strides", list(l.pool)), where, "strides")
    oh = (shape[0] - l.pool[0]) // l.strides[0] + 1
    ow = (shape[1] - l.pool[1]) // l.strides[1] + 1
    if shape[0] < l.pool[0] or shape[1] < l.pool[1]:
        _fail(where, f"pool is larger than its input {list(shape)}")
    return (oh, ow, shape[2])


def parse_architecture(doc: dict) -> Architecture:
    """Parses the architecture document (a dict from json.loads) as the hub does; ArchitectureError otherwise."""
    if not isinstance(doc, dict):
        _fail("document", "must be a JSON object")
    inp = doc.get("input")
    if not isinstance(inp, list) or len(inp) not in (1, 3):
        _fail("document", '"input" must be [height, width, channels] or [size]')
    shape = tuple(_positive(d, "input", "input") for d in inp)
    layers = doc.get("layers")
    if not isinstance(layers, list) or not layers:
        _fail("document", '"layers" must be a non-empty array')
    arch = Architecture(input_shape=shape)
    counters: dict = {}
    for i, j in enumerate(layers):
        if not isinstance(j, dict) or not isinstance(j.get("type"), str):
            _fail(f"layer {i}", 'needs a "type" string')
        kind = j["type"]
        where = f"layer {i} ({kind})"
        if kind not in _FIELDS:
            _fail(where, "unknown layer type (use flatten, dense, relu, conv2d, maxpool2d or dropout)")
        unknown = sorted(set(j) - _FIELDS[kind])
        if unknown:
            _fail(where, f"unknown field(s) {', '.join(unknown)}")
        l = LayerSpec(type=kind, name="", input_shape=shape, output_shape=shape)
        if kind == "flatten":
            out: Tuple[int, ...] = (math.prod(shape),)
        elif kind == "dense":
            if "units" not in j:
                _fail(where, 'needs "units"')
            if len(shape) != 1:
                _fail(where, f"needs a flat input, got {list(shape)}: add a flatten layer")
            l.units = _positive(j["units"], where, "units")
            l.activation = _activation(j, where)
            l.use_bias = bool(j.get("use_bias", True))
            out = (l.units,)
        elif kind == "conv2d":
            out = _conv(l, j, shape, where)
        elif kind == "maxpool2d":
            out = _pool(l, j, shape, where)
        elif kind == "dropout":
            rate = j.get("rate")
            if not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
                _fail(where, '"rate" must be a number in [0, 1)')
            l.rate = float(rate)
            out = shape
        else:  # relu
            out = shape
        if "trainable" in j:
            if not isinstance(j["trainable"], bool):
                _fail(where, '"trainable" must be true or false')
            l.trainable = j["trainable"]
        if l.activation == "softmax" and i + 1 != len(layers):
            _fail(where, "softmax is only allowed on the last layer")
        if "name" in j:
            if not isinstance(j["name"], str) or not j["name"]:
                _fail(where, '"name" must be a string')
            l.name = j["name"]
        else:
            n = counters.get(kind, 0)
            counters[kind] = n + 1
            l.name = kind + (f"_{n}" if n else "")
        if any(p.name == l.name for p in arch.layers):
            _fail(where, f"duplicate layer name '{l.name}'")
        l.output_shape = out
        arch.layers.append(l)
        shape = out
    if len(shape) != 1:
        _fail("last layer", f"must produce a flat vector of logits, got {list(shape)}")
    return arch
