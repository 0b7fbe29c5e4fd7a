#!/usr/bin/env python3
"""numpy peers of bench-merge: a FedAvg weighted average of K float32 vectors of P values.

Usage: numpy_merge.py K P REPS
Prints one line per variant: "numpy <variant> K P best_seconds median_seconds"
(or "numpy n/a <reason>" when numpy cannot be imported). Timings exclude data
generation; every variant gets the same K contributions already in memory, as
a Python framework's server holds them after receiving a round.

Variants:
  average    np.average(stack, axis=0, weights=n)  -- the library's weighted average
  flower     Flower's aggregate(): [layer * n_i] per client, functools.reduce(np.add), / sum(n)
  inplace    acc = zeros; acc += (n_i / N) * x_i  per contribution (streaming, one temporary)
  tensordot  np.tensordot(n / N, stack, axes=1)   -- a BLAS gemv over the stacked matrix
"""
import statistics
import sys
import time
from functools import reduce


def main() -> int:
    if len(sys.argv) != 4:
        print("usage: numpy_merge.py K P REPS", file=sys.stderr)
        return 2
    k, p, reps = (int(a) for a in sys.argv[1:])
    try:
        import numpy as np
    except ImportError as e:  # the bench prints n/a
        print(f"numpy n/a {e}")
        return 0

    rng = np.random.default_rng(1)
    xs = [rng.standard_normal(p, dtype=np.float32) for _ in range(k)]
    stack = np.stack(xs)  # only for the variants that need one (K x P)
    n = np.array([100.0 + 10 * i for i in range(k)])
    total = n.sum()

    def average():
        return np.average(stack, axis=0, weights=n)

    def flower():
        weighted = [x * ni for x, ni in zip(xs, n)]
        return reduce(np.add, weighted) / total

    def inplace():
        acc = np.zeros(p, dtype=np.float32)
        for x, ni in zip(xs, n):
            acc += np.float32(ni / total) * x
        return acc

    def tensordot():
        return np.tensordot((n / total).astype(np.float32), stack, axes=1)

    ref = inplace()
    for name, fn in (("average", average), ("flower", flower), ("inplace", inplace), ("tensordot", tensordot)):
        out = fn()
        if not np.allclose(out, ref, atol=1e-4):
            print(f"numpy {name}: result differs from the in-place average", file=sys.stderr)
            return 1
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        print(f"numpy {name} {k} {p} {min(times):.6f} {statistics.median(times):.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
