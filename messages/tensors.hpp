// Tensors in headers, and the data sections that hold their values.
//
// A header (ModelPackage's version, Contribution) lists its tensors' names,
// shapes and dtypes (fb::Tensor); the values are the framed buffer's data
// section (framed.hpp): every tensor's float32 values, little-endian,
// row-major, in the header's order, contiguous. That is the layout of a flat
// parameter vector (model/flat.hpp), so a data section is used in place as
// one std::span<const float> of the model's parameters.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "messages/buffer.hpp"
#include "messages/errors.hpp"
#include "messages/tensor_generated.h"
#include "model/flat.hpp"
#include "model/tensor.hpp"

namespace fedhub {

using FbTensors = flatbuffers::Vector<flatbuffers::Offset<fb::Tensor>>;

// The tensor list of a header: each tensor's name and shape, dtype float32.
flatbuffers::Offset<FbTensors> build_tensor_infos(flatbuffers::FlatBufferBuilder& fbb,
                                                  std::span<const TensorSpec> layout);

// The names and shapes a verified header lists, in order (dtypes are not
// looked at: check_tensor_infos() does). nullptr gives an empty layout.
std::vector<TensorSpec> layout_of(const FbTensors* tensors);

// Checks a header's tensors against the model's layout: count, names and
// order, shapes, and dtype float32. Throws RequestError bad_shape (count,
// name, shape) or bad_dtype naming the first offending tensor; shapes are
// compared before dtypes within a tensor.
void check_tensor_infos(const FbTensors* tensors, std::span<const TensorSpec> layout);

// The size in bytes of the data section of a layout: 4 * the sum of the
// element counts. Throws RequestError(bad_shape) naming the tensor when a
// dimension is negative or the size overflows (exceeds 2^63 - 1 bytes).
uint64_t data_bytes_of(std::span<const TensorSpec> layout);

// A data section as float32 values, in place. Throws RequestError
// (bad_request) when its length is not a multiple of 4 or it is not 4-byte
// aligned in memory (a data section of a 16-byte aligned framed buffer is).
std::span<const float> data_values(std::span<const char> data);

// Float values as the bytes of a data section.
inline std::span<const char> data_bytes(std::span<const float> values) {
  return {reinterpret_cast<const char*>(values.data()), values.size_bytes()};
}

// Checks that every value is finite. `values` are the elements
// [first_index, first_index + values.size()) of a data section of `layout`
// (e.g. one upload part; 0: the whole section). Throws RequestError
// non_finite naming the tensor and the index within it ("tensor
// 'dense/bias' holds nan at index 2"), or bad_shape when the values reach
// past the layout's end.
void check_finite(std::span<const float> values, std::span<const TensorSpec> layout, uint64_t first_index = 0);

// A copy of a data section as Weights of `layout` (names and shapes from the
// layout). Throws RequestError(bad_shape) when data.size() is not
// data_bytes_of(layout). Any alignment of `data` is fine; values are not
// checked for finiteness.
Weights weights_from_data(std::span<const TensorSpec> layout, std::span<const char> data);

// XXH3-64 of the data section `w` makes (its tensors' values in order),
// without flattening it first.
uint64_t data_hash_of(const Weights& w);

// Appends the data section of `w` to `out`.
void append_data(Buffer& out, const Weights& w);

}  // namespace fedhub
