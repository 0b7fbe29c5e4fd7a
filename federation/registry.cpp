#include "federation/registry.hpp"

#include <map>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>

namespace fedhub::federation {
namespace {

const char* const kBuiltIns = "mean|fedavg|fedavgm|fedadam|fedyogi|fedadagrad|median|trimmed-mean|krum";

struct Registry {
  std::shared_mutex mutex;
  std::map<std::string, AggregatorFactory> factories;
};

Registry& registry() {
  static Registry r;
  return r;
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 32) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

}  // namespace

void register_aggregator(const std::string& name, AggregatorFactory factory) {
  if (!valid_name(name))
    throw std::invalid_argument("register_aggregator: the name '" + name +
                                "' must be 1-32 characters of a-z, 0-9 and '-'");
  if (!factory) throw std::invalid_argument("register_aggregator: the factory for '" + name + "' is empty");
  if (is_builtin_aggregator(name))
    throw std::invalid_argument("register_aggregator: '" + name + "' is a built-in strategy");
  auto& r = registry();
  std::unique_lock lock(r.mutex);
  if (!r.factories.emplace(name, std::move(factory)).second)
    throw std::invalid_argument("register_aggregator: '" + name + "' is registered already");
}

bool is_registered_aggregator(const std::string& name) {
  auto& r = registry();
  std::shared_lock lock(r.mutex);
  return r.factories.count(name) > 0;
}

AggregatorFactory registered_aggregator(const std::string& name) {
  auto& r = registry();
  std::shared_lock lock(r.mutex);
  auto it = r.factories.find(name);
  return it == r.factories.end() ? AggregatorFactory{} : it->second;
}

std::string aggregator_names() {
  std::string out = kBuiltIns;
  auto& r = registry();
  std::shared_lock lock(r.mutex);
  for (const auto& [name, factory] : r.factories) out += "|" + name;
  return out;
}

}  // namespace fedhub::federation
