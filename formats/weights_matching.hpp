// Weights from outside files matched to a model's architecture (fl-manager
// create --weights): by tensor name and shape, never by position.
//
// Names are the architecture's ("dense_1/kernel", "conv2d/bias"). With the
// torch layout the names of a PyTorch state_dict are accepted too
// ("dense_1.weight" for dense_1/kernel, "dense_1.bias"), and kernels are
// read in PyTorch's layout: a dense weight is [out, in] (transposed to our
// [in, out]) and a convolution's is [out, in, kh, kw] (OIHW, transposed to
// our [kh, kw, in, out]). The keras layout is ours: Keras stores kernels as
// [in, out] and [kh, kw, in, out].
#pragma once

#include <span>
#include <string>
#include <vector>

#include "model/architecture.hpp"
#include "model/tensor.hpp"

namespace fedhub::formats {

enum class KernelLayout { keras, torch };

// "keras" or "torch"; std::invalid_argument otherwise.
KernelLayout parse_kernel_layout(const std::string& name);

// The weights of `layout`, in its order, from `file`'s tensors. Throws
// std::runtime_error listing every tensor of the architecture that is
// missing or has another shape, and every tensor of the file that the
// architecture does not have.
Weights match_weights(std::vector<Tensor> file, std::span<const TensorSpec> layout, KernelLayout kind);

// The inverse for exports: our weights as `kind` lays them out and names
// them (torch: state_dict names and layouts).
std::vector<Tensor> export_weights(const Weights& weights, KernelLayout kind);

// The input rows of a dense kernel that follows a flatten of an image:
// PyTorch and ONNX flatten [c, h, w] (NCHW), fedhub and Keras [h, w, c].
// `t` is a PyTorch-layout dense weight [out, c*h*w]; returns it with its
// columns reordered from (c, h, w) to (h, w, c) (`to_hwc`) or back. Throws
// std::invalid_argument when the shape does not fit c, h and w.
Tensor reorder_flattened_inputs(const Tensor& t, int64_t c, int64_t h, int64_t w, bool to_hwc);

// The [h, w, c] image whose flatten layer `i` of `arch` (a dense) reads,
// through relu and dropout layers; empty when it reads no flatten of an
// image (a flat input, another dense, or a flatten of a vector).
std::vector<int64_t> flattened_image_of(const Architecture& arch, size_t i);

// The same reordering for whole weights in fedhub's own layout: the rows of
// every dense kernel [in, out] of `w` (the weights of `arch`) that reads a
// flatten of an image, from PyTorch's (c, h, w) order to fedhub's
// (`to_fedhub`) or back, in place. With the torch layout, a state_dict
// needs it after match_weights and an export before export_weights
// (read_weights_file and write_weights_file with an architecture do both).
void reorder_torch_flatten_rows(Weights& w, const Architecture& arch, bool to_fedhub);

}  // namespace fedhub::formats
