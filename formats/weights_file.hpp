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
// Throws std::runtime_error or RequestError naming what is wrong.
Weights read_weights_file(std::span<const char> bytes, const std::string& path, std::span<const TensorSpec> layout,
                          KernelLayout kind);

// Our weights as a file other tools read (fl-manager and fl-participant
// download --format): "safetensors" (with `metadata`) or "npz", named and
// laid out as `kind` says. std::invalid_argument for another format.
Buffer write_weights_file(const Weights& weights, const std::string& format, KernelLayout kind,
                          const std::map<std::string, std::string>& metadata = {});

}  // namespace fedhub::formats
