"""ONNX in and out (issue 13, items 2, 4 and 6): a ``torch.nn`` CNN built and briefly trained here (conv,
relu, maxpool, a second conv, flatten, linear, relu, linear) is exported with ``torch.onnx.export`` and
imported with ``fl-manager create --onnx`` into a real hub; the hub's version 0 gives PyTorch's own logits on
the 10,000 Fashion-MNIST test images (within 1e-4) and the same accuracy, for both ways PyTorch writes a
flatten (``x.view(x.size(0), -1)``: Shape/Gather/Unsqueeze/Concat/Reshape; ``torch.flatten``: Flatten). The
version downloaded ``--format onnx`` (fl-manager and fl-participant) passes ``onnx.checker.check_model``,
its initializers are PyTorch's state_dict bit for bit, and it imports back to identical weights. What fedhub
does not train is refused naming the node."""

import gzip
import json
import os
import unittest

import numpy as np
import onnx
import onnx.numpy_helper
import torch

from hubtools import FASHION, REFERENCE, SRC, Hub, need_programs
from test_package import reference_logits

FMNIST_LABELS = os.path.join(SRC, "config", "fashion-mnist-labels.txt")
RECIPE = {"steps": 5}
# Cnn as fedhub's architecture, its layers named as the module's (for --weights with a state_dict).
CNN_ARCH = {"input": [28, 28, 1], "layers": [
    {"type": "conv2d", "name": "conv", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "conv2d", "name": "conv_1", "filters": 16, "kernel_size": 3, "activation": "relu"},
    {"type": "maxpool2d", "pool_size": 2}, {"type": "flatten"},
    {"type": "dense", "name": "dense", "units": 32, "activation": "relu"},
    {"type": "dense", "name": "dense_1", "units": 10}]}


class Cnn(torch.nn.Module):
    """conv (padding 1: Keras's 'same'), relu, maxpool, conv ('valid'), relu, maxpool, flatten, linear, relu,
    linear: 28x28 -> 28 -> 14 -> 12 -> 6, 16*6*6 = 576 inputs of the first linear."""

    def __init__(self, view: bool = True):
        super().__init__()
        self.view = view
        self.conv = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.conv_1 = torch.nn.Conv2d(8, 16, 3)
        self.pool = torch.nn.MaxPool2d(2)
        self.dense = torch.nn.Linear(16 * 6 * 6, 32)
        self.dense_1 = torch.nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        x = self.pool(torch.relu(self.conv_1(x)))
        x = x.view(x.size(0), -1) if self.view else torch.flatten(x, 1)
        return self.dense_1(torch.relu(self.dense(x)))


def idx_images(prefix: str):
    with gzip.open(f"{prefix}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return images, labels


def export(net: torch.nn.Module, path: str):
    torch.onnx.export(net, torch.zeros(1, 1, 28, 28), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})


class OnnxTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_programs(REFERENCE)
        cls.hub = Hub()
        cls.key = cls.hub.add_key("py-onnx")
        with open(cls.hub.path("recipe.json"), "w") as f:
            json.dump(RECIPE, f)
        # A few hundred Adam steps: accuracy well above chance, so that "the same accuracy" says something.
        torch.manual_seed(13)
        torch.set_num_threads(2)
        images, labels = idx_images(f"{FASHION}/train")
        x = torch.from_numpy(images[:12800].astype(np.float32) / 255.0)
        y = torch.from_numpy(labels[:12800])
        cls.net = Cnn()
        opt = torch.optim.Adam(cls.net.parameters(), lr=2e-3)
        for step in range(200):
            batch = slice((step * 64) % 12800, (step * 64) % 12800 + 64)
            opt.zero_grad()
            torch.nn.functional.cross_entropy(cls.net(x[batch]), y[batch]).backward()
            opt.step()
        cls.net.eval()
        cls.state = {k: v.detach().numpy().copy() for k, v in cls.net.state_dict().items()}

    @classmethod
    def tearDownClass(cls):
        cls.hub.close()

    def create(self, name: str, onnx_path: str, check=True):
        return self.hub.manager("create", name, "--onnx", onnx_path, "--labels", FMNIST_LABELS, "--recipe",
                                self.hub.path("recipe.json"), check=check)

    def download(self, model: str, fmt: str = "package") -> str:
        out = self.hub.path(f"{model}.{ {'package': 'fhmp'}.get(fmt, fmt) }")
        self.hub.participant("download", "--hub", self.hub.caf, "--key", self.key, "--model", model, "--out", out,
                             "--format", fmt, "--quiet")
        return out

    def assert_same_as_torch(self, model: str, net: torch.nn.Module):
        package = self.download(model)
        pixels, labels, logits = reference_logits(package, f"idx:{FASHION}/t10k", None, package + ".logits")
        self.assertEqual(len(labels), 10000)
        x = torch.from_numpy(pixels.reshape(len(labels), 28, 28, 1).transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
        with torch.no_grad():
            mine = net(x).numpy()
        diff = float(np.abs(mine - logits).max())
        self.assertLess(diff, 1e-4, f"max abs difference of logits {diff}")
        self.assertGreater(float(np.abs(logits).max()), 1e-1)
        # Equal accuracy but for samples whose two best logits are within the logits' tolerance.
        top2 = np.sort(logits, axis=1)[:, -2:]
        ties = int((top2[:, 1] - top2[:, 0] < 2e-4).sum())
        mine_right, hub_right = int((mine.argmax(1) == labels).sum()), int((logits.argmax(1) == labels).sum())
        self.assertLessEqual(abs(mine_right - hub_right), ties, f"{mine_right} vs {hub_right} correct, {ties} near-ties")
        self.assertGreater(hub_right / len(labels), 0.6)
        print(f"{model}: hub accuracy {hub_right / len(labels):.4f}, PyTorch {mine_right / len(labels):.4f}, "
              f"max |logit difference| {diff:.2e}")
        return hub_right / len(labels)

    def test_a_torch_cnn_imported_gives_torchs_logits(self):
        for view in (True, False):  # Shape/Gather/Unsqueeze/Concat/Reshape, and Flatten
            net = Cnn(view).eval()
            net.load_state_dict({k: torch.from_numpy(v) for k, v in self.state.items()})
            path = self.hub.path(f"cnn-{view}.onnx")
            export(net, path)
            ops = [n.op_type for n in onnx.load(path).graph.node]
            self.assertIn("Reshape" if view else "Flatten", ops)
            name = f"cnn_{'view' if view else 'flatten'}"
            r = self.create(name, path)
            self.assertIn(f"its weights from {path}", r.stdout)
            self.assert_same_as_torch(name, net)
        status = json.loads(self.hub.manager("--json", "list").stdout)
        self.assertEqual({m["name"]: m["parameters"] for m in status}["cnn_view"],
                         sum(v.size for v in self.state.values()))

    def test_the_onnx_download_checks_and_reads_back_to_identical_weights(self):
        path = self.hub.path("cnn-rt.onnx")
        export(self.net, path)
        self.create("cnn_rt", path)
        out = self.hub.path("cnn_rt-manager.onnx")
        self.hub.manager("download", "cnn_rt", "--version", "0", "--out", out, "--format", "onnx")
        for exported in (out, self.download("cnn_rt", "onnx")):
            m = onnx.load(exported)
            onnx.checker.check_model(m, full_check=True)
            self.assertEqual([o.version for o in m.opset_import if o.domain == ""], [13])
            self.assertEqual([n.op_type for n in m.graph.node],
                             ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm"])
            # The initializers are PyTorch's state_dict, bit for bit (fedhub's kernels transposed back,
            # the first dense's columns back in (c, h, w) order), and load into the module as they are.
            inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
            self.assertEqual(sorted(inits), sorted(self.state))
            for k, v in self.state.items():
                self.assertEqual(inits[k].dtype, np.float32)
                np.testing.assert_array_equal(inits[k], v, err_msg=k)
            meta = {p.key: p.value for p in m.metadata_props}
            self.assertEqual(meta["fedhub.model"], "cnn_rt")
            self.assertEqual(meta["fedhub.version"], "0")
            self.assertEqual(meta["fedhub.labels"].split("\n")[1], "Trouser")
        # Imported again: the same tensors (names, shapes, values) as the model it came from.
        self.create("cnn_rt2", out)
        first, second = np.load(self.download("cnn_rt", "npz")), np.load(self.download("cnn_rt2", "npz"))
        self.assertEqual(sorted(first.files), sorted(second.files))
        self.assertEqual(len(first.files), 8)
        for k in first.files:
            self.assertEqual(first[k].shape, second[k].shape, k)
            self.assertTrue(np.array_equal(first[k], second[k]), k)
        # The exported graph runs in PyTorch's terms: the same module with its initializers as state_dict.
        net = Cnn().eval()
        net.load_state_dict({k: torch.from_numpy(v) for k, v in inits.items()})
        self.assert_same_as_torch("cnn_rt2", net)

    def test_a_state_dict_with_layout_torch_gives_the_onnx_files_weights(self):
        """The same CNN's state_dict through --weights --layout torch (issue 13, item 1): the first linear's
        inputs are reordered from (c, h, w) as the ONNX import reorders them, and the torch export of the
        version is the state_dict again."""
        path = self.hub.path("cnn-sd.onnx")
        export(self.net, path)
        self.create("cnn_sd_onnx", path)
        arch, npz = self.hub.path("cnn.arch.json"), self.hub.path("cnn-sd.npz")
        with open(arch, "w") as f:
            json.dump(CNN_ARCH, f)
        np.savez(npz, **self.state)
        self.hub.manager("create", "cnn_sd", "--arch", arch, "--labels", FMNIST_LABELS, "--recipe",
                         self.hub.path("recipe.json"), "--weights", npz, "--layout", "torch")
        from_onnx, from_npz = np.load(self.download("cnn_sd_onnx", "npz")), np.load(self.download("cnn_sd", "npz"))
        self.assertEqual(sorted(from_onnx.files), sorted(from_npz.files))
        for k in from_onnx.files:
            self.assertTrue(np.array_equal(from_onnx[k], from_npz[k]), k)
        out = self.hub.path("cnn_sd-torch.npz")
        self.hub.manager("download", "cnn_sd", "--out", out, "--format", "npz", "--layout", "torch")
        back = np.load(out)
        self.assertEqual(sorted(back.files), sorted(self.state))
        for k, v in self.state.items():
            np.testing.assert_array_equal(back[k], v, err_msg=k)
        self.assert_same_as_torch("cnn_sd", self.net)

    def test_what_fedhub_does_not_train_is_refused_by_node(self):
        class Strided(Cnn):
            def __init__(self):
                super().__init__()
                self.conv = torch.nn.Conv2d(1, 8, 3, padding=1, stride=2)  # 28 -> 14: not Keras's 'same'
                self.dense = torch.nn.Linear(16 * 2 * 2, 32)

        class Sigmoid(Cnn):
            def forward(self, x):
                return torch.sigmoid(super().forward(x))

        cases = [(Strided(), "node 0 '/conv/Conv' (Conv): pads [1,1,1,1] are neither 0 (Keras's 'valid') nor Keras's"
                             " 'same' for a 28x28 input, kernel 3x3 and strides [2,2], which is [0,0,1,1]"),
                 (Sigmoid(), "(Sigmoid): 'Sigmoid' is not an operation fedhub trains")]
        for i, (net, message) in enumerate(cases):
            path = self.hub.path(f"refused-{i}.onnx")
            export(net.eval(), path)
            r = self.create(f"refused_{i}", path, check=False)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(f"{path} (onnx): ", r.stderr)
            self.assertIn(message, r.stderr)
        r = self.hub.manager("create", "both", "--onnx", path, "--arch", path, "--labels", FMNIST_LABELS,
                             "--recipe", self.hub.path("recipe.json"), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("leave out --arch", r.stderr)
        with open(self.hub.path("truncated.onnx"), "wb") as f:
            f.write(open(self.hub.path("refused-0.onnx"), "rb").read()[:500])
        r = self.create("truncated", self.hub.path("truncated.onnx"), check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("not an ONNX model", r.stderr)
        listed = [m["name"] for m in json.loads(self.hub.manager("--json", "list").stdout)]
        self.assertFalse([n for n in listed if n.startswith("refused") or n in ("both", "truncated")], listed)


if __name__ == "__main__":
    unittest.main()
