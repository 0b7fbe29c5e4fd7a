"""Adam and SGD with Keras' update rules (docs/models.md, "Optimizers").

torch's Adam adds epsilon to sqrt(v_hat); Keras (and the hub) add it to sqrt(v)
before the bias correction, ``w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``.
Weight decay is decoupled: ``w -= lr * wd * w`` before each update, biases included.
"""

from __future__ import annotations

import math

import torch


class KerasAdam(torch.optim.Optimizer):
    """Adam exactly as Keras computes it (epsilon 1e-7 by default)."""

    def __init__(self, params, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-7, weight_decay=0.0):
        super().__init__(params, dict(lr=learning_rate, beta1=beta1, beta2=beta2, eps=epsilon, wd=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, b1, b2, eps, wd = group["lr"], group["beta1"], group["beta2"], group["eps"], group["wd"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["t"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                state["t"] += 1
                t = state["t"]
                alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
                if wd:
                    p.mul_(1 - lr * wd)
                m, v, g = state["m"], state["v"], p.grad
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                p.addcdiv_(m, v.sqrt().add_(eps), value=-alpha)


class KerasSGD(torch.optim.Optimizer):
    """SGD with Keras' momentum (``v = m v - lr g; w += v``) and Nesterov (``w += m v - lr g``)."""

    def __init__(self, params, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, dict(lr=learning_rate, momentum=momentum, nesterov=nesterov, wd=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, mom, wd = group["lr"], group["momentum"], group["wd"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if wd:
                    p.mul_(1 - lr * wd)
                g = p.grad
                if not mom:
                    p.add_(g, alpha=-lr)
                    continue
                v = self.state[p].setdefault("v", torch.zeros_like(p))
                v.mul_(mom).add_(g, alpha=-lr)
                if group["nesterov"]:
                    p.add_(v, alpha=mom).add_(g, alpha=-lr)
                else:
                    p.add_(v)


def make_optimizer(name: str, options: dict, params):
    """The recipe's optimizer over ``params``, with a fresh state."""
    if name == "adam":
        return KerasAdam(params, **options)
    if name == "sgd":
        return KerasSGD(params, **options)
    raise ValueError(f"unknown optimizer '{name}'")
