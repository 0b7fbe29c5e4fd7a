#include "formats/tensor_conversion.hpp"

#include <cmath>
#include <limits>

namespace fedhub::formats {

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float v;
  if (exponent == 0)
    v = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    v = mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else
    v = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  return sign ? -v : v;
}

std::vector<float> decode_floats(const char* bytes, size_t count, Dtype d, const std::string& what) {
  std::vector<float> out(count);
  for (size_t i = 0; i < count; ++i) {
    float v = 0;
    switch (d) {
      case Dtype::f32:
        std::memcpy(&v, bytes + 4 * i, 4);
        break;
      case Dtype::f64: {
        double x;
        std::memcpy(&x, bytes + 8 * i, 8);
        if (std::isfinite(x) && std::fabs(x) > std::numeric_limits<float>::max())
          throw std::runtime_error(what + " holds " + std::to_string(x) + " at index " + std::to_string(i) +
                                   ", beyond float32's range");
        v = static_cast<float>(x);
        break;
      }
      case Dtype::f16: {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);
        v = half_to_float(h);
        break;
      }
      case Dtype::bf16: {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);
        const uint32_t bits = static_cast<uint32_t>(h) << 16;
        std::memcpy(&v, &bits, 4);
        break;
      }
    }
    if (!std::isfinite(v)) throw std::runtime_error(what + " holds a non-finite value at index " + std::to_string(i));
    out[i] = v;
  }
  return out;
}

uint64_t checked_elements(const std::vector<int64_t>& shape, uint64_t max_elements, const std::string& what) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::runtime_error(what + " has a negative dimension " + std::to_string(d));
    if (d != 0 && n > max_elements / static_cast<uint64_t>(d))
      throw std::runtime_error(what + " declares more values than its file holds");
    n *= static_cast<uint64_t>(d);
  }
  if (n > max_elements) throw std::runtime_error(what + " declares more values than its file holds");
  return n;
}

}  // namespace fedhub::formats
