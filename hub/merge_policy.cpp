#include "hub/merge_policy.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace fedhub {

std::string MergePolicy::to_json() const {
  nlohmann::json j;
  j["merge"] = merge;
  j["aggregator"] = nlohmann::json::parse(aggregator.to_json());
  return j.dump();
}

MergePolicy MergePolicy::from_json(const std::string& text) {
  MergePolicy p;
  if (text.empty()) return p;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("merge policy: not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw std::invalid_argument("merge policy: must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "merge") {
      if (!it->is_string()) throw std::invalid_argument("merge policy: 'merge' must be a string");
      p.merge = it->get<std::string>();
      if (p.merge != "manual") throw std::invalid_argument("merge policy: unknown merge mode '" + p.merge + "'");
    } else if (it.key() == "aggregator") {
      p.aggregator = federation::AggregatorConfig::from_json(it->dump());
    } else {
      throw std::invalid_argument("merge policy: unknown key '" + it.key() + "'");
    }
  }
  p.aggregator.resolved();  // validates names and ranges
  return p;
}

}  // namespace fedhub
