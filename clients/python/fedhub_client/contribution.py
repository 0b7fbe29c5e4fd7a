"""Writing (and reading back) a contribution file: a training result.

A framed buffer (framing.py) whose FlatBuffer header is a Contribution
(identifier "FHCT", messages/schemas/contribution.fbs: model, base_version,
participant, num_samples, metrics, tensors, data_bytes, data_hash) and whose
data section holds the trained weights in the model's tensor order. What
``fl-participant train`` writes and both doors of the hub accept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Sequence

import flatbuffers
import numpy as np

from . import fb
from .errors import FormatError
from .framing import make_frame, read_frame
from .tensors import TensorInfo, data_bytes_of, join_data, split_data
from .xxh3 import hash_to_string, xxh3_64


@dataclass
class ContributionFile:
    """A contribution's header fields and its weights."""

    model: str
    base_version: int
    participant: str
    num_samples: int
    metrics: Dict[str, float]
    layout: List[TensorInfo]
    weights: List[np.ndarray] = field(default_factory=list)
    data_hash: int = 0


def _tensor(builder: flatbuffers.Builder, info: TensorInfo) -> int:
    name = builder.CreateString(info.name)
    fb.Tensor.TensorStartShapeVector(builder, len(info.shape))
    for d in reversed(info.shape):
        builder.PrependInt64(int(d))
    shape = builder.EndVector()
    fb.Tensor.TensorStart(builder)
    fb.Tensor.TensorAddName(builder, name)
    fb.Tensor.TensorAddShape(builder, shape)
    fb.Tensor.TensorAddDtype(builder, fb.DType.DType.float32)
    return fb.Tensor.TensorEnd(builder)


def _metric(builder: flatbuffers.Builder, name: str, value: float) -> int:
    text = builder.CreateString(name)
    fb.Metric.MetricStart(builder)
    fb.Metric.MetricAddName(builder, text)
    fb.Metric.MetricAddValue(builder, float(value))
    return fb.Metric.MetricEnd(builder)


def _offsets_vector(builder: flatbuffers.Builder, start, offsets: Sequence[int]) -> int:
    start(builder, len(offsets))
    for o in reversed(offsets):
        builder.PrependUOffsetTRelative(o)
    return builder.EndVector()


def contribution_header(c: ContributionFile, data_bytes: int, data_hash: int) -> bytes:
    """The finished Contribution FlatBuffer (identifier "FHCT") of ``c``."""
    b = flatbuffers.Builder(1024)
    model = b.CreateString(c.model)
    participant = b.CreateString(c.participant)
    metrics = [_metric(b, k, v) for k, v in c.metrics.items()]
    tensors = [_tensor(b, t) for t in c.layout]
    metrics_vec = _offsets_vector(b, fb.Contribution.ContributionStartMetricsVector, metrics)
    tensors_vec = _offsets_vector(b, fb.Contribution.ContributionStartTensorsVector, tensors)
    C = fb.Contribution
    C.ContributionStart(b)
    C.ContributionAddModel(b, model)
    C.ContributionAddBaseVersion(b, int(c.base_version))
    C.ContributionAddParticipant(b, participant)
    C.ContributionAddNumSamples(b, int(c.num_samples))
    C.ContributionAddMetrics(b, metrics_vec)
    C.ContributionAddTensors(b, tensors_vec)
    C.ContributionAddDataBytes(b, int(data_bytes))
    C.ContributionAddDataHash(b, int(data_hash))
    b.Finish(C.ContributionEnd(b), file_identifier=fb.CONTRIBUTION_IDENTIFIER)
    return bytes(b.Output())


def build_contribution(c: ContributionFile) -> bytes:
    """The whole contribution file of ``c`` (its weights checked against its layout and for finite values)."""
    if c.num_samples < 1:
        raise FormatError("a contribution needs num_samples >= 1 (the samples trained on)")
    data = join_data(c.layout, c.weights, what="contribution")
    return make_frame(contribution_header(c, len(data), xxh3_64(data)), data)


def read_contribution(buf, what: str = "contribution file") -> ContributionFile:
    """Parses and checks a whole contribution file (frame, identifier, sizes, data_hash)."""
    frame = read_frame(buf, what)
    header = bytes(frame.header)
    if header[4:8] != fb.CONTRIBUTION_IDENTIFIER:
        raise FormatError(f"{what}: the header's identifier is {header[4:8]!r}, a contribution's is 'FHCT'")
    try:
        root = fb.Contribution.Contribution.GetRootAs(header, 0)
        layout = []
        for i in range(root.TensorsLength()):
            t = root.Tensors(i)
            layout.append(TensorInfo(t.Name().decode(), tuple(int(t.Shape(j)) for j in range(t.ShapeLength()))))
        metrics = {root.Metrics(i).Name().decode(): root.Metrics(i).Value() for i in range(root.MetricsLength())}
        c = ContributionFile(
            model=root.Model().decode(),
            base_version=int(root.BaseVersion()),
            participant=(root.Participant() or b"").decode(),
            num_samples=int(root.NumSamples()),
            metrics=metrics,
            layout=layout,
            data_hash=int(root.DataHash()),
        )
        declared = int(root.DataBytes())
    except (AttributeError, IndexError, ValueError, UnicodeDecodeError) as e:
        raise FormatError(f"{what}: the FlatBuffer header is damaged ({e})") from e
    if declared != data_bytes_of(layout) or len(frame.data) != declared:
        raise FormatError(
            f"{what}: declares {declared} data bytes, its tensors need {data_bytes_of(layout)}, "
            f"the file holds {len(frame.data)}"
        )
    actual = xxh3_64(frame.data)
    if actual != c.data_hash:
        raise FormatError(f"{what}: data hashes to {hash_to_string(actual)}, the header says {hash_to_string(c.data_hash)}")
    c.weights = split_data(layout, frame.data, what)
    return c
