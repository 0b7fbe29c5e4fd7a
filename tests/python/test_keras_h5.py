"""`fl-manager create --weights FILE.h5 | FILE.weights.h5` (issue 13, items 3 and 6): Keras's HDF5 weights
files, written here with Debian's h5py in exactly the layouts Keras writes (TensorFlow and Keras are not
packaged by Debian): Keras 2's ``save_weights("w.h5")`` (``keras/src/legacy/saving/legacy_h5_format.py``:
root attributes ``layer_names``, ``backend``, ``keras_version``, a group per layer with ``weight_names``
and the datasets at those paths), Keras 2's ``model.save("m.h5")`` (the same under ``model_weights``,
with ``model_config`` and ``optimizer_weights``) and Keras 3's ``save_weights("w.weights.h5")``
(``keras/src/saving/saving_lib.py``'s H5IOStore: ``layers/<class>_<rank>/vars/0, 1``, the model's ``vars``
and the ``optimizer``'s). The architecture is a small Keras Sequential ``model.to_json()``
(Conv2D, MaxPooling2D, Flatten, Dense, Dense). Each file becomes version 0 of a model on a real hub,
which is downloaded (``--format npz``) and compared bit for bit with what was written. Files that do
not fit (a missing layer, a mis-shaped kernel) are refused naming the tensors, and no model is made."""

import json
import os
import unittest

import h5py
import numpy as np

from hubtools import SRC, Hub

LABELS = os.path.join(SRC, "config", "fashion-mnist-labels.txt")
RECIPE = {"steps": 5}

# Keras 2 (tf.keras 2.15) Sequential([Input((28, 28, 1)), Conv2D(4, 3, activation="relu"),
# MaxPooling2D(), Flatten(), Dense(16, activation="relu"), Dense(10, activation="softmax")]).to_json()
KERAS2_JSON = {
    "class_name": "Sequential", "keras_version": "2.15.0", "backend": "tensorflow",
    "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 28, 28, 1], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "input_1"}},
        {"class_name": "Conv2D", "config": {"name": "conv2d", "trainable": True, "dtype": "float32", "filters": 4,
                                            "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                                            "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
                                            "activation": "relu", "use_bias": True}},
        {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d", "trainable": True, "dtype": "float32",
                                                  "pool_size": [2, 2], "padding": "valid", "strides": [2, 2],
                                                  "data_format": "channels_last"}},
        {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True, "dtype": "float32",
                                             "data_format": "channels_last"}},
        {"class_name": "Dense", "config": {"name": "dense", "trainable": True, "dtype": "float32", "units": 16,
                                           "activation": "relu", "use_bias": True}},
        {"class_name": "Dense", "config": {"name": "dense_1", "trainable": True, "dtype": "float32", "units": 10,
                                           "activation": "softmax", "use_bias": True}}]}}


def keras3_json(names):
    """The same model as Keras 3 writes it, its layers named `names` (Keras 3 numbers layer names across
    a whole session: a second model built in one session has conv2d_1, dense_2, dense_3)."""
    conv, pool, flat, dense, dense_1 = names

    def layer(cls, config):
        return {"module": "keras.layers", "class_name": cls, "config": config, "registered_name": None}

    return {"module": "keras", "class_name": "Sequential", "registered_name": None, "config": {
        "name": "sequential_1", "trainable": True, "layers": [
            layer("InputLayer", {"batch_shape": [None, 28, 28, 1], "dtype": "float32", "sparse": False,
                                 "name": "input_layer"}),
            layer("Conv2D", {"name": conv, "trainable": True, "filters": 4, "kernel_size": [3, 3],
                             "strides": [1, 1], "padding": "valid", "data_format": "channels_last",
                             "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": True}),
            layer("MaxPooling2D", {"name": pool, "trainable": True, "pool_size": [2, 2], "padding": "valid",
                                   "strides": [2, 2], "data_format": "channels_last"}),
            layer("Flatten", {"name": flat, "trainable": True, "data_format": "channels_last"}),
            layer("Dense", {"name": dense, "trainable": True, "units": 16, "activation": "relu",
                            "use_bias": True}),
            layer("Dense", {"name": dense_1, "trainable": True, "units": 10, "activation": "softmax",
                            "use_bias": True})],
        "build_input_shape": [None, 28, 28, 1]}}


SHAPES = {"conv2d": [(3, 3, 1, 4), (4,)], "dense": [(676, 16), (16,)], "dense_1": [(16, 10), (10,)]}


def random_weights(seed):
    """Keras's get_weights() of the model, per layer [kernel, bias], float32 drawn at random."""
    rng = np.random.default_rng(seed)
    return {layer: [rng.standard_normal(s).astype(np.float32) for s in shapes] for layer, shapes in SHAPES.items()}


def save_weights_to_hdf5_group(group, weights, layers, suffix=":0"):
    """What Keras 2's save_weights_to_hdf5_group writes for a Sequential model's layers."""
    group.attrs["layer_names"] = [name.encode("utf8") for name in layers]
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = b"2.15.0"
    for name in sorted(layers):
        g = group.create_group(name)
        values = weights.get(name, [])
        names = [f"{name}/{w}{suffix}".encode("utf8") for w in ("kernel", "bias")[:len(values)]]
        g.attrs["weight_names"] = names if names else np.asarray([])
        for n, v in zip(names, values):
            g.create_dataset(n, v.shape, dtype=v.dtype)[:] = v


KERAS_LAYERS = ["conv2d", "max_pooling2d", "flatten", "dense", "dense_1"]


class KerasH5Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub()
        cls.arch2 = cls.write_json("keras2.json", KERAS2_JSON)

    @classmethod
    def tearDownClass(cls):
        cls.hub.close()

    @classmethod
    def write_json(cls, name, doc):
        path = cls.hub.path(name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def version0(self, model):
        """Version 0 of `model` downloaded as .npz: {name: array}."""
        out = self.hub.path(f"{model}.npz")
        self.hub.manager("download", model, "--version", "0", "--out", out, "--format", "npz")
        with np.load(out) as z:
            return {k: z[k] for k in z.files}

    def assert_version0(self, model, weights, names=None):
        """Every tensor of version 0 is the float32 of what was written, bit for bit."""
        names = names or {layer: layer for layer in SHAPES}
        got = self.version0(model)
        expected = {}
        for layer, (kernel, bias) in weights.items():
            expected[f"{names[layer]}/kernel"] = kernel
            expected[f"{names[layer]}/bias"] = bias
        self.assertEqual(sorted(got), sorted(expected))
        for name, value in expected.items():
            self.assertEqual(got[name].dtype, np.float32, name)
            self.assertEqual(got[name].shape, value.shape, name)
            self.assertEqual(got[name].tobytes(), value.astype(np.float32).tobytes(), name)

    def refused(self, model, arch, path):
        r = self.hub.manager("create", model, "--arch", arch, "--labels", LABELS, "--recipe",
                             self.hub.path("r.recipe.json"), "--weights", path, check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        listed = json.loads(self.hub.manager("--json", "list").stdout)
        self.assertNotIn(model, [m["name"] for m in listed])
        return r.stderr

    def test_keras2_save_weights_h5(self):
        weights = random_weights(2)
        path = self.hub.path("keras2.h5")
        with h5py.File(path, "w") as f:
            save_weights_to_hdf5_group(f, weights, KERAS_LAYERS)
        self.hub.create("k2", self.arch2, LABELS, RECIPE, "--weights", path)
        self.assert_version0("k2", weights)

    def test_keras2_model_save_h5_with_float64_and_float16(self):
        # model.save("m.h5"): the weights under model_weights, beside the model's config and the
        # optimizer's weights (ignored); values stored as float64 and float16 are converted.
        weights = random_weights(3)
        weights["conv2d"][1] = weights["conv2d"][1].astype(np.float16)
        weights["dense"][0] = weights["dense"][0].astype(np.float64)
        path = self.hub.path("keras2-model.h5")
        with h5py.File(path, "w") as f:
            f.attrs["backend"] = b"tensorflow"
            f.attrs["keras_version"] = b"2.15.0"
            f.attrs["model_config"] = json.dumps(KERAS2_JSON).encode("utf8")
            f.attrs["training_config"] = json.dumps({"loss": "sparse_categorical_crossentropy"}).encode("utf8")
            save_weights_to_hdf5_group(f.create_group("model_weights"), weights, KERAS_LAYERS)
            opt = f.create_group("optimizer_weights")
            names = [b"Adam/iter:0", b"Adam/conv2d/kernel/m:0"]
            opt.attrs["weight_names"] = names
            opt.create_dataset(names[0], data=np.int64(10))
            opt.create_dataset(names[1], data=np.zeros((3, 3, 1, 4), np.float32))
        self.hub.create("k2m", self.arch2, LABELS, RECIPE, "--weights", path)
        self.assert_version0("k2m", weights)

    def test_keras3_weights_h5(self):
        # Keras 3 names the groups by class and rank, not by layer name: the architecture's layers here
        # are conv2d_1, dense_2 and dense_3 (a second model of a session) and the file's groups conv2d,
        # dense and dense_1, as Keras 3 writes them (>= 3.6 with each vars group's `name` attribute).
        names = ["conv2d_1", "max_pooling2d_1", "flatten_1", "dense_2", "dense_3"]
        arch = self.write_json("keras3.json", keras3_json(names))
        weights = random_weights(4)
        path = self.hub.path("keras3.weights.h5")
        with h5py.File(path, "w") as f:
            f.create_group("vars").attrs["name"] = "sequential_1"
            for group, name in zip(KERAS_LAYERS, names):
                v = f.create_group(f"layers/{group}/vars")
                v.attrs["name"] = name
                for i, value in enumerate(weights.get(group, [])):
                    v[str(i)] = value
            f["optimizer/vars/0"] = np.int64(7)  # iterations
            f["optimizer/vars/1"] = np.zeros((3, 3, 1, 4), np.float32)
        self.hub.create("k3", arch, LABELS, RECIPE, "--weights", path)
        self.assert_version0("k3", weights, {"conv2d": "conv2d_1", "dense": "dense_2", "dense_1": "dense_3"})

    def test_files_that_do_not_fit_are_refused_naming_the_tensors(self):
        with open(self.hub.path("r.recipe.json"), "w") as f:
            json.dump(RECIPE, f)
        weights = random_weights(5)
        # A missing layer: dense_1 is not in the file.
        missing = self.hub.path("missing.h5")
        with h5py.File(missing, "w") as f:
            save_weights_to_hdf5_group(f, {k: v for k, v in weights.items() if k != "dense_1"}, KERAS_LAYERS[:-1])
        err = self.refused("missing", self.arch2, missing)
        self.assertIn("missing.h5 (keras h5): keras 2 .h5 (save_weights): the weights do not fit the architecture",
                      err)
        self.assertIn("missing 'dense_1/kernel' [16,10]", err)
        self.assertIn("missing 'dense_1/bias' [10]", err)
        # A mis-shaped kernel (a model with another input size), and Keras 3's hint for its names.
        wrong = dict(weights)
        wrong["dense"] = [np.zeros((36, 16), np.float32), weights["dense"][1]]
        misshaped = self.hub.path("misshaped.weights.h5")
        with h5py.File(misshaped, "w") as f:
            for group in KERAS_LAYERS:
                v = f.create_group(f"layers/{group}/vars")
                for i, value in enumerate(wrong.get(group, [])):
                    v[str(i)] = value
        err = self.refused("misshaped", self.arch2, misshaped)
        self.assertIn("'dense/kernel' is [36,16], the architecture needs [676,16]", err)
        self.assertIn("/layers/dense_1 is layer 'dense_1'", err)
        # Read as PyTorch's layout: refused, Keras files have Keras's.
        r = self.hub.manager("create", "torch", "--arch", self.arch2, "--labels", LABELS, "--recipe",
                             self.hub.path("r.recipe.json"), "--weights", missing, "--layout", "torch", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("leave out --layout torch", r.stderr)


if __name__ == "__main__":
    unittest.main()
