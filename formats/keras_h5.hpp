// Keras's HDF5 weights files as initial weights (fl-manager create
// --weights FILE.h5 | FILE.weights.h5), read with Debian's libhdf5 (1.10)
// from the file's bytes in memory. Three layouts, told apart by what the
// root holds (docs/models.md, "Keras weights (.h5, .weights.h5)"):
//
//   Keras 2 `model.save_weights("w.h5")`:
//     root attributes `layer_names` (the model's layers in order; chunked
//     as `layer_names0`, `layer_names1`, ... when large), `backend`,
//     `keras_version`; one group per layer, named as the layer, with an
//     attribute `weight_names` (e.g. "dense/kernel:0", "dense/bias:0") and a
//     dataset at each of those paths inside the layer's group
//     ("/dense/dense/kernel:0").
//   Keras 2 `model.save("m.h5")` (and Keras 3's legacy h5 writer): the
//     same under the group `model_weights` (the root also holds
//     `model_config` and `optimizer_weights`, ignored; Keras 3 writes names
//     without ":0" and adds an empty `top_level_model_weights` group).
//   Keras 3 `model.save_weights("w.weights.h5")`: a group `layers` with one
//     group per layer of the model, named NOT after the layer but after its
//     class and its rank among the layers of that class
//     ("conv2d", "conv2d_1", "max_pooling2d", "dense", "dense_1"), each with
//     a group `vars` whose datasets "0", "1" are the kernel and the bias.
//     The root's `vars`, `optimizer` and every other group are ignored.
//
// A Keras 2 tensor is named "<layer group>/<last part of its weight name
// without ':N'>", e.g. "dense/kernel". A Keras 3 group "dense_k" is the
// architecture's k-th dense layer ("conv2d_k": the k-th conv2d layer; a
// layer's kind is read from the rank of its kernel: 2 dense, 4 conv2d) and
// its vars "0" and "1" are "<that layer's name>/kernel" and ".../bias".
// Kernels are already fedhub's layout (dense [in, out], conv2d
// [kh, kw, in, out]). The tensors are then matched to the architecture by
// name and shape (formats/weights_matching.hpp), naming every missing,
// extra or mis-shaped one.
//
// Files come from outside and are read as hostile:
//   - a dataset is read only when its name is one of the architecture's
//     tensors and its rank and dimensions are exactly that tensor's shape:
//     nothing larger than the architecture is ever allocated (others are
//     reported from their declared shape alone);
//   - values are IEEE float32, float64 or float16 of either byte order
//     (converted to float32, finite); any other type class is refused;
//   - storage is contiguous, compact or chunked (chunks no larger than the
//     dataset) with at most gzip, shuffle and fletcher32; external storage,
//     virtual datasets, other filters and never-written datasets are refused,
//     and libhdf5's filter plugins are never loaded;
//   - only hard links are followed: a soft or external link (or a
//     user-defined one) on the way to a group or dataset is refused, and so
//     is a group that is the same object as one met before (a cycle);
//   - name attributes must be 1-D string lists of at most 1,000,000 names
//     of at most 64 KiB each and no more bytes than the file; a group that
//     is listed (Keras 3's `layers` and `vars`) at most 100,000 links;
//   - libhdf5's own error printing and its loading of filter plugins are
//     switched off for the process from the first call on, and its error
//     stack becomes one sentence in the exception.
// libhdf5's own parser of the file's structure (superblock, object
// headers, B-trees, heaps) is the outer surface, and it is not ours; the
// file is read by fl-manager on the manager's machine, never by the hub.
// Not thread-safe (libhdf5's serial build keeps global state); the
// separate process is a fork() of the caller, whose other threads do not
// exist in it (the child uses only malloc, which glibc keeps usable).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "model/tensor.hpp"

namespace fedhub::formats {

// True when `bytes` starts with HDF5's signature "\x89HDF\r\n\x1a\n".
bool is_hdf5(std::span<const char> bytes);

// What the file is, for messages: "keras 2 .h5 (save_weights)", "keras 2
// .h5 (model.save)" or "keras 3 .weights.h5". Throws std::runtime_error
// when the bytes are no HDF5 file libhdf5 can open or hold none of the
// three layouts.
std::string keras_h5_layout(std::span<const char> file);

struct KerasH5Options {
  // Read in a child process (fork) that may do nothing but allocate memory,
  // write its answer to a pipe and end (seccomp; every other system call
  // fails with EPERM): libhdf5 1.10 has defects on crafted files (a heap
  // over-read, NULL writes after failed huge allocations: docs/fuzzing.md),
  // and there they crash or misbehave in that child, which becomes an
  // error here naming the signal. The fuzz target reads in-process (false).
  bool separate_process = true;
  // For tests of the restriction: called in the child after it (nullptr:
  // nothing).
  void (*in_child)() = nullptr;
};

// The weights of `layout`, in its order, from a Keras HDF5 file's bytes.
// Throws std::runtime_error naming what is wrong: the HDF5 object (by its
// path in the file) that is malformed or refused, or, after everything was
// read, every tensor of the architecture that is missing or has another
// shape and every tensor of the file the architecture does not have; or,
// in a separate process, that the process crashed or ended without an
// answer, or that it could not be started.
Weights read_keras_h5(std::span<const char> file, std::span<const TensorSpec> layout,
                      const KerasH5Options& options = {});

}  // namespace fedhub::formats
