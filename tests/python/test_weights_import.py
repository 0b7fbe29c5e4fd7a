"""`fl-manager create --weights` with weights from PyTorch (issue 13, items 1 and 4): a ``torch.nn`` MLP
built here, its ``state_dict`` saved by numpy (.npz) and as safetensors (written here: torch 1.13
has no safetensors writer) in PyTorch's layout, imported with ``--layout torch``; the hub's version 0
gives PyTorch's own logits on the same Fashion-MNIST images (within 1e-4) and the same accuracy. A
fedhub package is accepted as initial weights too, and a file that does not fit is refused naming
each tensor. The other way: a merged version downloaded ``--format safetensors --layout torch`` (and
npz) loads into the same ``torch.nn`` module with ``load_state_dict`` (a small safetensors reader
here) and gives the hub's accuracy."""

import json
import os
import struct
import unittest

import numpy as np
import torch

from hubtools import FASHION, REFERENCE, SRC, Hub, need_programs
from test_package import reference_logits

FMNIST_LABELS = os.path.join(SRC, "config", "fashion-mnist-labels.txt")
MLP = os.path.join(SRC, "config", "fmnist-mlp.arch.json")
RECIPE = {"steps": 5}


class Mlp(torch.nn.Module):
    """config/fmnist-mlp.arch.json in PyTorch, its modules named as the architecture's layers."""

    def __init__(self):
        super().__init__()
        self.dense = torch.nn.Linear(784, 64)
        self.dense_1 = torch.nn.Linear(64, 10)

    def forward(self, x):
        return self.dense_1(torch.relu(self.dense(x.flatten(1))))


def write_safetensors(path: str, tensors: dict):
    header, data, at = {}, b"", 0
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [at, at + len(raw)]}
        data += raw
        at += len(raw)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def read_safetensors(path: str) -> dict:
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack_from("<Q", raw)
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", t
        begin, end = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[begin:end], "<f4").reshape(t["shape"]).copy())
    return out, header.get("__metadata__", {})


class WeightsImportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_programs(REFERENCE)
        cls.hub = Hub()
        cls.key = cls.hub.add_key("py-importer")
        torch.manual_seed(5)
        cls.net = Mlp().eval()
        cls.state = {k: v.detach().numpy() for k, v in cls.net.state_dict().items()}

    @classmethod
    def tearDownClass(cls):
        cls.hub.close()

    def download(self, model: str) -> str:
        out = self.hub.path(f"{model}.fhmp")
        self.hub.participant("download", "--hub", self.hub.caf, "--key", self.key, "--model", model, "--out", out,
                             "--quiet")
        return out

    def check_same_as_torch(self, model: str):
        package = self.download(model)
        pixels, labels, logits = reference_logits(package, f"idx:{FASHION}/t10k", None, package + ".logits")
        self.assertEqual(len(labels), 10000)
        x = torch.from_numpy(pixels.reshape(len(labels), 1, 28, 28).astype(np.float32) / 255.0)
        with torch.no_grad():
            mine = self.net(x).numpy()
        diff = float(np.abs(mine - logits).max())
        self.assertLess(diff, 1e-4, f"max abs difference of logits {diff}")
        self.assertGreater(float(np.abs(logits).max()), 1e-2)
        self.assert_same_accuracy(mine, logits, labels)

    def assert_same_accuracy(self, mine, logits, labels):
        """Equal accuracy but for samples whose two best logits are within the logits' tolerance (a tie
        either side may break differently)."""
        top2 = np.sort(logits, axis=1)[:, -2:]
        ties = int((top2[:, 1] - top2[:, 0] < 2e-4).sum())
        differ = abs(int((mine.argmax(1) == labels).sum()) - int((logits.argmax(1) == labels).sum()))
        self.assertLessEqual(differ, ties, f"{differ} more or fewer correct, {ties} near-ties")

    def test_an_npz_of_a_state_dict_in_torch_layout(self):
        path = self.hub.path("mlp.npz")
        np.savez(path, **self.state)
        self.hub.create("from_npz", MLP, FMNIST_LABELS, RECIPE, "--weights", path, "--layout", "torch")
        self.check_same_as_torch("from_npz")

    def test_safetensors_and_a_compressed_npz(self):
        path = self.hub.path("mlp.safetensors")
        write_safetensors(path, self.state)
        self.hub.create("from_st", MLP, FMNIST_LABELS, RECIPE, "--weights", path, "--layout", "torch")
        self.check_same_as_torch("from_st")
        packed = self.hub.path("mlp-c.npz")
        np.savez_compressed(packed, **self.state)
        self.hub.create("from_npzc", MLP, FMNIST_LABELS, RECIPE, "--weights", packed, "--layout", "torch")
        self.check_same_as_torch("from_npzc")

    def test_a_fedhub_package_and_files_that_do_not_fit(self):
        path = self.hub.path("mlp2.npz")
        np.savez(path, **self.state)
        self.hub.create("base", MLP, FMNIST_LABELS, RECIPE, "--weights", path, "--layout", "torch")
        package = self.download("base")
        self.hub.create("copy", MLP, FMNIST_LABELS, RECIPE, "--weights", package)
        self.check_same_as_torch("copy")
        # Read as Keras's layout the same file names nothing of the architecture.
        r = self.hub.manager("create", "wrong", "--arch", MLP, "--labels", FMNIST_LABELS, "--recipe",
                             self.hub.path("base.recipe.json"), "--weights", path, check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        for part in ("missing 'dense/kernel' [784,64]", "extra 'dense.weight' [64,784]", "mlp2.npz (npz)"):
            self.assertIn(part, r.stderr)
        # A missing and a mis-shaped tensor in torch's layout.
        broken = dict(self.state)
        del broken["dense_1.bias"]
        broken["dense.weight"] = broken["dense.weight"].T
        np.savez(self.hub.path("broken.npz"), **broken)
        r = self.hub.manager("create", "broken", "--arch", MLP, "--labels", FMNIST_LABELS, "--recipe",
                             self.hub.path("base.recipe.json"), "--weights", self.hub.path("broken.npz"), "--layout",
                             "torch", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("missing 'dense_1/bias' [10] (or 'dense_1.bias')", r.stderr)
        self.assertIn("'dense.weight' is [784,64], the architecture needs [64,784]", r.stderr)
        listed = json.loads(self.hub.manager("--json", "list").stdout)
        self.assertNotIn("broken", [m["name"] for m in listed])

    def test_a_merged_version_exported_for_torch(self):
        path = self.hub.path("mlp3.npz")
        np.savez(path, **self.state)
        self.hub.create("trained", MLP, FMNIST_LABELS, {"steps": 30, "samples_per_round": 960}, "--weights", path,
                        "--layout", "torch")
        v0 = self.download("trained")
        result = self.hub.path("trained.result")
        self.hub.participant("train", "--in", v0, "--data", f"idx:{FASHION}/t10k", "--out", result, "--seed", "4",
                             "--quiet")
        self.hub.participant("upload", "--hub", self.hub.caf, "--key", self.key, "--weights", result, "--quiet")
        self.hub.manager("merge", "trained", "--base", "0")
        hub_eval = json.loads(self.hub.manager("--json", "evaluate", "trained", "--data", f"idx:{FASHION}/t10k").stdout)
        st = self.hub.path("trained.safetensors")
        self.hub.manager("download", "trained", "--out", st, "--format", "safetensors", "--layout", "torch")
        tensors, meta = read_safetensors(st)
        self.assertEqual(meta, {"model": "trained", "version": "1", "layout": "torch"})
        net = Mlp().eval()
        net.load_state_dict(tensors)  # strict: every name and shape of the module
        package = self.download("trained")
        pixels, labels, logits = reference_logits(package, f"idx:{FASHION}/t10k", None, package + ".logits2")
        x = torch.from_numpy(pixels.reshape(len(labels), 1, 28, 28).astype(np.float32) / 255.0)
        with torch.no_grad():
            mine = net(x).numpy()
        diff = float(np.abs(mine - logits).max())
        self.assertLess(diff, 1e-4, f"max abs difference of logits {diff}")
        self.assert_same_accuracy(mine, logits, labels)
        self.assertAlmostEqual(float((logits.argmax(1) == labels).mean()), hub_eval["accuracy"], places=9)
        self.assertGreater(hub_eval["accuracy"], 0.5)
        # The npz export from fl-participant, in Keras's layout: fedhub's own names and shapes.
        npz = self.hub.path("trained.npz")
        self.hub.participant("download", "--hub", self.hub.caf, "--key", self.key, "--model", "trained", "--out", npz,
                             "--format", "npz", "--quiet")
        arrays = np.load(npz)
        self.assertEqual(arrays["dense/kernel"].shape, (784, 64))
        np.testing.assert_array_equal(arrays["dense/kernel"].T, tensors["dense.weight"].numpy())


if __name__ == "__main__":
    unittest.main()
