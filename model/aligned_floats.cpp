#include "model/aligned_floats.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace fedhub {

void AlignedFloats::Free::operator()(float* p) const { std::free(p); }

AlignedFloats::AlignedFloats(size_t n, bool zeroed) : size_(n) {
  if (n == 0) return;
  if (n > SIZE_MAX / sizeof(float) - 64) throw std::bad_alloc();
  const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!p) throw std::bad_alloc();
  data_.reset(p);
  if (zeroed) std::memset(p, 0, bytes);
}

AlignedFloats AlignedFloats::copy_of(std::span<const float> values) {
  AlignedFloats out(values.size());
  if (!values.empty()) std::memcpy(out.data(), values.data(), values.size_bytes());
  return out;
}

}  // namespace fedhub
