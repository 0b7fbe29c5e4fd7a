#include "hub/replay.hpp"

#include <omp.h>

#include <cmath>
#include <cstring>
#include <map>

#include "federation/aggregate.hpp"
#include "federation/aggregator.hpp"
#include "hub/merge_engine.hpp"
#include "hub/store_records.hpp"
#include "hub/stored_delta.hpp"
#include "messages/errors.hpp"
#include "messages/provenance.hpp"
#include "model/flat.hpp"
#include "security/digest.hpp"

namespace fedhub {

const char* to_string(ReplayReport::Outcome o) {
  switch (o) {
    case ReplayReport::Outcome::identical:
      return "identical";
    case ReplayReport::Outcome::within_rounding:
      return "within_rounding";
    case ReplayReport::Outcome::differs:
      return "differs";
    case ReplayReport::Outcome::not_replayable:
      return "not_replayable";
  }
  return "?";
}

namespace {

std::string hex_of(const std::vector<uint8_t>& digest) {
  if (digest.size() != 32) return "";
  Sha256 d{};
  std::memcpy(d.data(), digest.data(), d.size());
  return to_hex(d);
}

// Restores OpenMP's thread count on exit (the merger's own: one).
class AllThreads {
 public:
  AllThreads() : before_(omp_get_max_threads()) { omp_set_num_threads(omp_get_num_procs()); }
  ~AllThreads() { omp_set_num_threads(before_); }

 private:
  int before_;
};

void compare(ReplayReport& report, const ModelDefinition& def, std::span<const float> replayed,
             std::span<const float> stored, bool arrival) {
  bool within = true;
  for (size_t i = 0; i < stored.size(); ++i) {
    if (std::memcmp(&replayed[i], &stored[i], sizeof(float)) == 0) continue;
    if (report.differing++ == 0) report.first_differing = where_in_layout(def.layout, i);
    const double d = std::fabs(static_cast<double>(replayed[i]) - stored[i]);
    if (!(d <= report.max_abs_difference)) report.max_abs_difference = d;  // NaN sticks
    if (!(d <= 1e-5 * std::max(1.0, std::fabs(static_cast<double>(stored[i]))))) within = false;
  }
  if (report.differing == 0) return;
  if (arrival && within) {
    report.outcome = ReplayReport::Outcome::within_rounding;
    report.reason = std::to_string(report.differing) +
                    " weights differ within rounding: the merge folded large uploads part by part as they arrived";
    return;
  }
  report.outcome = ReplayReport::Outcome::differs;
  report.reason = std::to_string(report.differing) + " of " + std::to_string(stored.size()) +
                  " weights differ from the stored version, the first at " + report.first_differing;
}

}  // namespace

MergeInputs::MergeInputs(const Store& store, const ModelDefinition& def) : store_(store), def_(def) {}

std::span<const float> MergeInputs::weights(uint64_t version, const std::string& role) {
  auto it = images_.find(version);
  if (it == images_.end()) {
    SharedImage image;
    try {
      image = stored::read_version_image(store_, def_, version);
    } catch (const RequestError& e) {
      throw std::runtime_error("the stored weights of version " + std::to_string(version) + " (" + role +
                               ") are damaged: " + e.what());
    }
    if (!image)
      throw InputMissing("the weights of version " + std::to_string(version) + " (" + role +
                         ") are not stored any more (the policy's retain_versions keeps the newest)");
    it = images_.emplace(version, std::move(image)).first;
  }
  return it->second->weights.span();
}

std::span<const float> MergeInputs::trainable(uint64_t version, const std::string& role) {
  const auto full = weights(version, role);
  if (def_.trainable.whole()) return full;
  auto it = trainable_.find(version);
  if (it == trainable_.end()) it = trainable_.emplace(version, def_.trainable.gather(full)).first;
  return it->second.span();
}

AlignedFloats MergeInputs::delta_of(const fb::ProvenanceMemberT& m, std::vector<std::string>* tampered) {
  const auto base = trainable(m.base_version, "the base of " + m.participant + "'s contribution");
  AlignedFloats delta(def_.contribution_parameters());
  auto out = delta.span();
  const std::string who = "'" + m.participant + "' (upload " + std::to_string(m.upload_id) + ")";
  auto report = [&](const std::string& why) {
    if (tampered) tampered->push_back(who + ": " + why);
  };
  StoredDeltaScan scan;
  try {
    scan = scan_stored_delta(store_, def_.name, m.upload_id, base, who, [&](size_t first, std::span<const float> d) {
      std::copy(d.begin(), d.end(), out.begin() + static_cast<std::ptrdiff_t>(first));
    });
  } catch (const RequestError& e) {
    report(e.what());
    return delta;
  }
  if (scan.bytes == 0) throw InputMissing("the stored weights of " + who + " are not kept any more");
  if (scan.bytes != def_.contribution_bytes())
    report(std::to_string(scan.bytes) + " of its " + std::to_string(def_.contribution_bytes()) + " bytes are stored");
  else if (scan.data_hash != m.data_hash)
    report("its stored weights are not those accepted at upload (hash differs)");
  if (m.clipped) federation::scale(delta.span(), m.clip_scale);
  return delta;
}

namespace {

// The merge in the trainable space (all of the weights unless layers are frozen).
AlignedFloats rerun_trainable(MergeInputs& inputs, const Store& store, const ModelDefinition& def,
                              const fb::ProvenanceT& p, std::vector<std::string>* tampered, int64_t without) {
  if (p.rolled_back_from >= 0)
    return AlignedFloats::copy_of(
        inputs.weights(static_cast<uint64_t>(p.rolled_back_from), "the version the rollback restored"));
  if (!p.replayable)
    throw InputMissing(
        "its inputs are not kept any more: the hub keeps the merged contributions of the newest "
        "replay_versions versions (fl-manager policy --replay-versions)");
  const auto x = inputs.trainable(p.base_version, "the version merged onto");
  const auto state_record = store.replay_state(def.name, p.version);
  if (!state_record)
    throw InputMissing("the server state the merge started from is not kept any more (replay_versions)");
  if (hex_of(p.state_before_sha256) != to_hex(sha256(*state_record)))
    throw std::runtime_error(
        "the stored server state the merge started from is not the one recorded (SHA-256 differs)");
  const auto policy = MergePolicy::from_json(p.policy);
  if (p.aggregator == "fedasync") {
    if (p.members.size() != 1 || without == 0)
      throw std::invalid_argument("an async merge mixes exactly one contribution");
    const auto& m = *p.members[0];
    auto delta = inputs.delta_of(m, tampered);
    auto next = AlignedFloats::copy_of(x);
    federation::fedasync_mix(next.span(), inputs.trainable(m.base_version, "a contribution's base"), delta.span(),
                             policy.alpha * m.factor);
    return next;
  }
  const auto config = federation::AggregatorConfig::from_json(p.aggregator_config);
  auto state = read_server_state(*state_record, config);
  auto aggregator = federation::make_aggregator(config, static_cast<int64_t>(def.contribution_parameters()), state);
  for (size_t i = 0; i < p.members.size(); ++i) {
    if (static_cast<int64_t>(i) == without) continue;
    const auto& m = *p.members[i];
    auto delta = inputs.delta_of(m, tampered);
    aggregator->add(delta.span(), static_cast<double>(m.num_samples), m.factor);
  }
  if (p.noise_seed != 0) aggregator->set_noise_seed(p.noise_seed);
  AllThreads threads;
  if (auto acc = aggregator->apply_into_accumulator(x, state)) return std::move(*acc);
  AlignedFloats next(def.contribution_parameters());
  aggregator->apply_to(x, next.span(), state);
  return next;
}

}  // namespace

AlignedFloats rerun_merge(MergeInputs& inputs, const Store& store, const ModelDefinition& def, const fb::ProvenanceT& p,
                          std::vector<std::string>* tampered, int64_t without) {
  if (p.rolled_back_from >= 0)
    return AlignedFloats::copy_of(
        inputs.weights(static_cast<uint64_t>(p.rolled_back_from), "the version the rollback restored"));
  auto next = rerun_trainable(inputs, store, def, p, tampered, without);
  if (def.trainable.whole()) return next;
  return def.trainable.expand(inputs.weights(p.base_version, "the version merged onto"), next.span());  // frozen: kept
}

ReplayReport replay_version(const Store& store, const ModelDefinition& def, uint64_t version) {
  ReplayReport report;
  report.version = version;
  const auto latest = store.latest_version(def.name);
  if (!latest || version > *latest)
    throw RequestError(ErrorCode::unknown_version,
                       "model '" + def.name + "' has no version " + std::to_string(version));
  const auto record = store.provenance(def.name, version);
  if (!record) {
    report.reason = version == 0
                        ? "version 0 holds the initial weights: it is not a merge"
                        : "version " + std::to_string(version) + " was made by a hub that did not record provenance";
    return report;
  }
  const auto p = read_provenance(*record);
  report.aggregator = p.aggregator;
  report.summation = p.summation;
  report.members = static_cast<uint32_t>(p.members.size());
  report.recorded_sha256 = hex_of(p.weights_sha256);
  MergeInputs inputs(store, def);
  try {
    const auto stored = inputs.weights(version, "the version verified");
    report.stored_sha256 = to_hex(sha256({reinterpret_cast<const char*>(stored.data()), stored.size_bytes()}));
    const auto replayed = rerun_merge(inputs, store, def, p, &report.tampered);
    report.replayed_sha256 = to_hex(sha256(replayed.as_bytes()));
    report.outcome = ReplayReport::Outcome::identical;
    compare(report, def, replayed.span(), stored, p.summation == "arrival");
    if (report.stored_sha256 != report.recorded_sha256) {
      report.outcome = ReplayReport::Outcome::differs;
      report.reason = "the stored weights are not those recorded when the version was made (SHA-256 differs)" +
                      (report.reason.empty() ? "" : "; " + report.reason);
    }
    if (!report.tampered.empty()) {
      report.outcome = ReplayReport::Outcome::differs;
      std::string who;
      for (const auto& t : report.tampered) who += (who.empty() ? "" : "; ") + t;
      report.reason = "stored contributions were changed: " + who + (report.reason.empty() ? "" : "; " + report.reason);
    }
  } catch (const InputMissing& m) {
    report.outcome = ReplayReport::Outcome::not_replayable;
    report.reason = m.what();
  } catch (const std::exception& e) {
    report.outcome = ReplayReport::Outcome::differs;
    report.reason = e.what();
  }
  return report;
}

}  // namespace fedhub
