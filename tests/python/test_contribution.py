"""Contribution files written by the Python client are accepted by the hub over CAF
(``fl-participant upload``), and contribution files written by the C++ client read back in
Python with their data_hash verified."""

import json
import os
import unittest

import numpy as np

from fedhub_client.contribution import ContributionFile, contribution_header, read_contribution
from fedhub_client.framing import make_frame
from fedhub_client.package import load_model_package
from fedhub_client.tensors import join_data
from hubtools import FASHION, PYTHON, SRC, Hub, python_env, run

RECIPE = {"optimizer": {"name": "adam", "learning_rate": 0.002}, "batch_size": 32, "steps": 20, "samples_per_round": 640}


class ContributionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub()
        cls.hub.create("fmnist", os.path.join(SRC, "config", "fmnist-mlp.arch.json"),
                       os.path.join(SRC, "config", "fashion-mnist-labels.txt"), RECIPE)
        cls.package = cls.hub.path("fmnist.fhmp")
        cls.hub.participant("download", "--hub", cls.hub.caf, "--key", cls.hub.add_key("downloader"), "--model",
                            "fmnist", "--out", cls.package, "--quiet")

    @classmethod
    def tearDownClass(cls):
        cls.hub.close()

    def python_train(self, out: str, *extra):
        return run([PYTHON, "-m", "fedhub_client", "train", "--in", self.package, "--data", f"idx:{FASHION}/t10k:0,1,2",
                    "--out", out, "--seed", "7", "--participant", "py-org", "--threads", "1", "--json", *extra],
                   env=python_env(), timeout=300)

    def upload(self, key: str, path: str, check=True):
        return self.hub.participant("upload", "--hub", self.hub.caf, "--key", key, "--weights", path, "--json",
                                    check=check)

    def test_python_result_accepted_over_caf(self):
        out = self.hub.path("py.result")
        summary = json.loads(self.python_train(out).stdout)
        self.assertEqual(summary["base_version"], 0)
        self.assertEqual(summary["num_samples"], 640)  # 20 steps of 32 distinct samples, one pass
        c = read_contribution(open(out, "rb").read())
        self.assertEqual((c.model, c.base_version, c.participant, c.num_samples), ("fmnist", 0, "py-org", 640))
        self.assertEqual(set(c.metrics), {"loss", "accuracy"})
        start = load_model_package(self.package)
        self.assertEqual([t.name for t in c.layout], [t.name for t in start.layout])
        self.assertFalse(all(np.array_equal(a, b) for a, b in zip(c.weights, start.weights)), "nothing was trained")
        # fl-participant evaluate reads it with the package it came from (the C++ reader's checks).
        run([os.path.join(os.environ.get("FEDHUB_BIN_DIR", ""), "fl-participant"), "evaluate", "--in", out,
             "--package", self.package, "--data", f"idx:{FASHION}/t10k:0,1,2", "--quiet"])
        receipt = json.loads(self.upload(self.hub.add_key("py-org-1"), out).stdout)
        self.assertEqual((receipt["model"], receipt["base_version"], receipt["participant"]), ("fmnist", 0, "py-org-1"))
        status = json.loads(self.hub.manager("status", "fmnist", "--version", "0", "--json").stdout)
        mine = [x for x in status["contributions"] if x["participant"] == "py-org-1"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["num_samples"], 640)
        self.assertAlmostEqual(mine[0]["metrics"]["loss"], summary["loss"], places=6)

    def test_cpp_result_reads_in_python(self):
        out = self.hub.path("cpp.result")
        self.hub.participant("train", "--in", self.package, "--data", f"idx:{FASHION}/t10k:3,4", "--out", out,
                             "--seed", "5", "--quiet")
        c = read_contribution(open(out, "rb").read())  # verifies data_hash with the Python XXH3
        self.assertEqual((c.model, c.base_version), ("fmnist", 0))
        self.assertGreater(c.num_samples, 0)
        self.assertEqual(sum(t.count for t in c.layout), 784 * 64 + 64 + 64 * 10 + 10)

    def test_wrong_hash_refused_by_the_hub(self):
        start = load_model_package(self.package)
        c = ContributionFile("fmnist", 0, "forger", 10, {"loss": 1.0}, start.layout, [w.copy() for w in start.weights])
        data = join_data(c.layout, c.weights)
        forged = make_frame(contribution_header(c, len(data), 12345), data)
        path = self.hub.path("forged.result")
        with open(path, "wb") as f:
            f.write(forged)
        r = self.upload(self.hub.add_key("forger"), path, check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("bad_checksum", r.stdout + r.stderr)

    def test_cli_errors_name_the_problem(self):
        r = run([PYTHON, "-m", "fedhub_client", "train", "--in", self.hub.path("missing.fhmp"), "--data",
                 f"idx:{FASHION}/t10k", "--out", self.hub.path("x")], env=python_env(), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.fhmp", r.stderr)
        r = run([PYTHON, "-m", "fedhub_client", "train", "--in", self.package, "--data", f"idx:{FASHION}/t10k:0,42",
                 "--out", self.hub.path("x")], env=python_env(), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("'42'", r.stderr)
        r = run([PYTHON, "-m", "fedhub_client", "run", "--help"], env=python_env())
        self.assertIn("--rounds", r.stdout)
        r = run([PYTHON, "-m", "fedhub_client", "download", "--model", "fmnist", "--out", self.hub.path("y"),
                 "--hub", "http://127.0.0.1:1"], env=dict(python_env(), FEDHUB_KEY="k"), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("unavailable", r.stderr)
        r = run([PYTHON, "-m", "fedhub_client", "upload", "--weights", self.package, "--key", "k"], env=python_env(),
                check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("'FHCT'", r.stderr)  # a package is not a training result
        r = run([PYTHON, "-m", "fedhub_client", "upload", "--weights", self.package], check=False,
                env={k: v for k, v in python_env().items() if k != "FEDHUB_KEY"})
        self.assertIn("unauthorized", r.stderr)


if __name__ == "__main__":
    unittest.main()
