// SHA-256 (OpenSSL) of bytes, whole or streamed: the digests a version's
// provenance records (messages/schemas/provenance.fbs).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace fedhub {

using Sha256 = std::array<uint8_t, 32>;

Sha256 sha256(std::span<const char> bytes);
// Lower-case hexadecimal, 64 characters.
std::string to_hex(const Sha256& digest);

// The digest of bytes given in pieces (equal to sha256() of their
// concatenation). Not thread-safe.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void update(std::span<const char> bytes);
  // The digest of everything given; the hasher is not usable afterwards.
  Sha256 finish();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

}  // namespace fedhub
