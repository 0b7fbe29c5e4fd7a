#include "hub/merge_policy.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "datasets/source_spec.hpp"

namespace fedhub {

using nlohmann::json;

const char* to_string(MergeMode m) {
  switch (m) {
    case MergeMode::manual:
      return "manual";
    case MergeMode::buffered:
      return "buffered";
    case MergeMode::async:
      return "async";
  }
  return "?";
}

uint64_t MergePolicy::oldest_accepted_base(uint64_t current) const {
  if (staleness.kind == federation::StalenessKind::drop) return current;
  if (staleness.max_staleness < 0) return 0;
  const auto s = static_cast<uint64_t>(staleness.max_staleness);
  return current > s ? current - s : 0;
}

int64_t MergePolicy::versions_to_keep() const {
  int64_t window = staleness.kind == federation::StalenessKind::drop ? 1
                   : staleness.max_staleness < 0                     ? INT64_MAX
                                                                     : staleness.max_staleness + 1;
  return std::max(window, retain_versions);
}

namespace {

json staleness_json(const federation::StalenessPolicy& p) {
  return json{{"kind", federation::to_string(p.kind)}, {"max_staleness", p.max_staleness}, {"a", p.a}, {"b", p.b}};
}

constexpr int64_t kMaxCount = 1000000;
constexpr double kMaxIntervalSeconds = 1e7;
constexpr double kMaxAbsLimit = 1e30;

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument("merge policy: " + what); }

double number(const json& v, const char* key) {
  if (!v.is_number()) bad(std::string("'") + key + "' must be a number, got " + v.dump());
  return v.get<double>();
}

int64_t integer(const json& v, const char* key) {
  if (!v.is_number_integer()) bad(std::string("'") + key + "' must be an integer, got " + v.dump());
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    bad(std::string("'") + key + "' is out of range: " + v.dump());
  return v.get<int64_t>();
}

void apply_staleness(federation::StalenessPolicy& p, const json& j) {
  if (!j.is_object()) bad("'staleness' must be an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "kind") {
      if (!it->is_string()) bad("'staleness.kind' must be a string");
      p.kind = federation::parse_staleness_kind(it->get<std::string>());
    } else if (it.key() == "max_staleness") {
      p.max_staleness = integer(*it, "staleness.max_staleness");
    } else if (it.key() == "a") {
      p.a = number(*it, "staleness.a");
    } else if (it.key() == "b") {
      p.b = number(*it, "staleness.b");
    } else {
      bad("unknown key 'staleness." + it.key() + "' (kind, max_staleness, a, b)");
    }
  }
  if (auto why = federation::check_policy(p); !why.empty()) bad(why);
}

std::string text(const json& v, const char* key) {
  if (!v.is_string()) bad(std::string("'") + key + "' must be a string, got " + v.dump());
  auto s = v.get<std::string>();
  if (s.size() > 4096) bad(std::string("'") + key + "' is longer than 4096 characters");
  return s;
}

void apply_evaluation(MergePolicy& p, const json& j) {
  if (!j.is_object()) bad("'evaluation' must be an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "data") {
      p.eval_data = text(*it, "evaluation.data");
      if (!p.eval_data.empty()) {
        try {
          datasets::parse_source_spec(p.eval_data);
        } catch (const std::exception& e) {
          bad(std::string("'evaluation.data': ") + e.what());
        }
      }
    } else if (it.key() == "labels") {
      p.eval_labels = text(*it, "evaluation.labels");
    } else {
      bad("unknown key 'evaluation." + it.key() + "' (data, labels)");
    }
  }
}

void apply_scoring(MergePolicy& p, const json& j) {
  if (!j.is_object()) bad("'scoring' must be an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "loo_max_contributions") {
      p.loo_max_contributions = integer(*it, "scoring.loo_max_contributions");
    } else if (it.key() == "flag_margin") {
      p.flag_margin = number(*it, "scoring.flag_margin");
    } else if (it.key() == "exclude_flagged") {
      if (!it->is_boolean()) bad("'scoring.exclude_flagged' must be true or false");
      p.exclude_flagged = it->get<bool>();
    } else {
      bad("unknown key 'scoring." + it.key() + "' (loo_max_contributions, flag_margin, exclude_flagged)");
    }
  }
}

void apply_patch(MergePolicy& p, const json& j) {
  if (!j.is_object()) bad("must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& k = it.key();
    const auto& v = *it;
    if (k == "merge") {
      if (!v.is_string()) bad("'merge' must be a string");
      const auto m = v.get<std::string>();
      if (m == "manual")
        p.merge = MergeMode::manual;
      else if (m == "buffered")
        p.merge = MergeMode::buffered;
      else if (m == "async")
        p.merge = MergeMode::async;
      else
        bad("unknown merge mode '" + m + "' (manual, buffered or async)");
    } else if (k == "k") {
      p.k = integer(v, "k");
    } else if (k == "alpha") {
      p.alpha = number(v, "alpha");
    } else if (k == "staleness") {
      apply_staleness(p.staleness, v);
    } else if (k == "aggregator") {
      // Patch the aggregator key by key: merge its JSON with the patch.
      json merged = json::parse(p.aggregator.to_json());
      if (!v.is_object()) bad("'aggregator' must be an object");
      merged.merge_patch(v);
      p.aggregator = federation::AggregatorConfig::from_json(merged.dump());
    } else if (k == "norm_bound") {
      p.norm_bound = number(v, "norm_bound");
    } else if (k == "on_norm_exceeded") {
      if (v != "reject" && v != "clip") bad("'on_norm_exceeded' is reject or clip, not " + v.dump());
      p.clip_to_norm = v == "clip";
    } else if (k == "interval_seconds") {
      p.interval_seconds = number(v, "interval_seconds");
    } else if (k == "retain_versions") {
      p.retain_versions = integer(v, "retain_versions");
    } else if (k == "replay_versions") {
      p.replay_versions = integer(v, "replay_versions");
    } else if (k == "evaluation") {
      apply_evaluation(p, v);
    } else if (k == "scoring") {
      apply_scoring(p, v);
    } else if (k == "excluded") {
      if (!v.is_array() || v.size() > 10000) bad("'excluded' must be a list of at most 10000 key names");
      p.excluded.clear();
      for (const auto& name : v) p.excluded.insert(text(name, "excluded"));
    } else if (k == "max_abs_value") {
      p.max_abs_value = number(v, "max_abs_value");
    } else {
      bad("unknown key '" + k +
          "' (merge, k, alpha, staleness, aggregator, norm_bound, on_norm_exceeded, interval_seconds, "
          "retain_versions, replay_versions, max_abs_value, evaluation, scoring, excluded)");
    }
  }
  if (p.k < 1 || p.k > kMaxCount) bad("'k' must be 1 to " + std::to_string(kMaxCount));
  if (!(p.alpha > 0 && p.alpha <= 1)) bad("'alpha' must be in (0, 1]");
  if (!(p.norm_bound >= 0) || !std::isfinite(p.norm_bound)) bad("'norm_bound' must be >= 0");
  if (!(p.interval_seconds >= 0) || !std::isfinite(p.interval_seconds)) bad("'interval_seconds' must be >= 0");
  if (p.interval_seconds > kMaxIntervalSeconds) bad("'interval_seconds' must be at most 1e7 (about 115 days)");
  if (p.retain_versions < 1 || p.retain_versions > kMaxCount)
    bad("'retain_versions' must be 1 to " + std::to_string(kMaxCount));
  if (p.replay_versions < 0 || p.replay_versions > kMaxCount)
    bad("'replay_versions' must be 0 to " + std::to_string(kMaxCount));
  if (p.loo_max_contributions < 0 || p.loo_max_contributions > 1000)
    bad("'scoring.loo_max_contributions' must be 0 to 1000");
  if (!(p.flag_margin >= 0 && p.flag_margin <= 2)) bad("'scoring.flag_margin' must be 0 (off) to 2");
  if (p.staleness.max_staleness < -1 || p.staleness.max_staleness > kMaxCount)
    bad("'staleness.max_staleness' must be -1 (no bound) to " + std::to_string(kMaxCount));
  if (!(p.max_abs_value >= 0) || !std::isfinite(p.max_abs_value) || p.max_abs_value > kMaxAbsLimit)
    bad("'max_abs_value' must be 0 (no bound) to 1e30");
  p.aggregator.resolved();  // validates the strategy's name and parameters
}

}  // namespace

std::string MergePolicy::to_json() const {
  json j{{"merge", fedhub::to_string(merge)},
         {"k", k},
         {"alpha", alpha},
         {"staleness", staleness_json(staleness)},
         {"aggregator", json::parse(aggregator.to_json())},
         {"norm_bound", norm_bound},
         {"on_norm_exceeded", clip_to_norm ? "clip" : "reject"},
         {"interval_seconds", interval_seconds},
         {"retain_versions", retain_versions},
         {"replay_versions", replay_versions},
         {"max_abs_value", max_abs_value},
         {"evaluation", {{"data", eval_data}, {"labels", eval_labels}}},
         {"scoring",
          {{"loo_max_contributions", loo_max_contributions},
           {"flag_margin", flag_margin},
           {"exclude_flagged", exclude_flagged}}},
         {"excluded", excluded}};
  return j.dump();
}

MergePolicy MergePolicy::from_json(const std::string& text) { return MergePolicy{}.patched(text); }

MergePolicy MergePolicy::patched(const std::string& text) const {
  MergePolicy p = *this;
  if (text.empty()) return p;
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    bad(std::string("not valid JSON: ") + e.what());
  }
  try {
    apply_patch(p, j);
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    if (what.rfind("merge policy: ", 0) == 0) throw;
    bad(what);
  }
  return p;
}

}  // namespace fedhub
