"""A participant's steps on local files: train a downloaded package into a contribution, evaluate."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from .architecture import parse_architecture
from .contribution import ContributionFile, build_contribution
from .data import Dataset, load_data
from .package import ModelPackage
from .recipe import parse_recipe


@dataclass
class TrainedRound:
    contribution: bytes  # the contribution file
    num_samples: int
    loss: float
    accuracy: float


def load_data_for(package: ModelPackage, sources: Sequence[str], labels_file: Optional[str] = None) -> Dataset:
    """The data sources converted to the package's input shape, labelled with its labels."""
    arch = parse_architecture(package.architecture)
    return load_data(sources, arch.input_shape, package.labels, labels_file)


def round_seed(package: ModelPackage, seed: Optional[int], round_index: int) -> int:
    """--seed N + round, else the recipe's seed + round, else a fresh random seed."""
    recipe = parse_recipe(package.recipe)
    if seed is not None:
        return seed + round_index
    if recipe.seed:
        return recipe.seed + round_index
    return secrets.randbits(63)


def train_package(
    package: ModelPackage,
    data: Dataset,
    seed: int,
    participant: str = "",
    progress: Optional[Callable[[int, int, float], None]] = None,
    threads: int = 0,
) -> TrainedRound:
    """Trains one round from the package's weights with its recipe; the contribution file of the result."""
    from .training import train_round  # torch is needed from here on

    arch = parse_architecture(package.architecture)
    recipe = parse_recipe(package.recipe).for_version(package.version)  # its learning-rate schedule applied
    result = train_round(arch, recipe, package.weights, data, seed=seed, progress=progress, threads=threads)
    trainable = {t.name for t in arch.trainable_parameters()}  # train_round applied the recipe's freeze
    kept = [t.name in trainable for t in package.layout]
    contribution = ContributionFile(
        model=package.name,
        base_version=package.version,
        participant=participant or os.environ.get("USER", "python-participant"),
        num_samples=result.samples,
        metrics={"loss": result.loss, "accuracy": result.accuracy},
        # Only the trainable tensors leave (all of them unless layers are frozen).
        layout=[t for t, trainable in zip(package.layout, kept) if trainable],
        weights=[w for w, trainable in zip(result.weights, kept) if trainable],
    )
    return TrainedRound(build_contribution(contribution), result.samples, result.loss, result.accuracy)
