// Commands about merging: merge, watch (event-driven merges and evaluations),
// policy.
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include "apps/cli.hpp"
#include "apps/local_model.hpp"
#include "apps/manager/session.hpp"
#include "apps/reconnect.hpp"
#include "client/json_views.hpp"
#include "client/requests.hpp"
#include "messages/events.hpp"

namespace fedhub::manager {

int cmd_merge(Session& s, const Args& args) {
  po::options_description o("merge");
  o.add_options()("name", po::value<std::string>())("base", po::value<int64_t>());
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  if (!vm.count("base"))
    throw cli::UsageError("merge needs --base V (the version the contributions were trained from)");
  print_merge(s, merge(s, need(vm, "name", "merge"), cli::whole(vm, "base", 0, INT64_MAX)));
  return cli::kOk;
}

namespace {

void print_contribution(const Session& s, const fb::ContributionAccepted& a) {
  if (s.json_output)
    std::cout << json{{"event", "contribution"},
                      {"participant", a.participant()->str()},
                      {"base_version", a.base_version()},
                      {"contributions", a.contributions()}}
                     .dump()
              << std::endl;
  else
    std::cout << "contribution from '" << a.participant()->str() << "' to version " << a.base_version() << " ("
              << a.contributions() << " so far)" << std::endl;
}

// The event as the HTTP API's event stream has it (client/json_views.hpp).
void print_version_json(const fb::VersionPublished& v) {
  auto j = json_views::version_published(v);
  j["event"] = "version";
  std::cout << j.dump() << std::endl;
}

std::string accuracy_text(const training::Evaluation& e) {
  std::ostringstream o;
  o << "accuracy " << std::fixed << std::setprecision(4) << e.accuracy << "  loss " << e.loss;
  return o.str();
}

// One line per merge: "version 3: accuracy 0.8123  loss 0.5012  from 2
// contributions (p1 staleness 0 weight 0.5, p2 staleness 1 weight 0.5),
// fedavg; 1 dropped as stale". The accuracy only when evaluated; it comes
// first so that "version V: accuracy A" reads the same with or without the
// merge (scripts/demo.sh greps it).
void print_version_line(const fb::VersionPublished& v, const std::optional<training::Evaluation>& e) {
  const auto n = v.contributions() ? v.contributions()->size() : 0;
  std::cout << "version " << v.version() << ": " << (e ? accuracy_text(*e) + "  " : "") << "from " << n
            << (n == 1 ? " contribution" : " contributions");
  if (n) {
    const char* sep = " (";
    for (const auto* c : *v.contributions()) {
      std::cout << sep << c->participant()->str() << " staleness " << c->staleness() << " weight " << c->weight()
                << (c->clipped() ? " clipped" : "");
      sep = ", ";
    }
    std::cout << ")";
  }
  if (v.aggregator() && v.aggregator()->size()) std::cout << ", " << v.aggregator()->str();
  if (v.dropped()) std::cout << "; " << v.dropped() << " dropped as stale";
  std::cout << std::endl;
}

}  // namespace

// Follows a model: merges when the current version has enough contributions
// and evaluates each new version, driven by the hub's events. Survives a lost
// hub by reconnecting (--reconnect seconds).
int cmd_watch(Session& s, const Args& args) {
  po::options_description o("watch");
  o.add_options()("name", po::value<std::string>())("merge-at", po::value<int64_t>()->default_value(0))(
      "versions", po::value<int64_t>()->default_value(0))("data", po::value<std::vector<std::string>>()->composing())(
      "data-labels", po::value<std::string>()->default_value(""))("reconnect", po::value<double>()->default_value(300));
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  const auto name = need(vm, "name", "watch");
  const auto merge_at = static_cast<uint32_t>(cli::whole(vm, "merge-at", 0, 1000000));
  const uint64_t max_versions = cli::whole(vm, "versions", 0, INT64_MAX);

  std::optional<datasets::Dataset> data;
  std::optional<uint64_t> reported;  // the last version evaluated
  // Evaluates a version not evaluated yet (with --data): prints the JSON
  // event, returns the evaluation for the text line.
  auto report = [&](uint64_t version) -> std::optional<training::Evaluation> {
    if (reported && *reported >= version) return std::nullopt;
    reported = version;
    if (!vm.count("data")) return std::nullopt;
    auto m = fetch(s, name, static_cast<int64_t>(version));
    if (!data)
      data = cli::load_data_for(m.spec, cli::sources_of(vm, "data", "watch"), vm["data-labels"].as<std::string>());
    auto e = evaluate(m, *data);
    if (s.json_output) {
      auto j = cli::evaluation_json(e, m.spec.labels);
      j["event"] = "evaluation";
      j["version"] = m.version;
      std::cout << j.dump() << std::endl;
    }
    return e;
  };
  auto try_merge = [&](uint64_t base, uint32_t have) {
    if (merge_at == 0 || have < merge_at) return;
    try {
      const auto receipt = merge(s, name, base);
      if (s.json_output) print_merge(s, receipt);  // text: the version's line tells
    } catch (const RequestError& e) {
      // Another manager may have merged first: the version event tells.
      if (e.code() != ErrorCode::base_not_current && e.code() != ErrorCode::merge_in_progress) throw;
    }
  };

  std::optional<uint64_t> target;  // stop at this version (none: watch for ever)
  cli::with_reconnect(
      std::chrono::duration<double>(vm["reconnect"].as<double>()), [&](const std::function<void()>& connected) {
        s.client.reset();
        auto& client = s.connect();
        connected();
        client.subscribe(name);  // first, so that no event is missed after the status below
        Buffer holder;
        const auto* st = client.call_as<fb::ModelStatus>(requests::status(s.key, name, -1), holder);
        const uint64_t current = st->summary()->current_version();
        if (!target) {
          if (max_versions) target = current + max_versions;
          std::cout << "watching '" << name << "' from version " << current
                    << (merge_at ? ", merging at " + std::to_string(merge_at) + " contributions" : std::string())
                    << std::endl;
        }
        if (auto e = report(current); e && !s.json_output)
          std::cout << "version " << current << ": " << accuracy_text(*e) << std::endl;
        if (target && current >= *target) return;
        try_merge(current, st->contributions()->size());
        for (;;) {
          auto event = client.next_event(std::chrono::hours(24));
          if (!event) continue;
          const auto* ev = events::verify(*event);
          if (const auto* a = ev->body_as_ContributionAccepted()) {
            print_contribution(s, *a);
            try_merge(a->base_version(), a->contributions());
          } else if (const auto* v = ev->body_as_VersionPublished()) {
            if (s.json_output) print_version_json(*v);
            const auto e = report(v->version());
            if (!s.json_output) print_version_line(*v, e);
            if (target && v->version() >= *target) return;
          } else if (const auto* ev_scores = ev->body_as_VersionEvaluated()) {
            if (s.json_output)
              std::cout << json_views::event(*ev).dump() << std::endl;
            else if (ev_scores->evaluated())
              std::cout << "version " << ev_scores->version() << " evaluated by the hub: accuracy "
                        << ev_scores->accuracy() << ", loss " << ev_scores->loss() << " (" << ev_scores->samples()
                        << " samples)" << std::endl;
          }
        }
      });
  return cli::kOk;
}

namespace {

// "fedyogi (server_lr 0.02)": the strategy and the settings that apply to it
// and are set (unset ones take the strategy's defaults, docs/aggregation.md).
std::string describe_aggregator(const json& ag) {
  const auto name = ag["name"].get<std::string>();
  std::vector<std::string> parts;
  auto show = [&](const char* key) {
    if (ag.contains(key) && !ag[key].is_null()) parts.push_back(std::string(key) + " " + ag[key].dump());
  };
  for (const char* key : {"server_lr", "momentum", "beta1", "beta2", "tau"}) show(key);
  if (ag.value("weighting", "") != "") show("weighting");
  if (ag.value("divide_by_count", false)) parts.push_back("divided by count");
  if (name == "trimmed-mean") show("trim_beta");
  if (name == "krum") {
    show("krum_byzantine");
    show("multi_krum");
  }
  if (ag.contains("dp") && ag["dp"].value("enabled", false)) {
    const auto& dp = ag["dp"];
    parts.push_back("central DP: clip " + dp["clip_norm"].dump() + ", noise multiplier " +
                    dp["noise_multiplier"].dump() +
                    (dp.value("adaptive_clipping", false) ? ", adaptive clipping" : ""));
  }
  std::string out = name;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : " (") + parts[i];
  return parts.empty() ? out : out + ")";
}

}  // namespace

int cmd_policy(Session& s, const Args& args) {
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
      "krum-f", po::value<int64_t>(), "Krum: Byzantine contributions tolerated")(
      "multi-krum", po::value<int64_t>(), "Krum: best-scored deltas averaged")("norm-bound", po::value<double>(),
                                                                               "L2 bound of an update (0: none)")(
      "on-norm-exceeded", po::value<std::string>(), "reject | clip")("interval", po::value<double>(),
                                                                     "also merge every T seconds (0: off)")(
      "max-abs-value", po::value<double>(), "refuse uploads holding a value beyond +-V (0: no bound)")(
      "retain-versions", po::value<int64_t>(), "versions whose weights are kept")(
      "replay-versions", po::value<int64_t>(), "newest versions whose merge inputs are kept for verify (0: none)")(
      "loo-max", po::value<int64_t>(), "leave-one-out scores for merges of up to N contributions (0: none)")(
      "flag-margin", po::value<double>(),
      "flag contributions scored below median - M |median| of their merge (0: off)")(
      "exclude-flagged", po::value<std::string>(), "refuse flagged participants' uploads: on | off")(
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
  put("replay-versions", patch, "replay_versions");
  put("max-abs-value", patch, "max_abs_value");
  json scoring = json::object();
  put("loo-max", scoring, "loo_max_contributions");
  put("flag-margin", scoring, "flag_margin");
  if (vm.count("exclude-flagged")) scoring["exclude_flagged"] = on_off("exclude-flagged");
  if (!scoring.empty()) patch["scoring"] = scoring;
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
  std::cout << "\n  aggregator:  " << describe_aggregator(ag) << "\n  norm bound:  ";
  if (policy["norm_bound"].get<double>() > 0)
    std::cout << policy["norm_bound"] << " (" << policy["on_norm_exceeded"].get<std::string>() << ")";
  else
    std::cout << "none";
  std::cout << "\n  keeps:       the weights of the last " << policy["retain_versions"]
            << " versions at least, the merge inputs of the last " << policy["replay_versions"] << " (verify)\n";
  const auto& sc = policy["scoring"];
  std::cout << "  evaluation:  "
            << (policy["evaluation"]["data"].get<std::string>().empty()
                    ? std::string("none (fl-manager eval-set)")
                    : policy["evaluation"]["data"].get<std::string>())
            << "\n  scoring:     leave-one-out up to " << sc["loo_max_contributions"] << " contributions, flags "
            << (sc["flag_margin"].get<double>() > 0 ? "below median - " + sc["flag_margin"].dump() + " |median|"
                                                    : std::string("off"))
            << (sc["exclude_flagged"] == true ? ", flagged participants excluded" : "") << "\n";
  if (!policy["excluded"].empty()) std::cout << "  excluded:    " << policy["excluded"].dump() << "\n";
  return cli::kOk;
}

}  // namespace fedhub::manager
