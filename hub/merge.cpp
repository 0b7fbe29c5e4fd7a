#include "hub/merge.hpp"

#include <cmath>

#include "federation/aggregate.hpp"
#include "federation/staleness.hpp"
#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "messages/records.hpp"
#include "messages/tensors.hpp"

namespace fedhub {

namespace {

// The weights of a stored contribution as one flat vector.
std::vector<float> contribution_weights(const Store& store, const ModelState& model, uint64_t base,
                                        const std::string& participant) {
  auto buf = store.contribution(model.spec.name, base, participant);
  if (!buf)
    throw RequestError(ErrorCode::internal, "the store lacks the contribution of '" + participant + "' to version " +
                                                std::to_string(base) + " of '" + model.spec.name + "'");
  const auto* record = records::verify_contribution_record(*buf);
  const auto* c = verify_contribution(as_span(record->contribution()));
  check_tensors(c->tensors(), model.layout, true);
  std::vector<float> flat;
  for (const auto* t : *c->tensors()) {
    auto values = tensor_values(*t);
    flat.insert(flat.end(), values.begin(), values.end());
  }
  return flat;
}

double l2_norm(std::span<const float> v) {
  double sq = 0;
  for (float x : v) sq += static_cast<double>(x) * x;
  return std::sqrt(sq);
}

}  // namespace

MergeEngine::MergeEngine(Store& store, const std::string& model)
    : store_(store), model_(ModelState::load(store, model, false)), bases_(store, model, model_.layout, 2) {
  auto current = store_.version(model, model_.current_version);
  if (!current) throw RequestError(ErrorCode::internal, "the store lacks the current version of '" + model + "'");
  x_ = read_flat_version(*current, model_.layout);
  if (!model_.server_state.empty()) state_ = federation::ServerState::deserialize(model_.server_state);
  for (auto v : store_.stored_versions(model)) stored_versions_.insert(v);
  refold_all();
}

MergeEngine::~MergeEngine() = default;

void MergeEngine::refold_all() {
  aggregator_ = federation::make_aggregator(model_.policy.aggregator, static_cast<int64_t>(x_.size()), state_);
  folded_.clear();
  queued_.clear();
  dropped_.clear();
  peak_held_bytes_ = 0;
  // Every seq up to the highest seen is either merged or in the store.
  const auto seen = last_seq_;
  last_seq_.reset();
  for (const auto& [seq, summary] : store_.pending(model_.spec.name)) fold(seq, summary);
  if (seen && (!last_seq_ || *seen > *last_seq_)) last_seq_ = seen;
}

std::vector<float> MergeEngine::delta_of(uint64_t base_version, const std::string& participant, bool* clipped,
                                         bool* rejected) {
  std::vector<float> delta = contribution_weights(store_, model_, base_version, participant);
  const auto& base = base_version == model_.current_version ? x_ : bases_.get(base_version);
  for (size_t i = 0; i < delta.size(); ++i) delta[i] -= base[i];
  *clipped = *rejected = false;
  const double bound = model_.policy.norm_bound;
  if (bound > 0) {
    const double norm = l2_norm(delta);
    if (norm > bound) {
      if (!model_.policy.clip_to_norm) {
        *rejected = true;
      } else {
        const float scale = static_cast<float>(bound / norm);
        for (float& d : delta) d *= scale;
        *clipped = true;
      }
    }
  }
  return delta;
}

void MergeEngine::fold(uint64_t seq, std::span<const char> summary) {
  if (last_seq_ && seq <= *last_seq_) return;
  last_seq_ = seq;
  const auto* s = records::verify_contribution_summary(summary);
  Folded f{seq, {}};
  f.info.participant = s->participant()->str();
  f.info.base_version = s->base_version();
  f.info.num_samples = s->num_samples();
  const uint64_t base = s->base_version();
  const int64_t staleness = base <= model_.current_version ? static_cast<int64_t>(model_.current_version - base) : -1;
  f.info.staleness = staleness < 0 ? 0 : static_cast<uint64_t>(staleness);
  const double factor = staleness < 0 ? 0.0 : federation::staleness_weight(model_.policy.staleness, staleness);
  if (factor <= 0 || base < model_.policy.oldest_accepted_base(model_.current_version)) {
    drop(std::move(f));
    return;
  }
  f.info.weight = factor;
  if (model_.policy.merge == MergeMode::async) {
    queued_.push_back(std::move(f));
    return;
  }
  bool clipped = false, rejected = false;
  auto delta = delta_of(base, f.info.participant, &clipped, &rejected);
  if (rejected) {
    drop(std::move(f));
    return;
  }
  aggregator_->add(delta, static_cast<double>(f.info.num_samples), factor);
  peak_held_bytes_ = std::max(peak_held_bytes_, aggregator_->held_bytes());
  f.info.clipped = clipped;
  folded_.push_back(std::move(f));
}

void MergeEngine::drop(Folded f) {
  store_.remove_pending(model_.spec.name, f.seq, f.info.base_version, f.info.participant);
  dropped_.push_back(std::move(f));
}

bool MergeEngine::due() const {
  switch (model_.policy.merge) {
    case MergeMode::buffered:
      return static_cast<int64_t>(folded_.size()) >= model_.policy.k;
    case MergeMode::async:
      return !queued_.empty();
    case MergeMode::manual:
      return false;
  }
  return false;
}

Store::MergeCleanup MergeEngine::cleanup_for(const std::vector<Folded>& merged, uint64_t new_version) {
  Store::MergeCleanup c;
  for (const auto& f : merged) {
    c.pending_seqs.push_back(f.seq);
    c.contributions.emplace_back(f.info.base_version, f.info.participant);
  }
  const int64_t keep = model_.policy.versions_to_keep();
  for (auto v : stored_versions_)
    if (keep < static_cast<int64_t>(new_version) && v + static_cast<uint64_t>(keep) <= new_version)
      c.pruned_versions.push_back(v);
  return c;
}

MergeResult MergeEngine::commit(std::vector<Folded> merged, const std::string& aggregator_name) {
  // x_ and state_ already hold the new version's values (see callers).
  MergeResult r;
  r.base_version = model_.current_version;
  r.new_version = model_.current_version + 1;
  r.aggregator = aggregator_name;
  r.dropped = static_cast<uint32_t>(dropped_.size());
  for (auto& f : merged) {
    r.contributors.push_back(f.info.participant);
    r.total_samples += f.info.num_samples;
    r.contributions.push_back(f.info);
  }
  r.server_state = state_.serialize();
  r.peak_held_bytes = peak_held_bytes_;

  VersionMeta meta;
  meta.model = model_.spec.name;
  meta.version = r.new_version;
  meta.created_at_ms = now_ms();
  meta.base_version = r.base_version;
  meta.contributors = r.contributors;
  meta.total_samples = r.total_samples;
  meta.aggregator = aggregator_name;
  r.version_record = build_model_version(meta, model_.layout, x_);

  fb::VersionInfoT info;
  info.version = r.new_version;
  info.created_at_ms = meta.created_at_ms;
  info.base_version = r.base_version;
  info.contributions = static_cast<uint32_t>(merged.size());
  info.total_samples = r.total_samples;
  info.aggregator = aggregator_name;

  auto record = model_.record();
  record.current_version = r.new_version;
  record.server_state.assign(r.server_state.begin(), r.server_state.end());
  auto cleanup = cleanup_for(merged, r.new_version);
  store_.commit_version(model_.spec.name, r.new_version, r.version_record, records::version_info(info),
                        records::model_record(record), cleanup);
  model_.current_version = r.new_version;
  model_.server_state = r.server_state;
  stored_versions_.insert(r.new_version);
  for (auto v : cleanup.pruned_versions) stored_versions_.erase(v);
  dropped_.clear();
  return r;
}

void MergeEngine::keep_as_base(uint64_t version, std::vector<float> weights) {
  // Only a policy that accepts stale contributions needs older bases.
  if (model_.policy.oldest_accepted_base(model_.current_version) <= version)
    bases_.put(version, std::move(weights));
  else
    bases_.clear();
}

std::vector<MergeResult> MergeEngine::merge_buffer() {
  if (folded_.empty()) return {};
  // Compute into copies: if storing fails, nothing in memory has changed
  // but the aggregator, which refold_all() rebuilds.
  std::vector<float> previous = x_;
  federation::ServerState previous_state = state_;
  const std::string name = aggregator_->name();
  try {
    aggregator_->apply(x_, state_);
    auto merged = std::move(folded_);
    folded_.clear();
    auto r = commit(std::move(merged), name);
    keep_as_base(r.base_version, std::move(previous));
    peak_held_bytes_ = 0;
    return {std::move(r)};
  } catch (...) {
    x_ = std::move(previous);
    state_ = std::move(previous_state);
    refold_all();
    throw;
  }
}

std::vector<MergeResult> MergeEngine::mix_queue() {
  std::vector<MergeResult> results;
  auto queue = std::move(queued_);
  queued_.clear();
  for (size_t i = 0; i < queue.size(); ++i) {
    auto& f = queue[i];
    const auto staleness = static_cast<int64_t>(model_.current_version - f.info.base_version);
    const double factor = federation::staleness_weight(model_.policy.staleness, staleness);
    f.info.staleness = static_cast<uint64_t>(staleness);
    if (factor <= 0 || f.info.base_version < model_.policy.oldest_accepted_base(model_.current_version)) {
      drop(std::move(f));
      continue;
    }
    bool clipped = false, rejected = false;
    std::vector<float> x_new = delta_of(f.info.base_version, f.info.participant, &clipped, &rejected);
    if (rejected) {
      drop(std::move(f));
      continue;
    }
    // x_new = x_base + delta: the participant's model (its update clipped).
    const auto& base = f.info.base_version == model_.current_version ? x_ : bases_.get(f.info.base_version);
    for (size_t j = 0; j < x_new.size(); ++j) x_new[j] += base[j];
    const double alpha_t = model_.policy.alpha * factor;
    f.info.weight = alpha_t;
    f.info.clipped = clipped;
    std::vector<float> previous = x_;
    try {
      federation::fedasync_mix(x_, x_new, alpha_t);
      auto r = commit({f}, "fedasync");
      keep_as_base(r.base_version, std::move(previous));
      results.push_back(std::move(r));
    } catch (...) {
      x_ = std::move(previous);
      for (size_t j = i; j < queue.size(); ++j) queued_.push_back(std::move(queue[j]));
      throw;
    }
  }
  return results;
}

std::vector<MergeResult> MergeEngine::merge(uint64_t base) {
  const auto& name = model_.spec.name;
  if (base > model_.current_version)
    throw RequestError(ErrorCode::unknown_version, "model '" + name + "' has no version " + std::to_string(base));
  if (base < model_.current_version)
    throw RequestError(ErrorCode::base_not_current, "version " + std::to_string(base) + " of '" + name +
                                                        "' was merged already; the current version is " +
                                                        std::to_string(model_.current_version));
  const auto need = std::max<uint32_t>(1, model_.spec_fields.min_contributions);
  if (pending() < need)
    throw RequestError(ErrorCode::not_enough_contributions,
                       "version " + std::to_string(base) + " of '" + name + "' has " + std::to_string(pending()) +
                           " contribution(s) waiting; merging needs at least " + std::to_string(need));
  return model_.policy.merge == MergeMode::async ? mix_queue() : merge_buffer();
}

std::vector<MergeResult> MergeEngine::merge_due() {
  if (!due()) return {};
  return model_.policy.merge == MergeMode::async ? mix_queue() : merge_buffer();
}

std::vector<MergeResult> MergeEngine::merge_if_enough() {
  if (pending() < std::max<uint32_t>(1, model_.spec_fields.min_contributions)) return {};
  return model_.policy.merge == MergeMode::async ? mix_queue() : merge_buffer();
}

void MergeEngine::set_policy(const MergePolicy& policy) {
  const bool aggregator_changed = policy.aggregator.to_json() != model_.policy.aggregator.to_json();
  MergePolicy previous = model_.policy;
  model_.policy = policy;
  if (aggregator_changed) model_.server_state.clear();
  try {
    store_.update_model(model_.spec.name, records::model_record(model_.record()));
  } catch (...) {
    model_.policy = previous;
    if (aggregator_changed && !state_.vectors.empty()) model_.server_state = state_.serialize();
    throw;
  }
  if (aggregator_changed) state_ = {};
  refold_all();
}

MergeResult run_merge(Store& store, const ModelState& model, uint64_t base) {
  MergeEngine engine(store, model.spec.name);
  auto results = engine.merge(base);
  if (results.empty())
    throw RequestError(ErrorCode::not_enough_contributions, "nothing to merge for version " + std::to_string(base));
  return std::move(results.back());
}

}  // namespace fedhub
