#include "hub/version_image.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fedhub {

void VersionImage::copy(uint64_t offset, std::span<char> out) const {
  const uint64_t total = size();
  if (offset > total || out.size() > total - offset)
    throw std::out_of_range("bytes [" + std::to_string(offset) + ", +" + std::to_string(out.size()) +
                            ") are outside the " + std::to_string(total) + "-byte package");
  char* dst = out.data();
  uint64_t left = out.size();
  if (offset < prefix.size()) {
    const uint64_t n = std::min<uint64_t>(left, prefix.size() - offset);
    std::memcpy(dst, prefix.data() + offset, n);
    dst += n;
    left -= n;
    offset += n;
  }
  if (left > 0) std::memcpy(dst, weights.as_bytes().data() + (offset - prefix.size()), left);
}

}  // namespace fedhub
