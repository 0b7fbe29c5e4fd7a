// Tensors in FlatBuffers: building them from Weights, and checking and reading
// received ones against a model's layout.
#pragma once

#include <span>

#include "messages/buffer.hpp"
#include "messages/errors.hpp"
#include "messages/tensor_generated.h"
#include "model/tensor.hpp"

namespace fedhub {

using FbTensors = flatbuffers::Vector<flatbuffers::Offset<fb::Tensor>>;

// One float32 tensor, its data 16-byte aligned in the buffer.
flatbuffers::Offset<fb::Tensor> build_tensor(flatbuffers::FlatBufferBuilder& fbb, const Tensor& t);
flatbuffers::Offset<FbTensors> build_tensors(flatbuffers::FlatBufferBuilder& fbb, const Weights& w);

// Checks received tensors against the model's layout: count, names, shapes,
// dtype float32, data length, and (when check_finite) that every value is
// finite. Throws RequestError with bad_shape, bad_dtype or non_finite naming
// the first offending tensor.
void check_tensors(const FbTensors* tensors, std::span<const TensorSpec> layout, bool check_finite = true);

// The values of a checked float32 tensor, read in place. Throws RequestError
// (bad_request) when the data is not 4-byte aligned in memory.
std::span<const float> tensor_values(const fb::Tensor& t);

// Copies checked tensors into Weights.
Weights read_weights(const FbTensors* tensors);

}  // namespace fedhub
