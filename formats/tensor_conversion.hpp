// Little-endian element decoding shared by the importers (formats/): float32
// values from the dtypes outside files store, checked finite.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace fedhub::formats {

enum class Dtype { f32, f64, f16, bf16 };

inline size_t dtype_size(Dtype d) {
  switch (d) {
    case Dtype::f32:
      return 4;
    case Dtype::f64:
      return 8;
    case Dtype::f16:
    case Dtype::bf16:
      return 2;
  }
  return 0;
}

float half_to_float(uint16_t h);

// count values of `d` at `bytes` (unaligned, little-endian) as float32;
// throws std::runtime_error naming `what` and the index of a non-finite one
// (or of an f64 beyond float32's range).
std::vector<float> decode_floats(const char* bytes, size_t count, Dtype d, const std::string& what);

// Product of `shape` with overflow and negative checks (std::runtime_error
// naming `what`); also refuses more than max_elements.
uint64_t checked_elements(const std::vector<int64_t>& shape, uint64_t max_elements, const std::string& what);

}  // namespace fedhub::formats
