#!/usr/bin/python3
"""PyTorch reference for bench-train: SIMPLE-CNN-32-32-3 with 20 classes.

Measures, with the given thread count and random data (best of 5 windows),
  - training: forward + backward + Adam (lr 1e-3, eps 1e-7) at batch 32,
  - inference: forward only (torch.no_grad, eval mode) at batch 256,
and prints two machine-readable lines:
  torch train <images per second>
  torch infer <images per second>
Run with /usr/bin/python3 (Debian's python3-torch).
"""
import argparse
import time

import torch
import torch.nn as nn


def simple_cnn(classes):
    return nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64 * 4 * 4, 64), nn.ReLU(),
        nn.Linear(64, classes))


def best_rate(fn, items, seconds, warmup, windows=5):
    """Items per second: the best of `windows` windows of seconds / windows each
    (the least disturbed one on a shared machine)."""
    for _ in range(warmup):
        fn()
    best = 0.0
    for _ in range(windows):
        iterations = 0
        start = time.perf_counter()
        while True:
            fn()
            iterations += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / windows:
                break
        best = max(best, iterations * items / elapsed)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train-batch", type=int, default=32)
    parser.add_argument("--infer-batch", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = simple_cnn(20)
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

    x = torch.rand(args.train_batch, 3, 32, 32)
    y = torch.randint(0, 20, (args.train_batch,))

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    model.train()
    rate = best_rate(train_step, args.train_batch, args.seconds, 10)
    print(f"torch train {rate:.1f}", flush=True)

    xi = torch.rand(args.infer_batch, 3, 32, 32)
    model.eval()

    def infer():
        with torch.no_grad():
            model(xi)

    rate = best_rate(infer, args.infer_batch, args.seconds, 3)
    print(f"torch infer {rate:.1f}", flush=True)


if __name__ == "__main__":
    main()
