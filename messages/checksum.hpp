// The checksum of data sections and upload parts: XXH3-64 with seed 0
// (xxHash 0.8, a stable format), the `data_hash` of model packages and
// contributions and the `hash` of UploadPart (schemas/model_package.fbs).
//
// XXH3 runs at memory speed (tens of GB/s), so a data section can be hashed
// as it is written or read without slowing either down. It detects damage and
// mix-ups, not tampering (it is not a cryptographic hash).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

struct XXH3_state_s;  // xxhash.h's state, kept out of this header

namespace fedhub {

// XXH3-64 (seed 0) of `data`; the hash of no bytes is 0x2d06800538d394c2.
uint64_t data_hash(std::span<const char> data);

// "0x2d06800538d394c2": a hash as error messages show it.
std::string hash_to_string(uint64_t hash);

// The same hash over data that arrives in pieces:
//
//   DataHasher h;
//   for (auto piece : pieces) h.update(piece);
//   h.digest() == data_hash(all pieces concatenated)
//
// for any split of the data into pieces, empty ones included.
//
// Contract:
//  - The constructor allocates the hash state once (about 600 bytes, 64-byte
//    aligned) and throws std::bad_alloc when it cannot; update() and digest()
//    never allocate and never throw.
//  - digest() does not change the state: more update()s may follow, and a
//    later digest() covers everything passed since construction or reset().
//  - Movable, not copyable. A moved-from hasher holds no state: the only
//    operations allowed on it are destruction and being assigned to.
//  - Not thread-safe: one hasher is used by one thread at a time (different
//    hashers are independent).
class DataHasher {
 public:
  DataHasher();
  ~DataHasher();
  DataHasher(DataHasher&&) noexcept;
  DataHasher& operator=(DataHasher&&) noexcept;
  DataHasher(const DataHasher&) = delete;
  DataHasher& operator=(const DataHasher&) = delete;

  // Adds bytes to the hash.
  void update(std::span<const char> bytes);
  // XXH3-64 of every byte passed since construction or reset().
  uint64_t digest() const;
  // Starts over, as if newly constructed (no allocation).
  void reset();
  // The number of bytes passed since construction or reset().
  uint64_t bytes() const { return bytes_; }

 private:
  struct Free {
    void operator()(XXH3_state_s* state) const;
  };
  std::unique_ptr<XXH3_state_s, Free> state_;
  uint64_t bytes_ = 0;
};

}  // namespace fedhub
