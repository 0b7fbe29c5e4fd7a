"""The training recipe JSON of docs/models.md: optimizer, batch size, steps, samples per round, seed,
frozen layers and the learning-rate schedule over versions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .errors import ArchitectureError

_ADAM = {"learning_rate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7, "weight_decay": 0.0}
_SGD = {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}
_ALIASES = {"beta_1": "beta1", "beta_2": "beta2"}
_LOSSES = ("softmax_cross_entropy", "categorical_crossentropy", "sparse_categorical_crossentropy")


@dataclass
class Recipe:
    """How one round is trained (Keras semantics, fresh optimizer state every round)."""

    optimizer: str = "adam"
    options: dict = field(default_factory=lambda: dict(_ADAM))
    batch_size: int = 32
    steps: int = 200
    samples_per_round: int = 6400
    seed: int = 0
    freeze: list = field(default_factory=list)  # layer names not trained
    # [(from_version, learning_rate)], from_version strictly increasing from 1.
    learning_rate_schedule: list = field(default_factory=list)

    def learning_rate_at(self, base_version: int) -> float:
        """The learning rate for training ``base_version``: the last schedule step at or before it."""
        lr = self.options["learning_rate"]
        for from_version, step_lr in self.learning_rate_schedule:
            if from_version <= base_version:
                lr = step_lr
        return lr

    def for_version(self, base_version: int) -> "Recipe":
        """This recipe with the optimizer's learning rate of ``base_version`` (the C++ Recipe::for_version)."""
        options = dict(self.options, learning_rate=self.learning_rate_at(base_version))
        return dataclasses.replace(self, options=options)


def _fail(why: str):
    raise ArchitectureError(f"recipe: {why}")


def parse_recipe(doc: dict) -> Recipe:
    """Parses a recipe document (from json.loads), filling Keras' defaults; ArchitectureError when invalid."""
    known = {"optimizer", "batch_size", "steps", "samples_per_round", "seed", "loss", "freeze", "learning_rate_schedule"}
    unknown = sorted(set(doc) - known)
    if unknown:
        _fail(f"unknown field(s) {', '.join(unknown)}")
    opt = doc.get("optimizer", "adam")
    if isinstance(opt, str):
        opt = {"name": opt}
    name = opt.get("name", "adam")
    defaults = {"adam": _ADAM, "sgd": _SGD}.get(name)
    if defaults is None:
        _fail(f"unknown optimizer '{name}' (use adam or sgd)")
    options = dict(defaults)
    for key, value in opt.items():
        if key == "name":
            continue
        key = _ALIASES.get(key, key)
        if key not in options:
            _fail(f"optimizer {name} has no field '{key}'")
        options[key] = value
    if doc.get("loss", _LOSSES[0]) not in _LOSSES:
        _fail(f"unknown loss '{doc['loss']}' (only softmax_cross_entropy)")
    r = Recipe(
        optimizer=name,
        options=options,
        batch_size=int(doc.get("batch_size", 32)),
        steps=int(doc.get("steps", 200)),
        samples_per_round=int(doc.get("samples_per_round", 6400)),
        seed=int(doc.get("seed", 0)),
        freeze=list(doc.get("freeze", [])),
        learning_rate_schedule=_parse_schedule(doc.get("learning_rate_schedule", [])),
    )
    if not all(isinstance(n, str) and n for n in r.freeze):
        _fail("'freeze' must be a list of layer names")
    if r.batch_size <= 0 or r.steps <= 0 or r.samples_per_round < 0:
        _fail("batch_size and steps must be > 0 and samples_per_round >= 0")
    return r


def _parse_schedule(steps) -> list:
    """The "learning_rate_schedule" list, checked as model/recipe.cpp checks it."""
    if not isinstance(steps, list):
        _fail("'learning_rate_schedule' must be a list of {\"from_version\": V, \"learning_rate\": LR}")
    out = []
    for i, step in enumerate(steps):
        where = f"learning_rate_schedule[{i}]"
        if not isinstance(step, dict):
            _fail(f"{where} must be an object {{\"from_version\": V, \"learning_rate\": LR}}")
        unknown = sorted(set(step) - {"from_version", "learning_rate"})
        if unknown:
            _fail(f"{where}: unknown field '{unknown[0]}'")
        v, lr = step.get("from_version"), step.get("learning_rate")
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            _fail(f"{where}: 'from_version' must be an integer >= 1")
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not 0 < lr <= 1e6:
            _fail(f"{where}: 'learning_rate' must be a number > 0 and <= 1e6, got {lr!r}")
        if out and v <= out[-1][0]:
            _fail(f"{where}: 'from_version' {v} must be greater than the step before's {out[-1][0]}")
        out.append((v, float(lr)))
    return out
