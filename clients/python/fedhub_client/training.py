"""One training round with the model's recipe (docs/models.md, "Training round"), in PyTorch.

1. a fresh random sample of ``samples_per_round`` distinct samples (all when 0 or fewer);
2. ``steps`` optimizer steps of ``batch_size``: each pass over the sample is a fresh shuffle
   cut into whole batches, the left-overs wait for a later pass;
3. the trained weights, the number of distinct samples trained on (FedAvg's n), and the mean
   loss and accuracy over the round. A non-finite loss stops the round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .architecture import Architecture
from .data import Dataset
from .errors import FedhubError
from .optimizers import make_optimizer
from .recipe import Recipe
from .torch_model import build_model, pixels_to_input


@dataclass
class RoundResult:
    weights: List[np.ndarray]  # the hub's layouts, model order
    samples: int  # distinct samples trained on
    loss: float
    accuracy: float


class BatchSchedule:
    """Batches over a sample: a fresh shuffle each pass, whole batches only, distinct samples counted."""

    def __init__(self, sample: np.ndarray, batch_size: int, rng: np.random.Generator):
        self.sample, self.rng = sample, rng
        self.batch = min(batch_size, len(sample))
        self.order = np.arange(len(sample))
        self.pos = len(sample)
        self.seen = np.zeros(len(sample), dtype=bool)

    def next(self) -> np.ndarray:
        if self.pos + self.batch > len(self.order):
            # left-overs of the last pass come first in some later shuffle
            self.rng.shuffle(self.order)
            self.pos = 0
        positions = self.order[self.pos : self.pos + self.batch]
        self.pos += self.batch
        self.seen[positions] = True
        return self.sample[positions]

    @property
    def distinct(self) -> int:
        return int(self.seen.sum())


def train_round(
    arch: Architecture,
    recipe: Recipe,
    weights: List[np.ndarray],
    data: Dataset,
    seed: Optional[int] = None,
    progress: Optional[Callable[[int, int, float], None]] = None,
    threads: int = 0,
) -> RoundResult:
    """Trains ``weights`` for one round on ``data``; ``progress(step, steps, mean loss)`` every 10 steps and at the end."""
    if len(data) == 0:
        raise FedhubError("the training data holds no samples")
    if threads > 0:
        torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    torch.manual_seed(int(rng.integers(0, 2**63 - 1)))
    n = len(data)
    count = n if recipe.samples_per_round == 0 else min(recipe.samples_per_round, n)
    sample = rng.choice(n, size=count, replace=False) if count < n else rng.permutation(n)
    schedule = BatchSchedule(sample, recipe.batch_size, rng)
    arch.freeze(recipe.freeze)
    net = build_model(arch, weights)
    net.train()
    net.freeze_frozen()  # frozen layers: no gradient, not in the optimizer (no weight decay either)
    optimizer = make_optimizer(recipe.optimizer, recipe.options, [p for p in net.parameters() if p.requires_grad])
    labels = torch.from_numpy(data.labels.astype(np.int64))
    loss_sum, correct, trained = 0.0, 0, 0
    for step in range(recipe.steps):
        idx = schedule.next()
        x = pixels_to_input(data.pixels[idx])
        y = labels[idx]
        logits = net(x)
        loss = F.cross_entropy(logits, y)
        value = float(loss.detach())
        if not np.isfinite(value):
            raise FedhubError(f"the loss became {value} at step {step + 1}: lower the learning rate")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += value * len(idx)
        correct += int((logits.detach().argmax(1) == y).sum())
        trained += len(idx)
        if progress and ((step + 1) % 10 == 0 or step + 1 == recipe.steps):
            progress(step + 1, recipe.steps, loss_sum / trained)
    return RoundResult(net.hub_weights(), schedule.distinct, loss_sum / trained, correct / trained)


@torch.no_grad()
def predict(arch: Architecture, weights: List[np.ndarray], pixels: np.ndarray, batch: int = 256) -> np.ndarray:
    """Logits [n, labels] of uint8 samples in inference mode (dropout off)."""
    net = build_model(arch, weights).eval()
    out = [net(pixels_to_input(pixels[i : i + batch])).numpy() for i in range(0, len(pixels), batch)]
    return np.concatenate(out) if out else np.zeros((0, arch.outputs), dtype=np.float32)


def evaluate(arch: Architecture, weights: List[np.ndarray], data: Dataset) -> dict:
    """Accuracy and mean softmax cross-entropy on ``data``."""
    logits = torch.from_numpy(predict(arch, weights, data.pixels))
    y = torch.from_numpy(data.labels.astype(np.int64))
    return {
        "samples": len(data),
        "accuracy": float((logits.argmax(1) == y).double().mean()),
        "loss": float(F.cross_entropy(logits, y)),
    }
