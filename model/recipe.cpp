#include "model/recipe.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace fedhub {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("recipe: " + what); }

void check_fields(const json& j, const std::set<std::string>& allowed, const std::string& where) {
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!allowed.count(it.key())) fail(where + ": unknown field '" + it.key() + "'");
}

double number(const json& j, const char* field, double lo, double hi, bool lo_open) {
  if (!j.contains(field)) return NAN;
  const auto& v = j[field];
  if (!v.is_number()) fail(std::string("'") + field + "' must be a number");
  double x = v.get<double>();
  if (!(lo_open ? x > lo : x >= lo) || !(x <= hi)) fail(std::string("'") + field + "' is out of range: " + v.dump());
  return x;
}

int64_t count(const json& j, const char* field, int64_t fallback, bool allow_zero) {
  if (!j.contains(field)) return fallback;
  const auto& v = j[field];
  if (!v.is_number_integer() || v.get<int64_t>() < (allow_zero ? 0 : 1))
    fail(std::string("'") + field + "' must be a " + (allow_zero ? "non-negative" : "positive") + " integer, got " +
         v.dump());
  return v.get<int64_t>();
}

}  // namespace

Recipe parse_recipe(const std::string& text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number too large (1e999)
    fail(std::string("not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) fail("must be a JSON object");
  check_fields(
      doc,
      {"optimizer", "batch_size", "steps", "samples_per_round", "seed", "loss", "freeze", "learning_rate_schedule"},
      "document");
  Recipe r;
  if (doc.contains("loss") && doc["loss"] != "softmax_cross_entropy" && doc["loss"] != "categorical_crossentropy" &&
      doc["loss"] != "sparse_categorical_crossentropy")
    fail("only the softmax cross-entropy loss is supported");
  if (doc.contains("optimizer")) {
    const auto& o = doc["optimizer"];
    if (o.is_string()) {
      r.optimizer.name = o.get<std::string>();
    } else if (o.is_object()) {
      check_fields(o,
                   {"name", "learning_rate", "momentum", "nesterov", "beta1", "beta_1", "beta2", "beta_2", "epsilon",
                    "weight_decay"},
                   "optimizer");
      if (!o.contains("name") || !o["name"].is_string()) fail("optimizer needs a \"name\"");
      r.optimizer.name = o["name"].get<std::string>();
      auto set = [&](const char* field, double& out, double lo, double hi, bool lo_open) {
        double v = number(o, field, lo, hi, lo_open);
        if (!std::isnan(v)) out = v;
      };
      set("learning_rate", r.optimizer.learning_rate, 0.0, 1e6, true);
      set("momentum", r.optimizer.momentum, 0.0, 0.999999, false);
      set("beta1", r.optimizer.beta1, 0.0, 0.999999, false);
      set("beta_1", r.optimizer.beta1, 0.0, 0.999999, false);
      set("beta2", r.optimizer.beta2, 0.0, 0.999999999, false);
      set("beta_2", r.optimizer.beta2, 0.0, 0.999999999, false);
      set("epsilon", r.optimizer.epsilon, 0.0, 1.0, true);
      set("weight_decay", r.optimizer.weight_decay, 0.0, 1.0, false);
      if (o.contains("nesterov")) {
        if (!o["nesterov"].is_boolean()) fail("'nesterov' must be true or false");
        r.optimizer.nesterov = o["nesterov"].get<bool>();
      }
    } else {
      fail("'optimizer' must be a name or an object");
    }
    if (r.optimizer.name != "adam" && r.optimizer.name != "sgd")
      fail("unknown optimizer '" + r.optimizer.name + "' (use adam or sgd)");
    if (r.optimizer.name == "sgd" && !(o.is_object() && o.contains("learning_rate"))) r.optimizer.learning_rate = 0.01;
  }
  r.batch_size = count(doc, "batch_size", r.batch_size, false);
  r.steps = count(doc, "steps", r.steps, false);
  r.samples_per_round = count(doc, "samples_per_round", r.samples_per_round, true);
  if (doc.contains("seed")) {
    if (!doc["seed"].is_number_unsigned()) fail("'seed' must be a non-negative integer");
    r.seed = doc["seed"].get<uint64_t>();
  }
  if (doc.contains("freeze")) {
    const auto& f = doc["freeze"];
    if (!f.is_array()) fail("'freeze' must be a list of layer names");
    std::set<std::string> seen;
    for (const auto& n : f) {
      if (!n.is_string() || n.get<std::string>().empty()) fail("'freeze' holds " + n.dump() + ", not a layer name");
      if (!seen.insert(n.get<std::string>()).second) fail("'freeze' names layer '" + n.get<std::string>() + "' twice");
      r.freeze.push_back(n.get<std::string>());
    }
  }
  if (doc.contains("learning_rate_schedule")) {
    const auto& sched = doc["learning_rate_schedule"];
    if (!sched.is_array())
      fail("'learning_rate_schedule' must be a list of {\"from_version\": V, \"learning_rate\": LR}");
    for (size_t i = 0; i < sched.size(); ++i) {
      const auto& e = sched[i];
      const std::string where = "learning_rate_schedule[" + std::to_string(i) + "]";
      if (!e.is_object()) fail(where + " must be an object {\"from_version\": V, \"learning_rate\": LR}");
      check_fields(e, {"from_version", "learning_rate"}, where);
      if (!e.contains("from_version") || !e["from_version"].is_number_unsigned() ||
          e["from_version"].get<uint64_t>() < 1)
        fail(where + ": 'from_version' must be an integer >= 1");
      if (!e.contains("learning_rate") || !e["learning_rate"].is_number() ||
          !(e["learning_rate"].get<double>() > 0 && e["learning_rate"].get<double>() <= 1e6))
        fail(where + ": 'learning_rate' must be a number > 0 and <= 1e6" +
             (e.contains("learning_rate") ? ", got " + e["learning_rate"].dump() : std::string()));
      LearningRateStep step;
      step.from_version = e["from_version"].get<uint64_t>();
      step.learning_rate = e["learning_rate"].get<double>();
      if (!r.learning_rate_schedule.empty() && step.from_version <= r.learning_rate_schedule.back().from_version)
        fail(where + ": 'from_version' " + std::to_string(step.from_version) +
             " must be greater than the step before's " + std::to_string(r.learning_rate_schedule.back().from_version));
      r.learning_rate_schedule.push_back(step);
    }
  }
  return r;
}

double Recipe::learning_rate_at(uint64_t base_version) const {
  double lr = optimizer.learning_rate;
  for (const auto& step : learning_rate_schedule)
    if (step.from_version <= base_version) lr = step.learning_rate;
  return lr;
}

Recipe Recipe::for_version(uint64_t base_version) const {
  Recipe r = *this;
  r.optimizer.learning_rate = learning_rate_at(base_version);
  return r;
}

std::string Recipe::to_json() const {
  json o{
      {"name", optimizer.name}, {"learning_rate", optimizer.learning_rate}, {"weight_decay", optimizer.weight_decay}};
  if (optimizer.name == "sgd") {
    o["momentum"] = optimizer.momentum;
    o["nesterov"] = optimizer.nesterov;
  } else {
    o["beta1"] = optimizer.beta1;
    o["beta2"] = optimizer.beta2;
    o["epsilon"] = optimizer.epsilon;
  }
  json doc{{"optimizer", o},
           {"batch_size", batch_size},
           {"steps", steps},
           {"samples_per_round", samples_per_round},
           {"seed", seed}};
  if (!freeze.empty()) doc["freeze"] = freeze;
  if (!learning_rate_schedule.empty()) {
    json sched = json::array();
    for (const auto& step : learning_rate_schedule)
      sched.push_back({{"from_version", step.from_version}, {"learning_rate", step.learning_rate}});
    doc["learning_rate_schedule"] = sched;
  }
  return doc.dump();
}

}  // namespace fedhub
