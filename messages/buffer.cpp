#include "messages/buffer.hpp"

#include <chrono>
#include <cstring>

namespace fedhub {

Buffer to_buffer(const flatbuffers::FlatBufferBuilder& fbb) {
  const auto* p = reinterpret_cast<const char*>(fbb.GetBufferPointer());
  return Buffer(p, p + fbb.GetSize());
}

std::string buffer_identifier(std::span<const char> data) {
  if (data.size() < 8) return {};
  std::string id(data.data() + 4, 4);
  for (char& c : id)
    if (c < 32 || c > 126) c = '?';
  return id;
}

flatbuffers::Offset<flatbuffers::Vector<uint8_t>> create_aligned_bytes(flatbuffers::FlatBufferBuilder& fbb,
                                                                       std::span<const char> bytes) {
  fbb.ForceVectorAlignment(bytes.size(), 1, 16);
  uint8_t* dst = nullptr;
  auto off = fbb.CreateUninitializedVector(bytes.size(), &dst);
  if (!bytes.empty()) std::memcpy(dst, bytes.data(), bytes.size());
  return off;
}

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace fedhub
