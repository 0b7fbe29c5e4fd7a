// The key encodings of the store's layout (persistence/store.hpp), shared by
// StoreBatch and the RocksDB store. Internal to persistence/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fedhub::keys {

inline void append_be64(std::string& k, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) k.push_back(static_cast<char>((v >> shift) & 0xff));
}

inline void append_be32(std::string& k, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) k.push_back(static_cast<char>((v >> shift) & 0xff));
}

// The big-endian number of `width` bytes at `pos` of `key` (0 when short).
inline uint64_t read_be(std::string_view key, size_t pos, size_t width) {
  if (key.size() < pos + width) return 0;
  uint64_t v = 0;
  for (size_t i = pos; i < pos + width; ++i) v = (v << 8) | static_cast<unsigned char>(key[i]);
  return v;
}

// name 0x00: the prefix of every key of a model (or upload, with more).
inline std::string name_prefix(std::string_view name) {
  std::string k;
  k.reserve(name.size() + 1);
  k.append(name);
  k.push_back('\0');
  return k;
}

// name 0x00 be64(n): version_info, pending, uploads; the prefix of a
// version's pieces and of an upload's chunks.
inline std::string numbered(std::string_view name, uint64_t n) {
  std::string k;
  k.reserve(name.size() + 9 + 8);
  k.append(name);
  k.push_back('\0');
  append_be64(k, n);
  return k;
}

// versions: name 0x00 be64(version) be32(piece)
inline std::string piece_key(std::string_view name, uint64_t version, uint32_t piece) {
  std::string k = numbered(name, version);
  append_be32(k, piece);
  return k;
}

// server_state: name 0x00 be32(piece)
inline std::string state_key(std::string_view name, uint32_t piece) {
  std::string k = name_prefix(name);
  append_be32(k, piece);
  return k;
}

// chunks: name 0x00 be64(upload) be64(offset)
inline std::string chunk_key(std::string_view name, uint64_t upload, uint64_t offset) {
  std::string k = numbered(name, upload);
  append_be64(k, offset);
  return k;
}

// The smallest key greater than every key that starts with `prefix` (the
// exclusive end of a prefix's range), or nothing when there is none (a
// prefix of 0xff bytes only). Every prefix of the layout has a 0x00 after the
// name, so it always has one.
inline std::optional<std::string> prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last != 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::nullopt;
}

}  // namespace fedhub::keys
