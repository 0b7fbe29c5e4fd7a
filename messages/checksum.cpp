#include "messages/checksum.hpp"

#include <xxhash.h>

#include <cstdio>
#include <new>

namespace fedhub {

static_assert(XXH_VERSION_NUMBER >= 800, "XXH3 is stable from xxHash 0.8 on");

uint64_t data_hash(std::span<const char> data) { return XXH3_64bits(data.data(), data.size()); }

std::string hash_to_string(uint64_t hash) {
  char text[19];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(hash));
  return text;
}

void DataHasher::Free::operator()(XXH3_state_s* state) const { XXH3_freeState(state); }

DataHasher::DataHasher() : state_(XXH3_createState()) {
  if (!state_) throw std::bad_alloc();
  reset();
}

DataHasher::~DataHasher() = default;
DataHasher::DataHasher(DataHasher&& other) noexcept = default;
DataHasher& DataHasher::operator=(DataHasher&& other) noexcept = default;

void DataHasher::update(std::span<const char> bytes) {
  // XXH3_64bits_update only fails on a null state (a moved-from hasher).
  XXH3_64bits_update(state_.get(), bytes.data(), bytes.size());
  bytes_ += bytes.size();
}

uint64_t DataHasher::digest() const { return XXH3_64bits_digest(state_.get()); }

void DataHasher::reset() {
  XXH3_64bits_reset(state_.get());
  bytes_ = 0;
}

}  // namespace fedhub
