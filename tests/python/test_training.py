"""A training round in PyTorch against the C++ trainer: with the whole sample in one batch
(``samples_per_round`` 0, ``batch_size`` >= the data) nothing random is left, so both must
reach the same weights after several steps of Adam (Keras' epsilon) or SGD with Nesterov
momentum and decoupled weight decay — the loss, its gradient and the update rules agree
(an epsilon of 1e-3 makes where Adam adds it, to sqrt(v) as Keras does or to sqrt(v_hat) as
torch.optim.Adam does, differ by far more than the tolerance)."""

import json
import os
import unittest

import numpy as np

from fedhub_client.contribution import read_contribution
from hubtools import FASHION, PYTHON, SRC, Hub, python_env, run

DATA = f"idx:{FASHION}/t10k:0,6"  # T-shirt and Shirt: 2,000 images that are easily confused
FULL_BATCH = {"batch_size": 2000, "steps": 6, "samples_per_round": 0}
CNN = {
    "input": [14, 14, 1],
    "layers": [
        {"type": "conv2d", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"},
        {"type": "maxpool2d", "pool_size": 2},
        {"type": "flatten"},
        {"type": "dense", "units": 10},
    ],
}


class TrainingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub()
        cls.key = cls.hub.add_key("trainer")

    @classmethod
    def tearDownClass(cls):
        cls.hub.close()

    def both_rounds(self, name: str, arch_path: str, optimizer: dict, **recipe):
        self.hub.create(name, arch_path, os.path.join(SRC, "config", "fashion-mnist-labels.txt"),
                        dict(FULL_BATCH, optimizer=optimizer, **recipe))
        package = self.hub.path(f"{name}.fhmp")
        self.hub.participant("download", "--hub", self.hub.caf, "--key", self.key, "--model", name, "--out", package,
                             "--quiet")
        cpp, py = self.hub.path(f"{name}.cpp"), self.hub.path(f"{name}.py")
        self.hub.participant("train", "--in", package, "--data", DATA, "--out", cpp, "--seed", "1", "--quiet")
        run([PYTHON, "-m", "fedhub_client", "train", "--in", package, "--data", DATA, "--out", py, "--seed", "1",
             "--threads", "1", "--quiet"], env=python_env(), timeout=300)
        return [read_contribution(open(p, "rb").read()) for p in (cpp, py)]

    def check_same(self, cpp, py, tolerance: float):
        self.assertEqual(cpp.num_samples, py.num_samples)
        self.assertAlmostEqual(cpp.metrics["loss"], py.metrics["loss"], places=4)
        for info, a, b in zip(cpp.layout, cpp.weights, py.weights):
            diff = float(np.abs(a - b).max())
            self.assertLess(diff, tolerance, f"{info.name}: max abs difference {diff}")

    def test_adam_full_batch(self):
        cpp, py = self.both_rounds("mlp-adam", os.path.join(SRC, "config", "fmnist-mlp.arch.json"),
                                   {"name": "adam", "learning_rate": 0.01, "epsilon": 1e-3, "beta_2": 0.99})
        self.check_same(cpp, py, 1e-5)

    def test_sgd_nesterov_weight_decay_on_a_cnn(self):
        arch = self.hub.path("cnn.arch.json")
        with open(arch, "w") as f:
            json.dump(CNN, f)
        cpp, py = self.both_rounds("cnn-sgd", arch, {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9,
                                                      "nesterov": True, "weight_decay": 0.01})
        self.check_same(cpp, py, 1e-5)

    def test_a_frozen_convolution_is_neither_trained_nor_uploaded(self):
        # Issue 13, item 5: the recipe freezes the convolution; both trainers train the head
        # alone (weight decay included) and their results carry it alone, which the hub takes.
        arch = self.hub.path("cnn-frozen.arch.json")
        with open(arch, "w") as f:
            json.dump(CNN, f)
        cpp, py = self.both_rounds("cnn-frozen", arch, {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9,
                                                         "weight_decay": 0.01}, freeze=["conv2d"])
        for result in (cpp, py):
            self.assertEqual([t.name for t in result.layout], ["dense/kernel", "dense/bias"])
        self.check_same(cpp, py, 1e-5)
        out = self.hub.participant("upload", "--hub", self.hub.caf, "--key", self.hub.add_key("py-frozen"),
                                   "--weights", self.hub.path("cnn-frozen.py"), "--json")
        self.assertEqual(json.loads(out.stdout)["model"], "cnn-frozen")


if __name__ == "__main__":
    unittest.main()
