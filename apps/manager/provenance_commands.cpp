// fl-manager history and verify: what went into each version, and a replay
// of the merge that made one (hub/replay.hpp).
#include <cstring>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "apps/cli.hpp"
#include "apps/manager/session.hpp"
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

void print_provenance(const fb::ProvenanceT& p) {
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
  if (!p.members.empty()) {
    std::cout << "  " << std::left << std::setw(20) << "participant" << std::right << std::setw(6) << "base"
              << std::setw(7) << "stale" << std::setw(10) << "samples" << std::setw(8) << "factor" << std::setw(8)
              << "share" << std::setw(11) << "norm" << "  check\n";
    for (const auto& m : p.members) {
      std::ostringstream norm;
      norm << std::setprecision(4) << m->update_norm;
      std::cout << "  " << std::left << std::setw(20) << m->participant << std::right << std::setw(6)
                << m->base_version << std::setw(7) << m->staleness << std::setw(10) << m->num_samples << std::fixed
                << std::setprecision(3) << std::setw(8) << m->factor << std::setw(8) << m->weight_share
                << std::defaultfloat << std::setw(11) << norm.str() << "  " << m->validation << "\n";
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
    uint64_t next = first;
    for (const auto* e : *h->entries()) {
      const Buffer record(e->record()->begin(), e->record()->end());  // aligned for the verifier
      const auto p = read_provenance(record);
      next = p.version + 1;
      ++listed;
      if (s.json_output)
        all.push_back(provenance_json(p));
      else
        print_provenance(p);
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
      std::cout << "  " << r.differing << " weights differ, the first at " << r.first_differing
                << ", the largest by " << r.max_abs_difference << "\n";
    std::cout << "  stored sha256   " << r.stored_sha256 << "\n  recorded sha256 " << r.recorded_sha256
              << "\n  replayed sha256 " << r.replayed_sha256 << "\n";
  }
  return ok ? cli::kOk : cli::kFailed;
}

}  // namespace fedhub::manager
