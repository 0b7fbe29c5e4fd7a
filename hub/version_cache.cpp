#include "hub/version_cache.hpp"

#include "messages/errors.hpp"
#include "messages/model_package.hpp"
#include "messages/tensors.hpp"

namespace fedhub {

std::vector<float> read_flat_version(std::span<const char> version_buffer, std::span<const TensorSpec> layout) {
  const auto* v = verify_model_version(version_buffer);
  check_tensors(v->tensors(), layout, false);
  size_t total = 0;
  for (const auto& t : layout) total += static_cast<size_t>(element_count(t.shape));
  std::vector<float> flat;
  flat.reserve(total);
  for (const auto* t : *v->tensors()) {
    auto values = tensor_values(*t);
    flat.insert(flat.end(), values.begin(), values.end());
  }
  return flat;
}

VersionCache::VersionCache(const Store& store, std::string model, std::vector<TensorSpec> layout, size_t capacity)
    : store_(store), model_(std::move(model)), layout_(std::move(layout)), capacity_(capacity < 1 ? 1 : capacity) {}

const std::vector<float>& VersionCache::get(uint64_t version) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->first == version) {
      entries_.splice(entries_.begin(), entries_, it);
      return entries_.front().second;
    }
  auto buf = store_.version(model_, version);
  if (!buf)
    throw RequestError(ErrorCode::unknown_version, "the weights of version " + std::to_string(version) + " of '" +
                                                       model_ + "' are not stored (pruned or never made)");
  put(version, read_flat_version(*buf, layout_));
  return entries_.front().second;
}

void VersionCache::put(uint64_t version, std::vector<float> flat) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->first == version) {
      entries_.erase(it);
      break;
    }
  entries_.emplace_front(version, std::move(flat));
  while (entries_.size() > capacity_) entries_.pop_back();
}

}  // namespace fedhub
