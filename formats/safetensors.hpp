// safetensors files (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [3, 2], "data_offsets": [begin, end]},
//    ..., "__metadata__": {"key": "value"}}
// then the data section, each tensor's bytes row-major little-endian at
// [begin, end) of it. The reader accepts F32, F64, F16 and BF16 (converted
// to float32) and refuses every other dtype; the writer writes F32.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "messages/buffer.hpp"
#include "model/tensor.hpp"

namespace fedhub::formats {

// The tensors of a safetensors file, in the order of their data offsets.
// Throws std::runtime_error naming what is wrong: a header length beyond
// the file or above 100 MB, JSON that is not an object of tensors, an
// unknown dtype, a negative or overflowing shape, offsets outside the data
// section, overlapping or not matching shape x dtype, a non-finite value.
// Nothing is allocated beyond the file's own size.
std::vector<Tensor> read_safetensors(std::span<const char> file);

// A safetensors file of float32 tensors (in the order given) with optional
// string metadata.
Buffer write_safetensors(const std::vector<Tensor>& tensors, const std::map<std::string, std::string>& metadata = {});

}  // namespace fedhub::formats
