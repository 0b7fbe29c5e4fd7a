"""The training recipe JSON of docs/models.md: optimizer, batch size, steps, samples per round, seed."""

from __future__ import annotations

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


def _fail(why: str):
    raise ArchitectureError(f"recipe: {why}")


def parse_recipe(doc: dict) -> Recipe:
    """Parses a recipe document (from json.loads), filling Keras' defaults; ArchitectureError when invalid."""
    known = {"optimizer", "batch_size", "steps", "samples_per_round", "seed", "loss", "freeze"}
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
    )
    if not all(isinstance(n, str) and n for n in r.freeze):
        _fail("'freeze' must be a list of layer names")
    if r.batch_size <= 0 or r.steps <= 0 or r.samples_per_round < 0:
        _fail("batch_size and steps must be > 0 and samples_per_round >= 0")
    return r
