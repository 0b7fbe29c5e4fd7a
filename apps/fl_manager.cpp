// fl-manager: the model manager's console. Creates models, lists them, shows
// contributions, merges, evaluates, manages API keys; with no command it is
// an interactive console on one connection.
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "actors/hub_client.hpp"
#include "actors/system_config.hpp"
#include "apps/cli.hpp"
#include "apps/local_model.hpp"
#include "messages/events.hpp"
#include "messages/files.hpp"
#include "messages/requests.hpp"
#include "model/labels.hpp"

using namespace fedhub;
namespace po = boost::program_options;
using nlohmann::json;

namespace {

const char* kUsage =
    "Usage: fl-manager --hub HOST:PORT (--key KEY | --key-file F) [--json] <command> [args]\n"
    "\n"
    "Commands:\n"
    "  create NAME --arch FILE --labels FILE --recipe FILE [--seed N]\n"
    "         [--min-contributions N] [--aggregator fedavg|mean]\n"
    "                                 create a model; version 0 is initialised from the architecture\n"
    "  list                           models and their training status\n"
    "  status NAME [--version V]      current version, contributions for a version and from whom\n"
    "  merge NAME --base V            merge the contributions for version V into version V+1\n"
    "  download NAME [--version V] --out FILE\n"
    "                                 save a model package (spec and weights)\n"
    "  evaluate NAME [--version V] --data SPEC [--data-labels FILE]\n"
    "                                 accuracy, loss and per-class accuracy on local data\n"
    "  watch NAME [--merge-at N] [--versions R] [--data SPEC] [--data-labels FILE]\n"
    "                                 follow a model's events; merge whenever the current version has\n"
    "                                 N contributions; evaluate each new version; stop after R versions\n"
    "  policy NAME [--merge manual|buffered|async] [--k K] [--alpha A]\n"
    "         [--staleness drop|constant|polynomial|hinge|fedbuff] [--max-staleness S] [--a A] [--b B]\n"
    "         [--aggregator mean|fedavg|fedavgm|fedadam|fedyogi|fedadagrad|median|trimmed-mean|krum]\n"
    "         [--server-lr LR] [--norm-bound C] [--on-norm-exceeded reject|clip] [--interval T] ...\n"
    "                                 show the merge policy, or change the settings named\n"
    "                                 (unnamed settings keep their value; docs/aggregation.md)\n"
    "  keys add NAME --role participant|manager\n"
    "                                 create an API key (only the key is printed on stdout)\n"
    "  keys list                      API keys (names, roles; never the keys)\n"
    "  keys revoke NAME               revoke a key for good\n"
    "  whoami                         the name and role of your key\n"
    "With no command, fl-manager reads commands from standard input (an interactive console).\n"
    "Data sources (SPEC): idx:PREFIX[:CLASSES], cifar:PATH[:CLASSES], folder:DIR[:CLASSES] (docs/data.md).\n"
    "Exit status: 0 done, 1 refused or failed (the error's name is printed, e.g. 'stale'), 2 bad usage.\n";

struct Session {
  caf::actor_system& system;
  std::string hub;
  std::string key;
  std::chrono::milliseconds timeout;
  bool json_output = false;
  std::unique_ptr<HubClient> client;

  HubClient& connect() {
    if (!client) {
      auto [host, port] = parse_host_port(hub);
      client = std::make_unique<HubClient>(system, host, port, key, timeout);
    }
    return *client;
  }
};

std::string read_text(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(std::string("cannot read the ") + what + " file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string format_time(uint64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

const char* role_name(fb::Role r) { return r == fb::Role::manager ? "manager" : "participant"; }

po::variables_map parse(const std::vector<std::string>& args, po::options_description& opts,
                        po::positional_options_description* pos = nullptr) {
  po::variables_map vm;
  auto parser = po::command_line_parser(args).options(opts).style(cli::kStyle);
  if (pos) parser.positional(*pos);
  po::store(parser.run(), vm);
  po::notify(vm);
  return vm;
}

std::string need(const po::variables_map& vm, const char* name, const char* command) {
  if (!vm.count(name)) throw cli::UsageError(std::string(command) + " needs --" + name);
  return vm[name].as<std::string>();
}

// ---- commands ----

int cmd_create(Session& s, const std::vector<std::string>& args) {
  po::options_description o("create");
  o.add_options()("name", po::value<std::string>(), "model name")(
      "arch", po::value<std::string>(), "architecture JSON file")("labels", po::value<std::string>(),
                                                                  "label file, one per line")(
      "recipe", po::value<std::string>(), "recipe JSON file")("seed", po::value<uint64_t>()->default_value(1),
                                                              "seed of the initial weights")(
      "min-contributions", po::value<uint32_t>()->default_value(1), "contributions a merge needs")(
      "aggregator", po::value<std::string>()->default_value("fedavg"), "fedavg (by samples) or mean (the paper's)");
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  fb::ModelSpecT spec;
  spec.name = need(vm, "name", "create");
  spec.architecture_json = read_text(need(vm, "arch", "create"), "architecture");
  spec.labels = read_labels_file(need(vm, "labels", "create"));
  spec.recipe_json = read_text(need(vm, "recipe", "create"), "recipe");
  spec.min_contributions = vm["min-contributions"].as<uint32_t>();
  // Check locally first: the same rules the hub applies.
  auto parsed = make_model_spec(spec.name, spec.architecture_json, spec.labels, spec.recipe_json);
  spec.architecture_json = parsed.architecture.to_json();
  spec.recipe_json = parsed.recipe.to_json();
  auto weights = training::initialize_weights(parsed.architecture, vm["seed"].as<uint64_t>());
  json policy{{"merge", "manual"}, {"aggregator", {{"name", vm["aggregator"].as<std::string>()}}}};
  Buffer holder;
  const auto* r =
      s.connect().call_as<fb::CreateReceipt>(requests::create_model(s.key, spec, weights, policy.dump()), holder);
  if (s.json_output)
    std::cout << json{{"model", r->summary()->name()->str()},
                      {"version", r->summary()->current_version()},
                      {"parameters", r->summary()->parameters()}}
                     .dump()
              << "\n";
  else
    std::cout << "created model '" << r->summary()->name()->str() << "' (" << r->summary()->parameters()
              << " parameters, " << r->summary()->labels() << " labels) at version 0\n";
  return cli::kOk;
}

json summary_json(const fb::ModelSummary& m) {
  return json{{"name", m.name()->str()},
              {"current_version", m.current_version()},
              {"pending_contributions", m.pending_contributions()},
              {"min_contributions", m.min_contributions()},
              {"parameters", m.parameters()},
              {"labels", m.labels()},
              {"merging", m.merging()},
              {"created_at_ms", m.created_at_ms()},
              {"policy", m.policy_json() ? json::parse(m.policy_json()->str()) : json()}};
}

int cmd_list(Session& s, const std::vector<std::string>& args) {
  if (!args.empty()) throw cli::UsageError("list takes no arguments");
  Buffer holder;
  const auto* list = s.connect().call_as<fb::ModelList>(requests::list_models(s.key), holder);
  if (s.json_output) {
    json out = json::array();
    for (const auto* m : *list->models()) out.push_back(summary_json(*m));
    std::cout << out.dump() << "\n";
    return cli::kOk;
  }
  if (list->models()->size() == 0) {
    std::cout << "no models yet (create one with: fl-manager create NAME --arch ... --labels ... --recipe ...)\n";
    return cli::kOk;
  }
  std::cout << std::left << std::setw(24) << "MODEL" << std::setw(9) << "VERSION" << std::setw(9) << "PENDING"
            << std::setw(5) << "MIN" << std::setw(12) << "PARAMETERS" << std::setw(8) << "LABELS"
            << "STATE\n";
  for (const auto* m : *list->models())
    std::cout << std::left << std::setw(24) << m->name()->str() << std::setw(9) << m->current_version() << std::setw(9)
              << m->pending_contributions() << std::setw(5) << m->min_contributions() << std::setw(12)
              << m->parameters() << std::setw(8) << m->labels() << (m->merging() ? "merging" : "idle") << "\n";
  return cli::kOk;
}

int cmd_status(Session& s, const std::vector<std::string>& args) {
  po::options_description o("status");
  o.add_options()("name", po::value<std::string>())("version", po::value<int64_t>()->default_value(-1));
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  Buffer holder;
  const auto* st = s.connect().call_as<fb::ModelStatus>(
      requests::status(s.key, need(vm, "name", "status"), vm["version"].as<int64_t>()), holder);
  const auto* m = st->summary();
  if (s.json_output) {
    json out = summary_json(*m);
    out["version"] = st->version();
    json contributions = json::array();
    for (const auto* c : *st->contributions()) {
      json metrics = json::object();
      if (c->metrics())
        for (const auto* x : *c->metrics()) metrics[x->name()->str()] = x->value();
      contributions.push_back({{"participant", c->participant()->str()},
                               {"num_samples", c->num_samples()},
                               {"received_at_ms", c->received_at_ms()},
                               {"metrics", metrics}});
    }
    out["contributions"] = contributions;
    json versions = json::array();
    if (st->versions())
      for (const auto* v : *st->versions())
        versions.push_back({{"version", v->version()},
                            {"created_at_ms", v->created_at_ms()},
                            {"base_version", v->base_version()},
                            {"contributions", v->contributions()},
                            {"total_samples", v->total_samples()},
                            {"aggregator", v->aggregator() ? v->aggregator()->str() : ""}});
    out["versions"] = versions;
    std::cout << out.dump() << "\n";
    return cli::kOk;
  }
  std::cout << "model '" << m->name()->str() << "': current version " << m->current_version()
            << (m->merging() ? " (merging)" : "") << ", merges need " << m->min_contributions() << " contribution(s)\n";
  std::cout << "version " << st->version() << ": " << st->contributions()->size() << " contribution(s)\n";
  for (const auto* c : *st->contributions()) {
    std::cout << "  " << std::left << std::setw(20) << c->participant()->str() << std::setw(10) << c->num_samples()
              << "samples  " << format_time(c->received_at_ms()) << " UTC";
    if (c->metrics())
      for (const auto* x : *c->metrics()) std::cout << "  " << x->name()->str() << "=" << x->value();
    std::cout << "\n";
  }
  if (st->versions()) {
    std::cout << "versions:\n";
    for (const auto* v : *st->versions()) {
      std::cout << "  " << std::setw(5) << v->version() << " " << format_time(v->created_at_ms()) << " UTC  ";
      if (v->version() == 0)
        std::cout << "initial weights\n";
      else
        std::cout << v->contributions() << " contribution(s) to version " << v->base_version() << ", "
                  << v->total_samples() << " samples, " << (v->aggregator() ? v->aggregator()->str() : "") << "\n";
    }
  }
  return cli::kOk;
}

fb::MergeReceiptT merge(Session& s, const std::string& name, uint64_t base) {
  Buffer holder;
  fb::MergeReceiptT receipt;
  s.connect().call_as<fb::MergeReceipt>(requests::merge(s.key, name, base), holder)->UnPackTo(&receipt);
  return receipt;
}

void print_merge(const Session& s, const fb::MergeReceiptT& r) {
  if (s.json_output) {
    std::cout << json{{"model", r.model},
                      {"base_version", r.base_version},
                      {"new_version", r.new_version},
                      {"contributors", r.contributors},
                      {"total_samples", r.total_samples}}
                     .dump()
              << "\n";
  } else {
    std::cout << "merged " << r.contributors.size() << " contribution(s) to version " << r.base_version << " of '"
              << r.model << "' into version " << r.new_version << " (" << r.total_samples << " samples)\n";
  }
}

int cmd_merge(Session& s, const std::vector<std::string>& args) {
  po::options_description o("merge");
  o.add_options()("name", po::value<std::string>())("base", po::value<uint64_t>());
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  if (!vm.count("base"))
    throw cli::UsageError("merge needs --base V (the version the contributions were trained from)");
  print_merge(s, merge(s, need(vm, "name", "merge"), vm["base"].as<uint64_t>()));
  return cli::kOk;
}

LoadedModel fetch(Session& s, const std::string& name, int64_t version, Buffer* raw = nullptr) {
  Buffer package = s.connect().download_package(name, version);
  LoadedModel m = read_model_package(package);
  if (raw) *raw = std::move(package);
  return m;
}

int cmd_download(Session& s, const std::vector<std::string>& args) {
  po::options_description o("download");
  o.add_options()("name", po::value<std::string>())("version", po::value<int64_t>()->default_value(-1))(
      "out", po::value<std::string>());
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  const auto out = need(vm, "out", "download");
  Buffer raw;
  auto m = fetch(s, need(vm, "name", "download"), vm["version"].as<int64_t>(), &raw);
  write_file_atomic(out, raw);
  if (s.json_output)
    std::cout << json{{"model", m.spec.name}, {"version", m.version}, {"file", out}, {"bytes", raw.size()}}.dump()
              << "\n";
  else
    std::cout << "saved version " << m.version << " of '" << m.spec.name << "' to " << out << " (" << raw.size()
              << " bytes)\n";
  return cli::kOk;
}

training::Evaluation evaluate(const LoadedModel& m, const datasets::Dataset& data) {
  return training::evaluate(m.spec.architecture, m.weights, data);
}

int cmd_evaluate(Session& s, const std::vector<std::string>& args) {
  po::options_description o("evaluate");
  o.add_options()("name", po::value<std::string>())("version", po::value<int64_t>()->default_value(-1))(
      "data", po::value<std::string>())("data-labels", po::value<std::string>()->default_value(""));
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  auto m = fetch(s, need(vm, "name", "evaluate"), vm["version"].as<int64_t>());
  auto data = cli::load_data_for(m.spec, need(vm, "data", "evaluate"), vm["data-labels"].as<std::string>());
  auto e = evaluate(m, data);
  if (s.json_output) {
    auto j = cli::evaluation_json(e, m.spec.labels);
    j["model"] = m.spec.name;
    j["version"] = m.version;
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "model '" << m.spec.name << "' version " << m.version << ": "
              << cli::evaluation_text(e, m.spec.labels);
  }
  return cli::kOk;
}

// Follows a model: merges when the current version has enough contributions
// and evaluates each new version, driven by the hub's events.
int cmd_watch(Session& s, const std::vector<std::string>& args) {
  po::options_description o("watch");
  o.add_options()("name", po::value<std::string>())("merge-at", po::value<uint32_t>()->default_value(0))(
      "versions", po::value<uint64_t>()->default_value(0))("data", po::value<std::string>())(
      "data-labels", po::value<std::string>()->default_value(""));
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  const auto name = need(vm, "name", "watch");
  const uint32_t merge_at = vm["merge-at"].as<uint32_t>();
  const uint64_t max_versions = vm["versions"].as<uint64_t>();
  auto& client = s.connect();
  client.subscribe(name);  // first, so that no event is missed after the status below

  std::optional<datasets::Dataset> data;
  auto report = [&](int64_t version) {
    if (!vm.count("data")) return;
    auto m = fetch(s, name, version);
    if (!data) data = cli::load_data_for(m.spec, vm["data"].as<std::string>(), vm["data-labels"].as<std::string>());
    auto e = evaluate(m, *data);
    if (s.json_output) {
      auto j = cli::evaluation_json(e, m.spec.labels);
      j["event"] = "evaluation";
      j["version"] = m.version;
      std::cout << j.dump() << std::endl;
    } else {
      std::cout << "version " << m.version << ": accuracy " << std::fixed << std::setprecision(4) << e.accuracy
                << "  loss " << e.loss << std::defaultfloat << std::endl;
    }
  };
  auto try_merge = [&](uint64_t base, uint32_t have) {
    if (merge_at == 0 || have < merge_at) return;
    try {
      print_merge(s, merge(s, name, base));
    } catch (const RequestError& e) {
      // Another manager may have merged first: the version event tells.
      if (e.code() != ErrorCode::base_not_current && e.code() != ErrorCode::merge_in_progress) throw;
    }
  };

  Buffer holder;
  const auto* st = client.call_as<fb::ModelStatus>(requests::status(s.key, name, -1), holder);
  const uint64_t start = st->summary()->current_version();
  std::cout << "watching '" << name << "' from version " << start
            << (merge_at ? ", merging at " + std::to_string(merge_at) + " contributions" : std::string()) << std::endl;
  report(static_cast<int64_t>(start));
  try_merge(start, st->contributions()->size());
  uint64_t seen = 0;
  while (max_versions == 0 || seen < max_versions) {
    auto event = client.next_event(std::chrono::hours(24));
    if (!event) continue;
    const auto* ev = events::verify(*event);
    if (const auto* a = ev->body_as_ContributionAccepted()) {
      if (s.json_output)
        std::cout << json{{"event", "contribution"},
                          {"participant", a->participant()->str()},
                          {"base_version", a->base_version()},
                          {"contributions", a->contributions()}}
                         .dump()
                  << std::endl;
      else
        std::cout << "contribution from '" << a->participant()->str() << "' to version " << a->base_version() << " ("
                  << a->contributions() << " so far)" << std::endl;
      try_merge(a->base_version(), a->contributions());
    } else if (const auto* v = ev->body_as_VersionPublished()) {
      ++seen;
      if (s.json_output) {
        json merged = json::array();
        if (v->contributions())
          for (const auto* c : *v->contributions())
            merged.push_back({{"participant", c->participant()->str()},
                              {"base_version", c->base_version()},
                              {"staleness", c->staleness()},
                              {"num_samples", c->num_samples()},
                              {"weight", c->weight()},
                              {"clipped", c->clipped()}});
        std::cout << json{{"event", "version"},
                          {"version", v->version()},
                          {"aggregator", v->aggregator() ? v->aggregator()->str() : ""},
                          {"contributions", merged},
                          {"dropped", v->dropped()}}
                         .dump()
                  << std::endl;
      } else {
        std::cout << "new version " << v->version() << " (" << (v->aggregator() ? v->aggregator()->str() : "")
                  << ") from " << (v->contributions() ? v->contributions()->size() : 0) << " contribution(s):";
        if (v->contributions())
          for (const auto* c : *v->contributions())
            std::cout << " " << c->participant()->str() << "[base " << c->base_version() << ", staleness "
                      << c->staleness() << ", weight " << c->weight() << (c->clipped() ? ", clipped" : "") << "]";
        if (v->dropped()) std::cout << "; " << v->dropped() << " dropped as stale";
        std::cout << std::endl;
      }
      report(static_cast<int64_t>(v->version()));
    }
  }
  return cli::kOk;
}

// Shows or changes a model's merge policy: the named options become a JSON
// patch of the stored policy.
int cmd_policy(Session& s, const std::vector<std::string>& args) {
  po::options_description o("policy");
  o.add_options()("name", po::value<std::string>())("merge", po::value<std::string>(), "manual | buffered | async")(
      "k", po::value<int64_t>(), "buffered: merge at K contributions")(
      "alpha", po::value<double>(), "async: mixing weight in (0, 1]")("staleness", po::value<std::string>(),
                                                                      "drop | constant | polynomial | hinge | fedbuff")(
      "max-staleness", po::value<int64_t>(), "accept bases up to S versions old (-1: any)")(
      "a", po::value<double>(), "polynomial exponent / hinge slope")("b", po::value<double>(), "hinge knee")(
      "aggregator", po::value<std::string>(), "the aggregation strategy")(
      "server-lr", po::value<double>(), "server learning rate")("momentum", po::value<double>(), "FedAvgM momentum")(
      "beta1", po::value<double>(), "FedOpt beta1")("beta2", po::value<double>(), "FedOpt beta2")(
      "tau", po::value<double>(), "FedOpt tau")("weighting", po::value<std::string>(), "samples | uniform")(
      "trim-beta", po::value<double>(), "trimmed mean: fraction cut at each end")(
      "krum-f", po::value<int64_t>(), "Krum: Byzantine contributions tolerated")("multi-krum", po::value<int64_t>(),
                                                                                 "Krum: best-scored deltas averaged")(
      "norm-bound", po::value<double>(), "L2 bound of an update (0: none)")("on-norm-exceeded",
                                                                            po::value<std::string>(), "reject | clip")(
      "interval", po::value<double>(), "also merge every T seconds (0: off)")("retain-versions", po::value<int64_t>(),
                                                                              "versions whose weights are kept")(
      "dp", po::value<std::string>(), "central differential privacy: on | off")(
      "dp-clip", po::value<double>(), "DP clip norm C")("dp-noise", po::value<double>(), "DP noise multiplier z")(
      "dp-adaptive", po::value<std::string>(), "adaptive clipping: on | off");
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  const auto name = need(vm, "name", "policy");
  json patch = json::object();
  auto put = [&](const char* option, json& target, const char* key) {
    if (!vm.count(option)) return;
    const auto& v = vm[option].value();
    if (v.type() == typeid(std::string))
      target[key] = vm[option].as<std::string>();
    else if (v.type() == typeid(double))
      target[key] = vm[option].as<double>();
    else
      target[key] = vm[option].as<int64_t>();
  };
  auto on_off = [&](const char* option) {
    const auto v = vm[option].as<std::string>();
    if (v != "on" && v != "off") throw cli::UsageError(std::string("--") + option + " is on or off");
    return v == "on";
  };
  put("merge", patch, "merge");
  put("k", patch, "k");
  put("alpha", patch, "alpha");
  put("norm-bound", patch, "norm_bound");
  put("on-norm-exceeded", patch, "on_norm_exceeded");
  put("interval", patch, "interval_seconds");
  put("retain-versions", patch, "retain_versions");
  json staleness = json::object();
  put("staleness", staleness, "kind");
  put("max-staleness", staleness, "max_staleness");
  put("a", staleness, "a");
  put("b", staleness, "b");
  if (!staleness.empty()) patch["staleness"] = staleness;
  json aggregator = json::object();
  put("aggregator", aggregator, "name");
  put("server-lr", aggregator, "server_lr");
  put("momentum", aggregator, "momentum");
  put("beta1", aggregator, "beta1");
  put("beta2", aggregator, "beta2");
  put("tau", aggregator, "tau");
  put("weighting", aggregator, "weighting");
  put("trim-beta", aggregator, "trim_beta");
  put("krum-f", aggregator, "krum_byzantine");
  put("multi-krum", aggregator, "multi_krum");
  json dp = json::object();
  if (vm.count("dp")) dp["enabled"] = on_off("dp");
  put("dp-clip", dp, "clip_norm");
  put("dp-noise", dp, "noise_multiplier");
  if (vm.count("dp-adaptive")) dp["adaptive_clipping"] = on_off("dp-adaptive");
  if (!dp.empty()) aggregator["dp"] = dp;
  if (!aggregator.empty()) patch["aggregator"] = aggregator;

  Buffer holder;
  const auto* info = s.connect().call_as<fb::PolicyInfo>(
      requests::policy(s.key, name, patch.empty() ? std::string() : patch.dump()), holder);
  const auto policy = json::parse(info->policy_json()->str());
  if (s.json_output) {
    std::cout << policy.dump() << "\n";
    return cli::kOk;
  }
  const auto& st = policy["staleness"];
  const auto& ag = policy["aggregator"];
  std::cout << "model '" << name << "'" << (patch.empty() ? "" : " (updated)") << "\n"
            << "  merge:       " << policy["merge"].get<std::string>();
  if (policy["merge"] == "buffered") std::cout << " at k=" << policy["k"];
  if (policy["merge"] == "async") std::cout << " with alpha=" << policy["alpha"];
  if (policy["interval_seconds"].get<double>() > 0) std::cout << ", and every " << policy["interval_seconds"] << " s";
  std::cout << "\n  staleness:   " << st["kind"].get<std::string>();
  if (st["kind"] != "drop")
    std::cout << " up to " << st["max_staleness"] << " versions (a=" << st["a"] << ", b=" << st["b"] << ")";
  std::cout << "\n  aggregator:  " << ag.dump() << "\n  norm bound:  ";
  if (policy["norm_bound"].get<double>() > 0)
    std::cout << policy["norm_bound"] << " (" << policy["on_norm_exceeded"].get<std::string>() << ")";
  else
    std::cout << "none";
  std::cout << "\n  keeps:       the weights of the last " << policy["retain_versions"] << " versions at least\n";
  return cli::kOk;
}

int cmd_keys(Session& s, const std::vector<std::string>& args) {
  if (args.empty()) throw cli::UsageError("keys needs add, list or revoke");
  const auto sub = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  Buffer holder;
  if (sub == "add") {
    po::options_description o("keys add");
    o.add_options()("name", po::value<std::string>())("role", po::value<std::string>()->default_value("participant"));
    po::positional_options_description pos;
    pos.add("name", 1);
    auto vm = parse(rest, o, &pos);
    const auto role_text = vm["role"].as<std::string>();
    if (role_text != "participant" && role_text != "manager")
      throw cli::UsageError("--role is participant or manager, not '" + role_text + "'");
    const auto role = role_text == "manager" ? fb::Role::manager : fb::Role::participant;
    const auto* k =
        s.connect().call_as<fb::KeyCreated>(requests::add_key(s.key, need(vm, "name", "keys add"), role), holder);
    if (s.json_output)
      std::cout << json{{"name", k->name()->str()}, {"role", role_name(k->role())}, {"key", k->key()->str()}}.dump()
                << "\n";
    else
      std::cout << k->key()->str() << "\n";
    return cli::kOk;
  }
  if (sub == "list") {
    const auto* list = s.connect().call_as<fb::KeyList>(requests::list_keys(s.key), holder);
    json out = json::array();
    for (const auto* k : *list->keys()) {
      if (s.json_output)
        out.push_back({{"name", k->name()->str()},
                       {"role", role_name(k->role())},
                       {"created_at_ms", k->created_at_ms()},
                       {"revoked", k->revoked()}});
      else
        std::cout << std::left << std::setw(24) << k->name()->str() << std::setw(13) << role_name(k->role())
                  << format_time(k->created_at_ms()) << " UTC" << (k->revoked() ? "  revoked" : "") << "\n";
    }
    if (s.json_output) std::cout << out.dump() << "\n";
    return cli::kOk;
  }
  if (sub == "revoke") {
    if (rest.size() != 1) throw cli::UsageError("keys revoke needs exactly one NAME");
    const auto* a = s.connect().call_as<fb::Ack>(requests::revoke_key(s.key, rest[0]), holder);
    std::cout << (s.json_output ? json{{"revoked", rest[0]}}.dump() : a->message()->str()) << "\n";
    return cli::kOk;
  }
  throw cli::UsageError("unknown keys command '" + sub + "' (use add, list or revoke)");
}

int cmd_whoami(Session& s, const std::vector<std::string>&) {
  Buffer holder;
  const auto* id = s.connect().call_as<fb::Identity>(requests::whoami(s.key), holder);
  if (s.json_output)
    std::cout << json{{"name", id->name()->str()}, {"role", role_name(id->role())}}.dump() << "\n";
  else
    std::cout << id->name()->str() << " (" << role_name(id->role()) << ")\n";
  return cli::kOk;
}

int run_command(Session& s, std::vector<std::string> args) {
  if (args.empty()) throw cli::UsageError("no command");
  const auto command = args[0];
  args.erase(args.begin());
  if (command == "create") return cmd_create(s, args);
  if (command == "list") return cmd_list(s, args);
  if (command == "status") return cmd_status(s, args);
  if (command == "merge") return cmd_merge(s, args);
  if (command == "download") return cmd_download(s, args);
  if (command == "evaluate") return cmd_evaluate(s, args);
  if (command == "watch") return cmd_watch(s, args);
  if (command == "keys") return cmd_keys(s, args);
  if (command == "policy") return cmd_policy(s, args);
  if (command == "whoami") return cmd_whoami(s, args);
  throw cli::UsageError("unknown command '" + command + "'");
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false, any = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (!quoted && (c == ' ' || c == '\t')) {
      if (any) words.push_back(word);
      word.clear();
      any = false;
    } else {
      word += c;
      any = true;
    }
  }
  if (any) words.push_back(word);
  return words;
}

// The interactive console: one command per line, errors do not end it.
int console(Session& s) {
  const bool tty = isatty(0);
  if (tty) std::cout << "fedhub manager console on " << s.hub << " (help, quit)\n";
  std::string line;
  int last = cli::kOk;
  while ((tty ? std::cout << "fedhub> " << std::flush : std::cout), std::getline(std::cin, line)) {
    auto words = split_words(line);
    if (words.empty() || words[0][0] == '#') continue;
    if (words[0] == "quit" || words[0] == "exit") break;
    if (words[0] == "help") {
      std::cout << kUsage;
      continue;
    }
    try {
      last = run_command(s, words);
    } catch (const cli::UsageError& e) {
      std::cerr << "fl-manager: " << e.what() << " (type help)\n";
      last = cli::kUsage;
    } catch (const po::error& e) {
      std::cerr << "fl-manager: " << e.what() << " (type help)\n";
      last = cli::kUsage;
    } catch (const RequestError& e) {
      std::cerr << "fl-manager: error: " << e.describe() << "\n";
      last = cli::kFailed;
      if (e.code() == ErrorCode::unavailable) s.client.reset();
    } catch (const std::exception& e) {
      std::cerr << "fl-manager: error: " << e.what() << "\n";
      last = cli::kFailed;
    }
  }
  return last;
}

int manager_main(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help")("json", "print results as JSON");
  cli::add_hub_options(opts);
  po::variables_map vm;
  auto parsed = po::command_line_parser(argc, argv).options(opts).style(cli::kStyle).allow_unregistered().run();
  po::store(parsed, vm);
  po::notify(vm);
  auto rest = po::collect_unrecognized(parsed.options, po::include_positional);
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << opts;
    return cli::kOk;
  }
  if (!rest.empty() && rest[0].rfind("--", 0) == 0) throw cli::UsageError("unknown option '" + rest[0] + "'");
  SystemConfig cfg(2);
  caf::actor_system system{cfg};
  Session s{system,
            vm["hub"].as<std::string>(),
            cli::read_key(vm),
            std::chrono::milliseconds(static_cast<int64_t>(vm["timeout"].as<double>() * 1000)),
            vm.count("json") > 0,
            nullptr};
  int rc = rest.empty() ? console(s) : run_command(s, rest);
  s.client.reset();
  return rc;
}

}  // namespace

int main(int argc, char** argv) { return cli::run_guarded("fl-manager", manager_main, argc, argv); }
