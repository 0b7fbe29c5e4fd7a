// Serialized FlatBuffers as they travel (CAF messages carry std::vector<char>,
// which CAF copies fast) and as they are stored, and their verification.
//
// Every buffer that comes from outside the process (network, disk) goes
// through verify_root() before any field is read.
//
// A FlatBuffer is limited to 2 GiB (FLATBUFFERS_MAX_BUFFER_SIZE). Weights are
// therefore never inside one: model packages and contribution files are
// framed buffers (framed.hpp), a small FlatBuffer header followed by a raw
// data section of any size, so the limit applies to headers only; requests
// and responses carry at most one chunk or part of a data section each.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace fedhub {

using Buffer = std::vector<char>;

// The finished contents of a builder, copied into a Buffer.
Buffer to_buffer(const flatbuffers::FlatBufferBuilder& fbb);

// Bytes of a buffer as FlatBuffers wants them.
inline const uint8_t* bytes_of(const Buffer& b) { return reinterpret_cast<const uint8_t*>(b.data()); }

// The file identifier of a buffer ("FHMP", ...), or "" when too short.
std::string buffer_identifier(std::span<const char> data);

// Verifies that `data` holds a well-formed buffer with root type T and the
// given file identifier, including nested buffers. Returns the root, or
// nullptr (and sets *why) when it does not. The data must stay alive and
// 8-byte aligned while the root is used.
template <class T>
const T* verify_root(std::span<const char> data, const char* identifier, std::string* why) {
  auto fail = [&](std::string reason) -> const T* {
    if (why) *why = std::move(reason);
    return nullptr;
  };
  if (data.size() < 8) return fail("the buffer is too short (" + std::to_string(data.size()) + " bytes)");
  if (data.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) return fail("the buffer exceeds FlatBuffers' 2 GiB limit");
  if (reinterpret_cast<uintptr_t>(data.data()) % 8 != 0) return fail("the buffer is not 8-byte aligned");
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  if (!flatbuffers::BufferHasIdentifier(p, identifier))
    return fail(std::string("expected a '") + identifier + "' buffer, found '" + buffer_identifier(data) + "'");
  flatbuffers::Verifier verifier(p, data.size());
  if (!verifier.VerifyBuffer<T>(identifier)) return fail(std::string("the '") + identifier + "' buffer is malformed");
  return flatbuffers::GetRoot<T>(p);
}

// Vector of bytes aligned to 16 in the finished buffer (so weights and nested
// buffers can be read in place).
flatbuffers::Offset<flatbuffers::Vector<uint8_t>> create_aligned_bytes(flatbuffers::FlatBufferBuilder& fbb,
                                                                       std::span<const char> bytes);

// The values of a vector of 8-byte scalars ([long], [ulong]), copied out.
// FlatBuffers' Verifier checks a vector's length field for 4-byte alignment
// only, so a hostile buffer can place 8-byte elements at a 4-byte boundary
// (found by tests/fuzz/fuzz_contribution): read them with memcpy, never in
// place.
template <class T>
std::vector<T> copy_scalars(const flatbuffers::Vector<T>* v) {
  static_assert(std::is_arithmetic_v<T>);
  std::vector<T> out;
  if (!v) return out;
  out.resize(v->size());
  if (!out.empty()) std::memcpy(out.data(), v->Data(), out.size() * sizeof(T));
  return out;
}

// Whether a vector's elements sit at multiples of their size (what the
// FlatBuffers builder always writes). Verification paths refuse buffers
// where they do not, so that nothing reads them in place.
template <class T>
bool scalars_aligned(const flatbuffers::Vector<T>* v) {
  return !v || v->size() == 0 || reinterpret_cast<uintptr_t>(v->Data()) % sizeof(T) == 0;
}

// A nested buffer's bytes as a span.
inline std::span<const char> as_span(const flatbuffers::Vector<uint8_t>* v) {
  return v ? std::span<const char>(reinterpret_cast<const char*>(v->data()), v->size()) : std::span<const char>{};
}

// Milliseconds since the Unix epoch.
uint64_t now_ms();

}  // namespace fedhub
