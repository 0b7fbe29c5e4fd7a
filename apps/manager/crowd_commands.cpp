// fl-manager's crowd commands (docs/crowd.md): history (what went into each
// version, with its scores), verify (a replay of the merge that made one,
// hub/replay.hpp), eval-set (the hub-side evaluation source), leaderboard
// and unflag.
#include <cmath>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "apps/cli.hpp"
#include "apps/manager/session.hpp"
#include "client/json_views.hpp"
#include "client/requests.hpp"
#include "messages/checksum.hpp"
#include "messages/provenance.hpp"

namespace fedhub::manager {

namespace {

std::string hex(const std::vector<uint8_t>& digest) {
  std::ostringstream o;
  for (uint8_t b : digest) o << std::hex << std::setw(2) << std::setfill('0') << static_cast<int>(b);
  return o.str();
}

json parsed_or_text(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    return text;
  }
}

json provenance_json(const fb::ProvenanceT& p) {
  json members = json::array();
  for (const auto& m : p.members)
    members.push_back({{"participant", m->participant},
                       {"base_version", m->base_version},
                       {"num_samples", m->num_samples},
                       {"staleness", m->staleness},
                       {"factor", m->factor},
                       {"weight_share", m->weight_share},
                       {"clipped", m->clipped},
                       {"clip_scale", m->clip_scale},
                       {"update_norm", m->update_norm},
                       {"validation", m->validation},
                       {"upload_id", m->upload_id},
                       {"data_hash", hash_to_string(m->data_hash)},
                       {"received_at_ms", m->received_at_ms}});
  json refused = json::array();
  for (const auto& r : p.refused)
    refused.push_back({{"participant", r->participant},
                       {"base_version", r->base_version},
                       {"error", r->error},
                       {"message", r->message},
                       {"at_ms", r->at_ms}});
  json j{{"version", p.version},
         {"base_version", p.base_version},
         {"created_at_ms", p.created_at_ms},
         {"aggregator", p.aggregator},
         {"aggregator_config", parsed_or_text(p.aggregator_config)},
         {"policy", parsed_or_text(p.policy)},
         {"contributions", members},
         {"refused", refused},
         {"refused_total", p.refused_total},
         {"state_before_sha256", hex(p.state_before_sha256)},
         {"state_after_sha256", hex(p.state_after_sha256)},
         {"weights_sha256", hex(p.weights_sha256)},
         {"noise_seed", p.noise_seed},
         {"summation", p.summation},
         {"replayable", p.replayable}};
  if (p.rolled_back_from >= 0) j["rolled_back_from"] = p.rolled_back_from;
  return j;
}

std::string fixed(double v, int digits = 3) {
  if (!std::isfinite(v)) return "-";
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

// The scores of one contribution in a version's scores (JSON), or nullptr.
const json* score_of(const json* scores, uint64_t upload_id) {
  if (!scores) return nullptr;
  for (const auto& c : (*scores)["contributions"])
    if (c["upload_id"] == upload_id) return &c;
  return nullptr;
}

double number(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
}

void print_provenance(const fb::ProvenanceT& p, const json* scores) {
  std::cout << "version " << p.version << "  " << format_time(p.created_at_ms) << "  ";
  if (p.rolled_back_from >= 0)
    std::cout << "rollback to the weights of version " << p.rolled_back_from;
  else
    std::cout << p.aggregator << " onto version " << p.base_version << ", " << p.members.size() << " contribution"
              << (p.members.size() == 1 ? "" : "s");
  std::cout << "\n  weights sha256 " << hex(p.weights_sha256) << "\n";
  if (p.noise_seed != 0) std::cout << "  dp noise seed  " << p.noise_seed << "\n";
  if (p.rolled_back_from < 0)
    std::cout << "  replay         "
              << (p.replayable ? (p.summation == "ordered" ? "inputs kept (bit for bit)"
                                                           : "inputs kept (parts folded on arrival: within rounding)")
                               : "inputs pruned")
              << "\n";
  if (scores && (*scores)["evaluated"] == true)
    std::cout << "  evaluated      accuracy " << fixed(number(*scores, "accuracy"), 4) << ", loss "
              << fixed(number(*scores, "loss"), 4) << " on " << (*scores)["samples"] << " samples of "
              << (*scores)["eval_data"].get<std::string>() << "\n";
  if (scores && !(*scores)["note"].get<std::string>().empty())
    std::cout << "  scores         " << (*scores)["note"].get<std::string>() << "\n";
  if (!p.members.empty()) {
    std::cout << "  " << std::left << std::setw(20) << "participant" << std::right << std::setw(6) << "base"
              << std::setw(7) << "stale" << std::setw(10) << "samples" << std::setw(8) << "factor" << std::setw(8)
              << "share" << std::setw(11) << "norm" << std::setw(8) << "cosine" << std::setw(10) << "loo"
              << "  check\n";
    for (const auto& m : p.members) {
      std::ostringstream norm;
      norm << std::setprecision(4) << m->update_norm;
      const auto* sc = score_of(scores, m->upload_id);
      std::cout << "  " << std::left << std::setw(20) << m->participant << std::right << std::setw(6) << m->base_version
                << std::setw(7) << m->staleness << std::setw(10) << m->num_samples << std::setw(8) << fixed(m->factor)
                << std::setw(8) << fixed(m->weight_share) << std::setw(11) << norm.str() << std::setw(8)
                << (sc ? fixed(number(*sc, "cosine")) : "-") << std::setw(10)
                << (sc ? fixed(number(*sc, "loo_loss_change"), 4) : "-") << "  " << m->validation
                << (sc && (*sc)["flagged"] == true ? ", FLAGGED" : "") << "\n";
    }
  }
  if (p.refused_total > 0) {
    std::cout << "  refused " << p.refused_total << " upload" << (p.refused_total == 1 ? "" : "s")
              << (p.refused_total > p.refused.size() ? " (the first " + std::to_string(p.refused.size()) + " shown)"
                                                     : "")
              << ":\n";
    for (const auto& r : p.refused)
      std::cout << "    " << r->participant << " onto version " << r->base_version << ": " << r->error << " ("
                << r->message << ")\n";
  }
}

}  // namespace

int cmd_history(Session& s, const Args& args) {
  po::options_description o("history");
  o.add_options()("from", po::value<int64_t>(), "the first version listed (default 1)")(
      "to", po::value<int64_t>(), "the last version listed (default: the current one)");
  auto vm = parse_named(args, o);
  const auto name = one_name(vm, "history");
  uint64_t first = vm.count("from") ? cli::whole(vm, "from", 0, INT64_MAX) : 1;
  const int64_t last = vm.count("to") ? static_cast<int64_t>(cli::whole(vm, "to", 0, INT64_MAX)) : -1;
  auto& hub = s.connect();
  json all = json::array();
  size_t listed = 0;
  for (;;) {
    Buffer holder;
    const auto* h = hub.call_as<fb::VersionHistory>(requests::history(s.key, name, first, last), holder);
    std::map<uint64_t, json> scores;
    if (h->scores())
      for (const auto* e : *h->scores()) {
        auto j = json_views::scores({reinterpret_cast<const char*>(e->record()->data()), e->record()->size()});
        const auto version = j["version"].get<uint64_t>();
        scores[version] = std::move(j);
      }
    uint64_t next = first;
    for (const auto* e : *h->entries()) {
      const Buffer record(e->record()->begin(), e->record()->end());  // aligned for the verifier
      const auto p = read_provenance(record);
      next = p.version + 1;
      ++listed;
      auto sc = scores.find(p.version);
      const json* version_scores = sc == scores.end() ? nullptr : &sc->second;
      if (s.json_output) {
        auto j = provenance_json(p);
        j["scores"] = version_scores ? *version_scores : json(nullptr);
        all.push_back(std::move(j));
      } else {
        print_provenance(p, version_scores);
      }
    }
    if (!h->truncated() || next == first) break;
    first = next;
  }
  if (s.json_output)
    std::cout << all.dump() << "\n";
  else if (listed == 0)
    std::cout << "model '" << name << "' has no merged versions with a recorded provenance in that range\n";
  return cli::kOk;
}

int cmd_verify(Session& s, const Args& args) {
  po::options_description o("verify");
  o.add_options()("version", po::value<int64_t>(), "the version to replay");
  auto vm = parse_named(args, o);
  const auto name = one_name(vm, "verify");
  if (!vm.count("version")) throw cli::UsageError("verify needs --version V (see fl-manager history NAME)");
  const uint64_t version = cli::whole(vm, "version", 0, INT64_MAX);
  Buffer holder;
  fb::VerifyReportT r;
  s.connect().call_as<fb::VerifyReport>(requests::verify(s.key, name, version), holder)->UnPackTo(&r);
  const bool ok = r.outcome == "identical" || r.outcome == "within_rounding";
  if (s.json_output) {
    std::cout << json{{"model", r.model},
                      {"version", r.version},
                      {"outcome", r.outcome},
                      {"verified", ok},
                      {"reason", r.reason},
                      {"aggregator", r.aggregator},
                      {"summation", r.summation},
                      {"contributions", r.members},
                      {"stored_sha256", r.stored_sha256},
                      {"recorded_sha256", r.recorded_sha256},
                      {"replayed_sha256", r.replayed_sha256},
                      {"differing", r.differing},
                      {"first_differing", r.first_differing},
                      {"max_abs_difference", r.max_abs_difference},
                      {"tampered", r.tampered}}
                     .dump()
              << "\n";
  } else if (r.outcome == "identical") {
    std::cout << "version " << r.version << " of '" << r.model << "' verified: replaying its " << r.aggregator
              << " merge of " << r.members << " contribution" << (r.members == 1 ? "" : "s")
              << " gives the stored weights bit for bit (sha256 " << r.stored_sha256 << ")\n";
  } else if (r.outcome == "within_rounding") {
    std::cout << "version " << r.version << " of '" << r.model << "' verified within rounding: " << r.reason
              << " (largest difference " << r.max_abs_difference << ")\n";
  } else if (r.outcome == "not_replayable") {
    std::cout << "version " << r.version << " of '" << r.model << "' cannot be replayed: " << r.reason << "\n";
  } else {
    std::cout << "version " << r.version << " of '" << r.model << "' FAILED verification: " << r.reason << "\n";
    if (r.differing > 0)
      std::cout << "  " << r.differing << " weights differ, the first at " << r.first_differing << ", the largest by "
                << r.max_abs_difference << "\n";
    std::cout << "  stored sha256   " << r.stored_sha256 << "\n  recorded sha256 " << r.recorded_sha256
              << "\n  replayed sha256 " << r.replayed_sha256 << "\n";
  }
  return ok ? cli::kOk : cli::kFailed;
}

namespace {

json policy_of(Session& s, const std::string& name, const json& patch = nullptr) {
  Buffer holder;
  const auto* info = s.connect().call_as<fb::PolicyInfo>(
      requests::policy(s.key, name, patch.is_null() ? std::string() : patch.dump()), holder);
  return json::parse(info->policy_json()->str());
}

}  // namespace

int cmd_eval_set(Session& s, const Args& args) {
  po::options_description o("eval-set");
  o.add_options()("data", po::value<std::string>(), "the evaluation source on the hub's machine (SPEC)")(
      "data-labels", po::value<std::string>()->default_value(""), "class names of index-labelled sources")(
      "off", "stop evaluating new versions");
  auto vm = parse_named(args, o);
  const auto name = one_name(vm, "eval-set");
  if (vm.count("off") == vm.count("data"))
    throw cli::UsageError("eval-set needs --data SPEC (a source on the hub's machine) or --off");
  const std::string data = vm.count("data") ? vm["data"].as<std::string>() : "";
  const auto policy =
      policy_of(s, name, json{{"evaluation", {{"data", data}, {"labels", vm["data-labels"].as<std::string>()}}}});
  if (s.json_output)
    std::cout << policy["evaluation"].dump() << "\n";
  else if (data.empty())
    std::cout << "model '" << name << "': new versions are not evaluated by the hub any more\n";
  else
    std::cout << "model '" << name << "': the hub evaluates every new version on " << data
              << " (its machine); see fl-manager status and history\n";
  return cli::kOk;
}

int cmd_unflag(Session& s, const Args& args) {
  po::options_description o("unflag");
  o.add_options()("participant", po::value<std::string>(), "the participant to admit again");
  po::positional_options_description pos;
  pos.add("name", 1).add("participant", 1);
  o.add_options()("name", po::value<std::string>(), "model name");
  auto vm = parse(args, o, &pos);
  const auto name = one_name(vm, "unflag");
  const auto who = need(vm, "participant", "unflag");
  auto excluded = policy_of(s, name)["excluded"];
  json kept = json::array();
  bool was = false;
  for (const auto& e : excluded) {
    if (e == who)
      was = true;
    else
      kept.push_back(e);
  }
  if (!was) throw RequestError(ErrorCode::bad_request, "'" + who + "' is not excluded from '" + name + "'");
  policy_of(s, name, json{{"excluded", kept}});
  if (s.json_output)
    std::cout << json{{"model", name}, {"participant", who}, {"excluded", false}}.dump() << "\n";
  else
    std::cout << "'" << who << "' may contribute to '" << name << "' again\n";
  return cli::kOk;
}

void print_leaderboard(const fb::Leaderboard& b) {
  std::cout << "model '" << b.model()->str() << "': " << b.participants() << " participant"
            << (b.participants() == 1 ? "" : "s") << ", ranked by "
            << (b.score_kind()->str() == "leave_one_out" ? "the mean leave-one-out change of evaluation loss"
                                                         : "the mean cosine similarity to the merged updates")
            << "\n";
  std::cout << std::right << std::setw(5) << "rank"
            << "  " << std::left << std::setw(20) << "participant" << std::right << std::setw(6) << "merged"
            << std::setw(10) << "samples" << std::setw(8) << "weight" << std::setw(7) << "stale" << std::setw(8)
            << "cosine" << std::setw(10) << "loo" << std::setw(10) << "score"
            << "\n";
  uint64_t rank = b.first_rank();
  for (const auto* r : *b.rows()) {
    std::cout << std::right << std::setw(5) << rank++ << "  " << std::left << std::setw(20) << r->participant()->str()
              << std::right << std::setw(6) << r->contributions() << std::setw(10) << r->samples() << std::setw(8)
              << fixed(r->mean_weight_share()) << std::setw(7) << fixed(r->mean_staleness(), 1) << std::setw(8)
              << fixed(r->mean_cosine()) << std::setw(10) << fixed(r->mean_loo(), 4) << std::setw(10)
              << fixed(r->score(), 4) << (r->flagged() ? "  flagged " + std::to_string(r->flagged()) + "x" : "")
              << (r->excluded() ? "  EXCLUDED" : "") << "\n";
  }
}

int cmd_leaderboard(Session& s, const Args& args) {
  po::options_description o("leaderboard");
  auto vm = parse_named(args, o);
  const auto name = one_name(vm, "leaderboard");
  Buffer holder;
  const auto* b = s.connect().call_as<fb::Leaderboard>(requests::leaderboard(s.key, name), holder);
  if (s.json_output)
    std::cout << json_views::leaderboard(*b).dump() << "\n";
  else
    print_leaderboard(*b);
  return cli::kOk;
}

}  // namespace fedhub::manager
