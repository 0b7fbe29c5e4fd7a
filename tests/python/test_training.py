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
from fedhub_client.package import load_model_package
from fedhub_client.recipe import parse_recipe
from fedhub_client.errors import ArchitectureError
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
        return self.both_rounds_of(name)

    def both_rounds_of(self, name: str, tag: str = ""):
        """The C++ and the Python participant's round from the model's current version."""
        package = self.hub.path(f"{name}{tag}.fhmp")
        self.hub.participant("download", "--hub", self.hub.caf, "--key", self.key, "--model", name, "--out", package,
                             "--quiet")
        cpp, py = self.hub.path(f"{name}{tag}.cpp"), self.hub.path(f"{name}{tag}.py")
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

    def test_the_learning_rate_schedule_applies_at_the_packages_version(self):
        # Both trainers train version 0 at the optimizer's rate and version 1 at the schedule's,
        # a hundred times smaller: they agree on each, and version 1's round moves the weights
        # far less. A trainer that ignored the schedule would disagree on version 1.
        cpp0, py0 = self.both_rounds("mlp-schedule", os.path.join(SRC, "config", "fmnist-mlp.arch.json"),
                                     {"name": "adam", "learning_rate": 0.01},
                                     learning_rate_schedule=[{"from_version": 1, "learning_rate": 0.0001}])
        self.check_same(cpp0, py0, 1e-5)
        self.hub.participant("upload", "--hub", self.hub.caf, "--key", self.key,
                             "--weights", self.hub.path("mlp-schedule.cpp"))
        self.hub.manager("merge", "mlp-schedule", "--base", "0")
        cpp1, py1 = self.both_rounds_of("mlp-schedule", "-v1")
        self.assertEqual(cpp1.base_version, 1)
        self.check_same(cpp1, py1, 1e-6)
        v0 = load_model_package(self.hub.path("mlp-schedule.fhmp")).weights
        v1 = load_model_package(self.hub.path("mlp-schedule-v1.fhmp")).weights
        moved0 = max(float(np.abs(a - b).max()) for a, b in zip(cpp0.weights, v0))
        moved1 = max(float(np.abs(a - b).max()) for a, b in zip(cpp1.weights, v1))
        self.assertLess(moved1, moved0 / 20, f"version 0 moved {moved0}, version 1 {moved1}")

    def test_a_bad_schedule_is_refused_as_the_hub_refuses_it(self):
        recipe = parse_recipe({"learning_rate_schedule": [{"from_version": 30, "learning_rate": 3e-4},
                                                          {"from_version": 50, "learning_rate": 1e-4}]})
        self.assertEqual([recipe.learning_rate_at(v) for v in (0, 29, 30, 49, 50, 10**6)],
                         [1e-3, 1e-3, 3e-4, 3e-4, 1e-4, 1e-4])
        self.assertEqual(recipe.for_version(31).options["learning_rate"], 3e-4)
        self.assertEqual(recipe.options["learning_rate"], 1e-3)
        for bad, message in [
            ({"from_version": 0, "learning_rate": 0.1}, "learning_rate_schedule[0]: 'from_version' must be an integer >= 1"),
            ({"from_version": 2}, "learning_rate_schedule[0]: 'learning_rate' must be a number > 0"),
            ({"from_version": 2, "learning_rate": 0.1, "every": 2}, "learning_rate_schedule[0]: unknown field 'every'"),
        ]:
            with self.assertRaises(ArchitectureError) as caught:
                parse_recipe({"learning_rate_schedule": [bad]})
            self.assertIn(message, str(caught.exception))
        with self.assertRaises(ArchitectureError) as caught:
            parse_recipe({"learning_rate_schedule": [{"from_version": 5, "learning_rate": 0.1},
                                                     {"from_version": 5, "learning_rate": 0.01}]})
        self.assertIn("learning_rate_schedule[1]: 'from_version' 5 must be greater than the step before's 5",
                      str(caught.exception))


if __name__ == "__main__":
    unittest.main()
