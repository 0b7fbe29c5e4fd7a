#include "hub/stored_delta.hpp"

#include <cstring>
#include <vector>

#include "federation/validation.hpp"
#include "messages/checksum.hpp"
#include "messages/errors.hpp"

namespace fedhub {

StoredDeltaScan scan_stored_delta(const Store& store, const std::string& model, uint64_t upload_id,
                                  std::span<const float> base, const std::string& who,
                                  const std::function<void(size_t, std::span<const float>)>& visit) {
  StoredDeltaScan out;
  DataHasher hasher;
  std::vector<float> values;
  std::vector<float> delta;
  out.bytes = store.for_each_chunk(model, upload_id, [&](uint64_t offset, std::span<const char> bytes) {
    const size_t n = bytes.size() / sizeof(float);
    const size_t first = offset / sizeof(float);
    if (offset % sizeof(float) != 0 || bytes.size() % sizeof(float) != 0 || first > base.size() ||
        n > base.size() - first)
      throw RequestError(ErrorCode::internal, "a stored chunk of " + who + " lies outside the model");
    hasher.update(bytes);
    values.resize(n);
    delta.resize(n);
    std::memcpy(values.data(), bytes.data(), bytes.size());
    const auto check = federation::check_part(values, base.subspan(first, n), 0, delta);
    if (!check.ok()) throw RequestError(ErrorCode::internal, "a stored chunk of " + who + " holds a non-finite value");
    out.delta_squared += check.delta_squared;
    visit(first, delta);
  });
  out.data_hash = hasher.digest();
  return out;
}

}  // namespace fedhub
