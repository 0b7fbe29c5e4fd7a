#include "sim/scenario.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "model/labels.hpp"
#include "model/model_spec.hpp"

namespace fedhub::sim {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// One JSON value with its path in the file, for errors that name it.
struct Field {
  const json& v;
  std::string path;
  const std::string& where;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument(where + ": " + path + ": " + what);
  }
  [[noreturn]] void expected(const std::string& what) const {
    std::string got = v.dump();
    if (got.size() > 60) got = got.substr(0, 57) + "...";
    fail("expected " + what + ", got " + got);
  }
  Field at(const std::string& key) const { return {v.at(key), path.empty() ? key : path + "." + key, where}; }
  Field at(size_t i) const { return {v.at(i), path + "[" + std::to_string(i) + "]", where}; }
  bool has(const char* key) const { return v.contains(key); }

  // Refuses keys outside `known`.
  void only(std::initializer_list<const char*> known) const {
    if (!v.is_object()) expected("an object");
    std::set<std::string> k(known.begin(), known.end());
    for (const auto& [key, value] : v.items())
      if (!k.count(key)) {
        std::string list;
        for (const auto* n : known) list += std::string(list.empty() ? "" : ", ") + n;
        Field{value, path.empty() ? key : path + "." + key, where}.fail("unknown field (known: " + list + ")");
      }
  }
  std::string text() const {
    if (!v.is_string() || v.get<std::string>().empty()) expected("a non-empty string");
    return v.get<std::string>();
  }
  double number(double lo, double hi, const std::string& range) const {
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < lo || v.get<double>() > hi)
      expected("a number " + range);
    return v.get<double>();
  }
  int64_t whole(int64_t lo, int64_t hi) const {
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi)
      expected("a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return v.get<int64_t>();
  }
};

std::string read_text(const std::string& path, const Field& f) {
  std::ifstream in(path);
  if (!in) f.fail("cannot read the file '" + path + "'");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string resolve(const std::string& folder, const std::string& p) {
  return fs::path(p).is_absolute() || folder.empty() ? p : (fs::path(folder) / p).lexically_normal().string();
}

// A JSON document given inline or as a file name.
std::string document(const Field& f, const std::string& folder) {
  if (f.v.is_object()) return f.v.dump();
  if (f.v.is_string()) return read_text(resolve(folder, f.text()), f);
  f.expected("a JSON object or the name of a file holding one");
}

MergeSpec merge_of(const Field& f) {
  f.only({"name", "policy", "min_contributions", "merge_at"});
  MergeSpec m;
  if (f.has("name")) {
    m.name = f.at("name").text();
    if (auto why = check_model_name(m.name); !why.empty()) f.at("name").fail(why);
  }
  if (f.has("policy")) {
    const auto p = f.at("policy");
    if (!p.v.is_object()) p.expected("a merge policy object (docs/aggregation.md)");
    m.policy_json = p.v.dump();
  }
  if (f.has("min_contributions"))
    m.min_contributions = static_cast<uint32_t>(f.at("min_contributions").whole(1, 1000000));
  if (f.has("merge_at")) m.merge_at = static_cast<uint32_t>(f.at("merge_at").whole(0, 1000000));
  return m;
}

PartitionSpec partition_of(const Field& f, size_t labels) {
  f.only({"kind", "alpha", "classes", "samples"});
  PartitionSpec p;
  if (f.has("kind")) {
    const auto k = f.at("kind").text();
    if (k == "shared")
      p.kind = PartitionSpec::Kind::shared;
    else if (k == "iid")
      p.kind = PartitionSpec::Kind::iid;
    else if (k == "dirichlet")
      p.kind = PartitionSpec::Kind::dirichlet;
    else
      f.at("kind").expected("shared, iid or dirichlet");
  }
  if (f.has("alpha")) p.alpha = f.at("alpha").number(1e-6, 1e6, "from 1e-6 to 1e6");
  if (f.has("classes")) {
    const auto c = f.at("classes");
    if (!c.v.is_array()) c.expected("a list of label indices");
    for (size_t i = 0; i < c.v.size(); ++i)
      p.classes.push_back(static_cast<int32_t>(c.at(i).whole(0, static_cast<int64_t>(labels) - 1)));
  }
  if (f.has("samples")) p.samples = f.at("samples").whole(0, int64_t{1} << 40);
  return p;
}

}  // namespace

Scenario parse_scenario(const std::string& text, const std::string& folder, const std::string& where) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number too large (1e999)
    throw std::invalid_argument(where + ": not valid JSON: " + e.what());
  }
  const Field root{doc, "", where};
  root.only({"name", "description", "model", "data", "participants", "merge", "run", "evaluation", "baseline",
             "variants", "target_accuracy", "target_window"});
  Scenario s;
  for (const char* required : {"name", "model", "data", "participants", "evaluation"})
    if (!root.has(required)) root.fail(std::string("the field '") + required + "' is missing");
  s.name = root.at("name").text();

  const auto model = root.at("model");
  model.only({"name", "architecture", "labels", "recipe", "init_seed", "weights", "weights_layout"});
  for (const char* required : {"architecture", "labels", "recipe"})
    if (!model.has(required)) model.fail(std::string("the field '") + required + "' is missing");
  s.model = model.has("name") ? model.at("name").text() : s.name;
  if (auto why = check_model_name(s.model); !why.empty())
    (model.has("name") ? model.at("name") : root.at("name")).fail(why);
  s.architecture_json = document(model.at("architecture"), folder);
  s.recipe_json = document(model.at("recipe"), folder);
  const auto labels = model.at("labels");
  if (labels.v.is_array()) {
    for (size_t i = 0; i < labels.v.size(); ++i) s.labels.push_back(labels.at(i).text());
  } else if (labels.v.is_string()) {
    const auto path = resolve(folder, labels.text());
    read_text(path, labels);  // names the field when it cannot be read
    s.labels = read_labels_file(path);
  } else {
    labels.expected("a list of label names or a labels file (one per line)");
  }
  if (model.has("init_seed")) s.init_seed = static_cast<uint64_t>(model.at("init_seed").whole(0, INT64_MAX));
  if (model.has("weights")) s.weights_path = resolve(folder, model.at("weights").text());
  if (model.has("weights_layout")) {
    s.weights_layout = model.at("weights_layout").text();
    if (s.weights_layout != "keras" && s.weights_layout != "torch")
      model.at("weights_layout").expected("\"keras\" or \"torch\"");
  }
  try {
    make_model_spec(s.model, s.architecture_json, s.labels, s.recipe_json);
  } catch (const std::exception& e) {
    model.fail(e.what());
  }

  const auto data = root.at("data");
  if (!data.v.is_object() || data.v.empty()) data.expected("an object naming data sources");
  for (const auto& [name, value] : data.v.items()) {
    const Field d{value, "data." + name, where};
    d.only({"source", "labels_file"});
    if (!d.has("source")) d.fail("the field 'source' is missing");
    DataSourceSpec src;
    src.source = d.at("source").text();
    if (src.source.rfind("cifar10:", 0) != 0 && src.source.find(':') == std::string::npos)
      d.at("source").expected("a data source KIND:PATH (idx:, cifar:, folder:) or cifar10:train|test");
    if (src.source.rfind("cifar10:", 0) == 0 && src.source != "cifar10:train" && src.source != "cifar10:test")
      d.at("source").expected("cifar10:train or cifar10:test");
    // A relative path inside idx:/cifar:/folder: is taken from the scenario's folder.
    if (src.source.rfind("cifar10:", 0) != 0) {
      const auto colon = src.source.find(':');
      const auto rest = src.source.substr(colon + 1);
      if (!rest.empty() && rest[0] != '/') src.source = src.source.substr(0, colon + 1) + resolve(folder, rest);
    }
    if (d.has("labels_file")) src.labels_file = resolve(folder, d.at("labels_file").text());
    s.data[name] = src;
  }
  auto data_name = [&](const Field& f) {
    const auto n = f.text();
    if (!s.data.count(n)) f.fail("names no data source (see \"data\")");
    return n;
  };

  const auto parts = root.at("participants");
  if (!parts.v.is_array() || parts.v.empty()) parts.expected("a non-empty list of participant groups");
  std::set<std::string> names;
  for (size_t i = 0; i < parts.v.size(); ++i) {
    const auto p = parts.at(i);
    p.only({"name", "count", "data", "partition", "speed", "speed_max", "jitter", "dropout", "behaviour", "noise",
            "samples_per_round"});
    for (const char* required : {"name", "data"})
      if (!p.has(required)) p.fail(std::string("the field '") + required + "' is missing");
    ParticipantGroup g;
    g.name = p.at("name").text();
    if (auto why = check_model_name(g.name); !why.empty()) p.at("name").fail(why);
    if (!names.insert(g.name).second) p.at("name").fail("another group has this name");
    if (p.has("count")) g.count = static_cast<int>(p.at("count").whole(1, 100000));
    g.data = data_name(p.at("data"));
    if (p.has("partition")) g.partition = partition_of(p.at("partition"), s.labels.size());
    if (p.has("speed")) g.speed = p.at("speed").number(1e-6, 1e6, "> 0");
    if (p.has("speed_max")) {
      g.speed_max = p.at("speed_max").number(1e-6, 1e6, "> 0");
      if (g.speed_max < g.speed) p.at("speed_max").expected("a number >= speed (" + std::to_string(g.speed) + ")");
    }
    if (p.has("jitter")) g.jitter = p.at("jitter").number(0, 0.999, "in [0, 1)");
    if (p.has("dropout")) g.dropout = p.at("dropout").number(0, 0.999, "in [0, 1)");
    if (p.has("behaviour")) {
      g.behaviour = p.at("behaviour").text();
      if (g.behaviour != "honest" && g.behaviour != "noise" && g.behaviour != "flip-labels")
        p.at("behaviour").expected("honest, noise or flip-labels");
    }
    if (p.has("noise")) g.noise = p.at("noise").number(0, 1e6, "from 0 to 1e6");
    if (p.has("samples_per_round")) g.samples_per_round = p.at("samples_per_round").whole(0, int64_t{1} << 40);
    s.participants.push_back(std::move(g));
  }

  if (root.has("merge")) s.merge = merge_of(root.at("merge"));
  if (root.has("run")) {
    const auto r = root.at("run");
    r.only({"rounds", "virtual_seconds", "seconds_per_step", "seed", "stop_at_target", "trainers"});
    if (r.has("trainers")) s.trainers = static_cast<int>(r.at("trainers").whole(1, 64));
    if (r.has("stop_at_target")) {
      const auto f = r.at("stop_at_target");
      if (!f.v.is_boolean()) f.expected("true or false");
      s.stop_at_target = f.v.get<bool>();
    }
    if (r.has("rounds")) s.rounds = static_cast<uint64_t>(r.at("rounds").whole(1, 1000000));
    if (r.has("virtual_seconds")) s.virtual_seconds = r.at("virtual_seconds").number(0, 1e12, "from 0 to 1e12");
    if (r.has("seconds_per_step")) s.seconds_per_step = r.at("seconds_per_step").number(0, 1e6, "from 0 to 1e6");
    if (r.has("seed")) s.seed = static_cast<uint64_t>(r.at("seed").whole(0, INT64_MAX));
  }

  const auto eval = root.at("evaluation");
  if (!eval.v.is_array() || eval.v.empty()) eval.expected("a non-empty list of {\"name\", \"data\"}");
  for (size_t i = 0; i < eval.v.size(); ++i) {
    const auto e = eval.at(i);
    e.only({"name", "data"});
    if (!e.has("name") || !e.has("data")) e.fail("needs \"name\" and \"data\"");
    s.evaluation.push_back({e.at("name").text(), data_name(e.at("data"))});
  }
  if (root.has("baseline")) {
    s.baseline = root.at("baseline").text();
    if (s.baseline != "none" && s.baseline != "centralized") root.at("baseline").expected("none or centralized");
  }
  if (root.has("variants")) {
    const auto vs = root.at("variants");
    if (!vs.v.is_array()) vs.expected("a list of {\"name\", \"merge\"}");
    for (size_t i = 0; i < vs.v.size(); ++i) {
      const auto v = vs.at(i);
      v.only({"name", "merge"});
      if (!v.has("name") || !v.has("merge")) v.fail("needs \"name\" and \"merge\"");
      const auto name = v.at("name").text();
      if (auto why = check_model_name(name); !why.empty()) v.at("name").fail(why);  // also a file name
      s.variants.push_back({name, merge_of(v.at("merge"))});
    }
  }
  if (root.has("target_accuracy")) s.target_accuracy = root.at("target_accuracy").number(0, 1, "in [0, 1]");
  if (root.has("target_window")) s.target_window = static_cast<int>(root.at("target_window").whole(1, 1000));
  if (s.stop_at_target && !s.target_accuracy) root.at("run").fail("stop_at_target needs a target_accuracy");
  return s;
}

Scenario load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the scenario file '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), fs::path(path).parent_path().string(), path);
}

}  // namespace fedhub::sim
