#include "formats/weights_file.hpp"

#include <cstring>
#include <stdexcept>

#include "formats/keras_h5.hpp"
#include "formats/npz.hpp"
#include "formats/safetensors.hpp"
#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "messages/framed.hpp"
#include "messages/model_package.hpp"
#include "messages/tensors.hpp"

namespace fedhub::formats {

std::string weights_file_kind(std::span<const char> bytes) {
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "PK\x03\x04", 4) == 0) return "npz";
  if (is_hdf5(bytes)) return "keras h5";
  try {
    const auto id = buffer_identifier(read_frame_prefix(bytes).header);
    if (id == fb::ContributionIdentifier()) return "result";
    return "package";
  } catch (const RequestError&) {
    return "safetensors";
  }
}

Weights read_weights_file(std::span<const char> bytes, const std::string& path, std::span<const TensorSpec> layout,
                          KernelLayout kind) {
  const auto what = weights_file_kind(bytes);
  try {
    if (what == "keras h5") {
      if (kind != KernelLayout::keras)
        throw std::runtime_error(
            "a Keras HDF5 file holds Keras's kernels (dense [in,out], conv2d [kh,kw,in,out]): leave out --layout "
            "torch");
      return read_keras_h5(bytes, layout);
    }
    std::vector<Tensor> tensors;
    if (what == "npz") {
      tensors = read_npz(bytes);
    } else if (what == "safetensors") {
      tensors = read_safetensors(bytes);
    } else {
      if (kind != KernelLayout::keras)
        throw std::runtime_error("a fedhub " + what +
                                 " holds weights in fedhub's own layout: leave out --layout torch");
      if (what == "result") {
        const auto view = read_contribution(bytes);
        tensors = weights_from_data(layout_of(view.header->tensors()), view.data);
      } else {
        tensors = read_model_package(bytes).weights;
      }
    }
    return match_weights(std::move(tensors), layout, kind);
  } catch (const RequestError& e) {
    throw std::runtime_error(path + " (" + what + "): " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + " (" + what + "): " + e.what());
  }
}

Weights read_weights_file(std::span<const char> bytes, const std::string& path, const Architecture& arch,
                          KernelLayout kind) {
  Weights w = read_weights_file(bytes, path, arch.parameters(), kind);
  if (kind == KernelLayout::torch) reorder_torch_flatten_rows(w, arch, true);
  return w;
}

Buffer write_weights_file(const Weights& weights, const Architecture& arch, const std::string& format,
                          KernelLayout kind, const std::map<std::string, std::string>& metadata) {
  if (kind != KernelLayout::torch) return write_weights_file(weights, format, kind, metadata);
  Weights w = weights;
  reorder_torch_flatten_rows(w, arch, false);
  return write_weights_file(w, format, kind, metadata);
}

Buffer write_weights_file(const Weights& weights, const std::string& format, KernelLayout kind,
                          const std::map<std::string, std::string>& metadata) {
  if (format == "safetensors") return write_safetensors(export_weights(weights, kind), metadata);
  if (format == "npz") return write_npz(export_weights(weights, kind));
  throw std::invalid_argument("a weights file is safetensors or npz, not '" + format + "'");
}

}  // namespace fedhub::formats
