"""Both doors together: a C++ participant (``fl-participant run`` over CAF) and a Python participant
(``python3 -m fedhub_client run`` over HTTP) contribute to the same model; every merge uses both
and the merged model's accuracy rises. Also the HTTP client's basics: the package is the same bytes
as over CAF, refusals become HubError with the hub's code."""

import json
import os
import unittest

from fedhub_client.errors import HubError
from fedhub_client.http_client import HubClient
from fedhub_client.package import read_model_package
from hubtools import BIN, FASHION, PYTHON, SRC, Child, Hub, python_env, run

ROUNDS = 3
RECIPE = {"optimizer": {"name": "adam", "learning_rate": 0.002}, "batch_size": 32, "steps": 60, "samples_per_round": 1920}


def http_door_available() -> bool:
    r = run([os.path.join(BIN, "fl-hub"), "--help"], check=False)
    return "--http-port" in r.stdout + r.stderr


class DoorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not http_door_available():
            raise unittest.SkipTest("fl-hub has no --http-port yet (the HTTP door)")
        cls.hub = Hub(http=True)
        cls.hub.create("fmnist", os.path.join(SRC, "config", "fmnist-mlp.arch.json"),
                       os.path.join(SRC, "config", "fashion-mnist-labels.txt"), RECIPE)

    @classmethod
    def tearDownClass(cls):
        cls.hub.close()

    def evaluate(self, version: int) -> float:
        path = self.hub.path(f"eval-{version}.fhmp")
        with open(path, "wb") as f:
            f.write(HubClient(self.hub.http, self.hub.key).download_package("fmnist", version)[0])
        r = self.hub.participant("evaluate", "--in", path, "--data", f"idx:{FASHION}/t10k", "--json", "--quiet")
        return json.loads(r.stdout)["accuracy"]

    def test_a_http_client_basics(self):
        key = self.hub.add_key("py-basics")
        client = HubClient(self.hub.http, key)
        self.assertEqual(client.whoami(), {"name": "py-basics", "role": "participant"})
        self.assertIn("fmnist", [m["name"] for m in client.models()])
        data, version = client.download_package("fmnist")
        self.assertEqual(version, 0)
        caf = self.hub.path("caf.fhmp")
        self.hub.participant("download", "--hub", self.hub.caf, "--key", key, "--model", "fmnist", "--out", caf,
                             "--quiet")
        with open(caf, "rb") as f:
            self.assertEqual(f.read(), data, "the HTTP door's package differs from the CAF door's")
        self.assertEqual(read_model_package(data).name, "fmnist")
        with self.assertRaises(HubError) as e:
            HubClient(self.hub.http, "not-a-key").models()
        self.assertEqual((e.exception.code, e.exception.status), ("unauthorized", 401))
        with self.assertRaises(HubError) as e:
            client.download_package("no-such-model")
        self.assertEqual(e.exception.code, "unknown_model")
        with self.assertRaises(HubError) as e:
            client.status("fmnist")  # a manager's request
        self.assertEqual(e.exception.code, "forbidden")

    def test_b_cpp_and_python_participants_merge_together(self):
        cpp_key, py_key = self.hub.add_key("org-cpp"), self.hub.add_key("org-py")
        before = self.evaluate(0)
        watch = Child([os.path.join(BIN, "fl-manager"), "--hub", self.hub.caf, "--key", self.hub.key, "watch", "fmnist",
                       "--merge-at", "2", "--versions", str(ROUNDS)])
        cpp = Child([os.path.join(BIN, "fl-participant"), "run", "--hub", self.hub.caf, "--key", cpp_key, "--model",
                     "fmnist", "--data", f"idx:{FASHION}/train:0,1,2,3,4", "--rounds", str(ROUNDS), "--quiet"])
        py = Child([PYTHON, "-m", "fedhub_client", "run", "--hub", self.hub.http, "--model", "fmnist", "--data",
                    f"idx:{FASHION}/train:5,6,7,8,9", "--rounds", str(ROUNDS), "--threads", "1", "--wait", "300"],
                   env=dict(python_env(), FEDHUB_KEY=py_key))
        try:
            self.assertEqual(py.wait(600), 0, py.output())
            self.assertEqual(cpp.wait(600), 0, cpp.output())
            self.assertEqual(watch.wait(600), 0, watch.output())
        finally:
            for child in (py, cpp, watch):
                child.stop()
        self.assertIn(f"contributed {ROUNDS} round(s) to 'fmnist'", py.output())
        manager = HubClient(self.hub.http, self.hub.key)
        status = manager.status("fmnist")
        self.assertEqual(status["current_version"], ROUNDS)
        for v in range(ROUNDS):
            version = manager.status("fmnist", v)
            self.assertEqual(sorted(c["participant"] for c in version["contributions"]), ["org-cpp", "org-py"],
                             f"version {v}'s contributions")
            made = [x for x in status["versions"] if x["version"] == v + 1][0]
            self.assertEqual(made["contributions"], 2, f"version {v + 1} did not merge both")
        after = self.evaluate(ROUNDS)
        print(f"\naccuracy on t10k: version 0 {before:.4f}, version {ROUNDS} {after:.4f}", flush=True)
        # Each side holds five of the ten classes, so a model of one side alone
        # scores at most 0.5 on t10k (1,000 images per class): only the merge
        # of both can pass it. (Measured: about 0.60 in the native build,
        # 0.55 in make asan's portable one.)
        self.assertGreater(after, 0.5, f"accuracy {before:.3f} -> {after:.3f}")
        self.assertGreater(after, before + 0.3, f"accuracy {before:.3f} -> {after:.3f}")


if __name__ == "__main__":
    unittest.main()
