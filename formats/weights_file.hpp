// Initial weights for a new model from a file (fl-manager create
// --weights): a fedhub model package or training result, a safetensors
// file, a NumPy .npz or a Keras HDF5 weights file (.h5, .weights.h5:
// formats/keras_h5.hpp), told apart by their first bytes, matched to the
// architecture by name and shape (formats/weights_matching.hpp).
#pragma once

#include <map>
#include <span>
#include <string>

#include "formats/weights_matching.hpp"
#include "messages/buffer.hpp"

namespace fedhub::formats {

// "package", "result", "npz", "keras h5" or "safetensors": what the bytes are.
std::string weights_file_kind(std::span<const char> bytes);

// The weights of `layout` from the file's bytes (`path` names it in errors).
// fedhub files and Keras HDF5 files carry our names and layout: `kind`
// must be keras for them.
// Throws std::runtime_error or RequestError naming what is wrong. A dense
// kernel is taken in the row order it has: for a PyTorch CNN use the
// overload with the architecture.
Weights read_weights_file(std::span<const char> bytes, const std::string& path, std::span<const TensorSpec> layout,
                          KernelLayout kind);

// The same for the parameters of `arch`; with the torch layout the dense
// kernel that reads a flatten of an image is also reordered from
// PyTorch's (c, h, w) to fedhub's (h, w, c) (reorder_torch_flatten_rows),
// so that a CNN's state_dict gives PyTorch's outputs.
Weights read_weights_file(std::span<const char> bytes, const std::string& path, const Architecture& arch,
                          KernelLayout kind);

// Our weights as a file other tools read (fl-manager and fl-participant
// download --format): "safetensors" (with `metadata`) or "npz", named and
// laid out as `kind` says. std::invalid_argument for another format.
Buffer write_weights_file(const Weights& weights, const std::string& format, KernelLayout kind,
                          const std::map<std::string, std::string>& metadata = {});

// The same for the weights of `arch`; with the torch layout the dense
// kernel after a flatten of an image gets PyTorch's (c, h, w) row order,
// so that the file loads into the matching torch.nn.Module as it is.
Buffer write_weights_file(const Weights& weights, const Architecture& arch, const std::string& format,
                          KernelLayout kind, const std::map<std::string, std::string>& metadata = {});

}  // namespace fedhub::formats
