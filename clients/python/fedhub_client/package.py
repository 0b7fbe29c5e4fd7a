"""Reading a model package: the file ``fl-participant download`` writes and
``GET /api/v1/models/{name}/versions/{v}/package`` returns.

A framed buffer (framing.py) whose FlatBuffer header is a ModelPackage
(identifier "FHMP": the model's spec and one version's tensor list) and whose
data section holds the weights, float32 little-endian, in the tensors' order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import List

import numpy as np

from . import fb
from .errors import FormatError
from .framing import read_frame
from .tensors import TensorInfo, data_bytes_of, split_data
from .xxh3 import hash_to_string, xxh3_64


@dataclass
class ModelPackage:
    """One version of a model: its spec (architecture, labels, recipe) and its weights."""

    name: str
    version: int
    architecture: dict
    labels: List[str]
    recipe: dict
    min_contributions: int
    layout: List[TensorInfo]
    weights: List[np.ndarray]
    data_hash: int
    aggregator: str = ""
    contributors: List[str] = field(default_factory=list)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else (value or "")


def _layout(version, what: str) -> List[TensorInfo]:
    layout = []
    for i in range(version.TensorsLength()):
        t = version.Tensors(i)
        name = _text(t.Name())
        if t.Dtype() != fb.DType.DType.float32:
            raise FormatError(f"{what}: tensor '{name}' has dtype {t.Dtype()}; only float32 is supported")
        shape = tuple(int(t.Shape(j)) for j in range(t.ShapeLength()))
        if any(d < 0 for d in shape):
            raise FormatError(f"{what}: tensor '{name}' has a negative dimension {list(shape)}")
        layout.append(TensorInfo(name, shape))
    return layout


def read_model_package(buf, what: str = "model package", check_hash: bool = True) -> ModelPackage:
    """Parses and checks a whole package (frame, identifier, sizes, data_hash); the weights are views into ``buf``.

    Raises FormatError naming the defect (a contribution file is named as such).
    """
    frame = read_frame(buf, what)
    header = bytes(frame.header)
    if header[4:8] == fb.CONTRIBUTION_IDENTIFIER:
        raise FormatError(f"{what}: this is a contribution file (a training result), not a model package")
    if header[4:8] != fb.PACKAGE_IDENTIFIER:
        raise FormatError(f"{what}: the header's identifier is {header[4:8]!r}, a model package's is 'FHMP'")
    try:
        root = fb.ModelPackage.ModelPackage.GetRootAs(header, 0)
        spec, version = root.Spec(), root.Version()
        if spec is None or version is None:
            raise FormatError(f"{what}: the header lacks its spec or version")
        name = _text(spec.Name())
        if _text(version.Model()) != name:
            raise FormatError(f"{what}: the version belongs to '{_text(version.Model())}', the spec is '{name}'")
        layout = _layout(version, what)
        package = ModelPackage(
            name=name,
            version=int(version.Version()),
            architecture=json.loads(_text(spec.ArchitectureJson())),
            labels=[_text(spec.Labels(i)) for i in range(spec.LabelsLength())],
            recipe=json.loads(_text(spec.RecipeJson()) or "{}"),
            min_contributions=int(spec.MinContributions()),
            layout=layout,
            weights=[],
            data_hash=int(root.DataHash()),
            aggregator=_text(version.Aggregator()),
            contributors=[_text(version.Contributors(i)) for i in range(version.ContributorsLength())],
        )
        declared = int(root.DataBytes())
    except FormatError:
        raise
    except (IndexError, ValueError, TypeError, UnicodeDecodeError, OverflowError) as e:
        raise FormatError(f"{what}: the FlatBuffer header is damaged ({e})") from e
    if declared != data_bytes_of(layout):
        raise FormatError(f"{what}: declares {declared} data bytes, its tensors need {data_bytes_of(layout)}")
    if len(frame.data) != declared:
        state = "truncated" if len(frame.data) < declared else "followed by extra bytes"
        raise FormatError(f"{what}: {state}: the data section has {len(frame.data)} bytes, the header declares {declared}")
    if check_hash:
        actual = xxh3_64(frame.data)
        if actual != package.data_hash:
            raise FormatError(
                f"{what}: the data section hashes to {hash_to_string(actual)}, the header says "
                f"{hash_to_string(package.data_hash)}: the file is damaged, download it again"
            )
    package.weights = split_data(layout, frame.data, what)
    return package


def load_model_package(path: str) -> ModelPackage:
    """Reads a package file (see read_model_package); the message names the path."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise FormatError(f"cannot read the model package '{path}': {e.strerror}") from e
    return read_model_package(data, what=path)
