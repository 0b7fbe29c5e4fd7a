// Private to formats/onnx_import.cpp and onnx_export.cpp (not an API): the
// checks and conversions of ONNX TensorProtos, on the protobuf types that
// Debian's libonnx-dev generates (namespace onnx).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model/tensor.hpp"

namespace fedhub::formats {

// "FLOAT", "INT64", ... (or the number when unknown).
std::string onnx_type_name(int32_t data_type);

// Checks a tensor before any of its data is read, and throws
// std::runtime_error naming `what` when: its data lives outside the file
// (data_location EXTERNAL, external_data entries), it is segmented, its
// type is not float32/float64/float16/bfloat16/int64/int32, a dimension is
// negative, the product of its dims overflows, or the values stored
// (raw_data or the typed field) are not exactly that many. Allocates
// nothing.
void check_onnx_tensor(const onnx::TensorProto& t, const std::string& what);

// The element count of a tensor that passed check_onnx_tensor.
uint64_t onnx_element_count(const onnx::TensorProto& t);

// The values of a checked float tensor as float32 (finite; std::runtime_error
// naming `what` otherwise), and of a checked integer tensor.
std::vector<float> onnx_float_values(const onnx::TensorProto& t, const std::string& what);
std::vector<int64_t> onnx_int_values(const onnx::TensorProto& t, const std::string& what);

// A float32 initializer with raw_data (little-endian), for the export.
void set_onnx_floats(onnx::TensorProto& t, const std::string& name, const std::vector<int64_t>& dims,
                     const std::vector<float>& values);

}  // namespace fedhub::formats
