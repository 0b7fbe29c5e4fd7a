// What the fuzz targets (tests/fuzz/fuzz_*.cpp, docs/fuzzing.md) share: the
// input as the hub holds it (a 16-byte aligned std::vector<char>), a reader
// that splits an input into fields, a per-process scratch directory for the
// decoders that read files, and the rule for exceptions.
//
// A decoder refusing its input with the exception it documents is the
// expected outcome. Anything else escaping (std::bad_alloc, std::out_of_range,
// nlohmann's own exceptions, ...) reaches libFuzzer as an uncaught exception,
// i.e. a crash: the decoder failed to name what is wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/buffer.hpp"

namespace fedhub::fuzz {

// A copy of the input as a Buffer (std::vector<char>: 16-byte aligned, as
// CAF and the HTTP door hand buffers to the decoders).
inline Buffer buffer(const uint8_t* data, size_t size) {
  return Buffer(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size);
}

inline std::string text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs f; the exception types listed are refusals (ignored), anything else
// propagates.
template <class... Refusals, class F>
void refused_ok(F&& f) {
  if constexpr (sizeof...(Refusals) == 0) {
    f();
  } else {
    try {
      f();
    } catch (const std::exception& e) {
      if (!(dynamic_cast<const Refusals*>(&e) || ...)) throw;
    }
  }
}

// Takes fields off the front of an input; past its end everything is zero
// or empty.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  uint8_t u8() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  uint32_t u16() { return uint32_t{u8()} | uint32_t{u8()} << 8; }
  uint32_t u32() { return u16() | u16() << 16; }
  uint64_t u64() { return uint64_t{u32()} | uint64_t{u32()} << 32; }
  // Up to n bytes.
  std::string bytes(size_t n) {
    n = n < n_ ? n : n_;
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    n_ -= n;
    return s;
  }
  std::string rest() { return bytes(n_); }
  size_t left() const { return n_; }

 private:
  const uint8_t* p_;
  size_t n_;
};

// A directory of this process's own (under /dev/shm when it exists, else
// the temp directory), created on first use and removed at exit.
const std::string& scratch_dir();

// Writes `bytes` to `path` (replacing it); throws std::runtime_error.
void write_file(const std::string& path, std::string_view bytes);

}  // namespace fedhub::fuzz
