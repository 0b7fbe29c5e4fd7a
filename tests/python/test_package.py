"""Model packages written by ``fl-participant download`` read by the Python client, and the PyTorch
forward pass against the C++ one on the same images (logits within 1e-4), with the same inputs
(the Python data loader gives the C++ loader's bytes)."""

import json
import os
import struct
import unittest

import numpy as np

from fedhub_client.architecture import parse_architecture
from fedhub_client.data import load_data
from fedhub_client.errors import FormatError
from fedhub_client.package import load_model_package, read_model_package
from fedhub_client.training import predict
from hubtools import FASHION, REFERENCE, SRC, Hub, need_programs

FMNIST_LABELS = os.path.join(SRC, "config", "fashion-mnist-labels.txt")

# Every layer kind and option the hub has: "same" padding with an even kernel and a stride
# (TensorFlow's asymmetric padding), pools with their own strides, a layer without bias, a
# standalone relu, dropout (identity at inference), and a resize to a non-square input.
TRICKY = {
    "input": [20, 24, 3],
    "layers": [
        {"type": "conv2d", "filters": 6, "kernel_size": [4, 3], "strides": 2, "padding": "same", "activation": "relu"},
        {"type": "conv2d", "filters": 5, "kernel_size": 2, "padding": "same", "use_bias": False, "name": "noBias"},
        {"type": "relu"},
        {"type": "maxpool2d", "pool_size": [2, 3], "strides": [1, 2]},
        {"type": "conv2d", "filters": 4, "kernel_size": 3, "strides": [2, 1]},
        {"type": "dropout", "rate": 0.3},
        {"type": "flatten"},
        {"type": "dense", "units": 16, "activation": "relu"},
        {"type": "dense", "units": 10, "activation": "softmax"},
    ],
}


def reference_logits(package: str, source: str, labels_file: str, out: str):
    """The C++ side's samples, labels and logits for a package and a source (fedhub-py-reference logits)."""
    from hubtools import run

    run([REFERENCE, "logits", package, source, labels_file or "-", out], timeout=600)
    with open(out, "rb") as f:
        raw = f.read()
    n, size, classes = struct.unpack_from("<QQQ", raw)
    at = 24
    pixels = np.frombuffer(raw, np.uint8, n * size, at)
    at += n * size
    labels = np.frombuffer(raw, "<i4", n, at)
    at += 4 * n
    logits = np.frombuffer(raw, "<f4", n * classes, at).reshape(n, classes)
    return pixels, labels, logits


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_programs(REFERENCE)
        cls.hub = Hub()
        cls.key = cls.hub.add_key("py-reader")

    @classmethod
    def tearDownClass(cls):
        cls.hub.close()

    def download(self, model: str, version: int = -1) -> str:
        out = self.hub.path(f"{model}-{version}.fhmp")
        self.hub.participant("download", "--hub", self.hub.caf, "--key", self.key, "--model", model,
                             "--version", str(version), "--out", out, "--quiet")
        return out

    def check_forward(self, package_path: str, source: str, labels_file):
        package = load_model_package(package_path)
        arch = parse_architecture(package.architecture)
        pixels, labels, logits = reference_logits(package_path, source, labels_file, package_path + ".logits")
        self.assertGreater(len(labels), 100)
        samples = pixels.reshape((len(labels),) + arch.input_shape)
        # The same inputs: the Python loader converts exactly as the C++ datasets library does.
        mine = load_data([source], arch.input_shape, package.labels, labels_file)
        np.testing.assert_array_equal(mine.labels, labels)
        differing = int((mine.pixels != samples).sum())
        self.assertEqual(differing, 0, f"{differing} of {samples.size} input bytes differ from the C++ loader's")
        # The same outputs on the same bytes.
        torch_logits = predict(arch, package.weights, samples)
        diff = float(np.abs(torch_logits - logits).max())
        self.assertLess(diff, 1e-4, f"max abs difference of logits {diff}")
        self.assertGreater(float(np.abs(logits).max()), 1e-3, "degenerate logits prove nothing")
        return package

    def test_simple_cnn_package_and_forward_pass(self):
        self.hub.create("cnn20", os.path.join(SRC, "config", "simple-cnn-20.arch.json"),
                        os.path.join(SRC, "config", "paper-20-labels.txt"), {"steps": 5})
        path = self.download("cnn20")
        package = load_model_package(path)
        self.assertEqual((package.name, package.version), ("cnn20", 0))
        self.assertEqual(len(package.labels), 20)
        arch = parse_architecture(package.architecture)
        self.assertEqual([(t.name, t.shape) for t in package.layout], [(t.name, t.shape) for t in arch.parameters()])
        self.assertEqual(sum(t.count for t in package.layout), 123220)
        self.assertEqual(package.layout[0].name, "conv2d/kernel")
        self.assertEqual(package.layout[-2].shape, (64, 20))
        # Fashion-MNIST resized to 32x32x3, T-shirt/top mapped onto the 20 labels by name.
        self.check_forward(path, f"idx:{FASHION}/t10k:0,7,9", FMNIST_LABELS)

    def test_every_layer_kind_after_a_merge(self):
        arch_path = self.hub.path("tricky.arch.json")
        with open(arch_path, "w") as f:
            json.dump(TRICKY, f)
        self.hub.create("tricky", arch_path, FMNIST_LABELS,
                        {"optimizer": {"name": "adam", "learning_rate": 0.01}, "steps": 30, "samples_per_round": 640})
        # Version 1: trained by the C++ participant, so biases are not zero any more.
        v0 = self.download("tricky", 0)
        result = self.hub.path("tricky.result")
        self.hub.participant("train", "--in", v0, "--data", f"idx:{FASHION}/t10k", "--out", result, "--seed", "3",
                             "--quiet")
        self.hub.participant("upload", "--hub", self.hub.caf, "--key", self.key, "--weights", result, "--quiet")
        self.hub.manager("merge", "tricky", "--base", "0")
        package = self.check_forward(self.download("tricky", 1), f"idx:{FASHION}/t10k:1,2,3", None)
        self.assertEqual(package.version, 1)
        biases = [w for t, w in zip(package.layout, package.weights) if t.name.endswith("/bias")]
        self.assertTrue(any(np.abs(b).max() > 0 for b in biases))
        self.assertNotIn("noBias/bias", [t.name for t in package.layout])

    def write_folder(self, root: str):
        """Two class folders of binary PPM (colour) and PGM (grey) images of several sizes, and a stray file."""
        rng = np.random.default_rng(11)
        for c, name in enumerate(("cat", "dog")):
            os.makedirs(os.path.join(root, name))
            for i in range(12):
                h, w = int(rng.integers(5, 40)), int(rng.integers(5, 40))
                colour = i % 3 != 0
                image = rng.integers(0, 256, size=(h, w, 3 if colour else 1), dtype=np.uint8)
                with open(os.path.join(root, name, f"{i:02d}.{'ppm' if colour else 'pgm'}"), "wb") as f:
                    f.write(b"P6" if colour else b"P5")
                    f.write(f"\n# made by test_package\n{w} {h}\n255\n".encode())
                    f.write(image.tobytes())
        with open(os.path.join(root, "dog", "notes.txt"), "w") as f:
            f.write("not an image")

    def test_image_folders_grey_and_colour(self):
        root = self.hub.path("images")
        self.write_folder(root)
        labels = self.hub.path("pets.txt")
        with open(labels, "w") as f:
            f.write("Dog\nbird\nCat\n")
        for name, shape in (("grey", [12, 10, 1]), ("colour", [9, 14, 3])):
            arch_path = self.hub.path(f"{name}.arch.json")
            with open(arch_path, "w") as f:
                json.dump({"input": shape, "layers": [
                    {"type": "conv2d", "filters": 3, "kernel_size": 3, "padding": "same", "activation": "relu"},
                    {"type": "flatten"}, {"type": "dense", "units": 3}]}, f)
            self.hub.create(name, arch_path, labels, {"steps": 5})
            warnings = []
            package = load_model_package(self.download(name))
            mine = load_data([f"folder:{root}"], tuple(shape), package.labels, None, warnings.append)
            self.assertEqual(sorted(set(mine.labels.tolist())), [0, 2])  # dog is label 0, cat label 2
            self.assertTrue(any("notes.txt" in w for w in warnings), warnings)
            pixels, ref_labels, _ = reference_logits(self.download(name), f"folder:{root}", None,
                                                     self.hub.path(f"{name}.logits"))
            np.testing.assert_array_equal(mine.labels, ref_labels)
            differing = int((mine.pixels.reshape(-1) != pixels).sum())
            self.assertEqual(differing, 0, f"{name}: {differing} of {pixels.size} input bytes differ from the C++ loader's")

    def test_damaged_packages_are_refused(self):
        self.hub.create("small", os.path.join(SRC, "config", "fmnist-mlp.arch.json"), FMNIST_LABELS, {})
        with open(self.download("small"), "rb") as f:
            good = f.read()
        read_model_package(good)
        flipped = bytearray(good)
        flipped[-5] ^= 0x40
        with self.assertRaisesRegex(FormatError, "hashes to"):
            read_model_package(bytes(flipped))
        with self.assertRaisesRegex(FormatError, "truncated"):
            read_model_package(good[:-4])
        with self.assertRaisesRegex(FormatError, "FHFB"):
            read_model_package(b"XXXX" + good[4:])


if __name__ == "__main__":
    unittest.main()
