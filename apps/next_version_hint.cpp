#include "apps/next_version_hint.hpp"

#include <nlohmann/json.hpp>
#include <sstream>

namespace fedhub::cli {
namespace {

std::string number(double v) {
  std::ostringstream out;
  out << v;  // 30, 2.5
  return out.str();
}

std::string waiting(uint64_t n) { return std::to_string(n) + (n == 1 ? " contribution waits" : " contributions wait"); }

// The rule of the policy's merge mode; empty when the policy is unreadable.
std::string rule(const ModelProgress& p) {
  const auto j = nlohmann::json::parse(p.policy_json.empty() ? "{}" : p.policy_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {};
  const std::string mode = j.value("merge", std::string("manual"));
  const double interval = j.value("interval_seconds", 0.0);
  std::string every;
  if (interval > 0 && mode != "async")
    every = ", or every " + number(interval) + " s when at least " + std::to_string(p.min_contributions) + " wait";
  if (mode == "async") return "it merges asynchronously: the next accepted contribution makes it";
  if (mode == "buffered") {
    const auto k = j.value("k", int64_t{10});
    return "it merges when " + std::to_string(k) + " contributions wait" + every + " (" + waiting(p.pending) + " now)";
  }
  if (mode == "manual")
    return "it merges manually, when a manager runs `fl-manager merge " + p.model + "`" + every + " (" +
           waiting(p.pending) + ", at least " + std::to_string(p.min_contributions) + " needed)";
  return {};
}

}  // namespace

std::string next_version_hint(const ModelProgress& p) {
  std::string s = "waiting for version " + std::to_string(p.version + 1) + " of '" + p.model + "'";
  if (auto r = rule(p); !r.empty()) s += ": " + r;
  return s;
}

}  // namespace fedhub::cli
