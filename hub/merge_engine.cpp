#include "hub/merge_engine.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "federation/aggregate.hpp"
#include "federation/validation.hpp"
#include "hub/store_records.hpp"
#include "hub/stored_delta.hpp"
#include "messages/errors.hpp"
#include "messages/framed.hpp"
#include "messages/model_package.hpp"
#include "messages/provenance.hpp"
#include "messages/records.hpp"
#include "model/flat.hpp"
#include "security/digest.hpp"

namespace fedhub {

struct MergeEngine::Held {
  UploadMode mode = UploadMode::assemble;
  uint64_t base = 0;
  uint64_t num_samples = 0;
  uint64_t data_bytes = 0;
  uint64_t data_hash = 0;
  double factor = 1;  // the factor its folded parts carry
  double coef = 0;    // the aggregator's coefficient for them (fold mode)
  uint64_t received = 0;
  uint64_t folded = 0;
  bool in_front = false;  // counted in / added to the front round's aggregator
  std::optional<AlignedFloats> delta;
  DataHasher hasher;
  double delta_squared = 0;
  bool clipped = false;
  float clip_scale = 1;     // the factor a clipped delta carries
  bool norm_known = false;  // delta_squared (and the clip decision) are known
  std::optional<ContributionNote> note;
};

namespace {

std::unique_ptr<federation::Aggregator> make_for(const MergePolicy& p, const ModelDefinition& d,
                                                 const federation::ServerState& state) {
  return federation::make_aggregator(p.aggregator, static_cast<int64_t>(d.contribution_parameters()), state);
}

bool folds(const MergePolicy& p, const federation::Aggregator& a) {
  return p.merge != MergeMode::async && a.can_fold_parts() && p.norm_bound == 0;
}

// Parts are checked and folded on the merger's own thread: a few MiB each,
// arriving continuously, they gain little from a second core, and OpenMP's
// workers would spin between them (measured: a third of a core). A merge
// uses every core while it runs.
class MergeThreads {
 public:
  MergeThreads() { omp_set_num_threads(omp_get_num_procs()); }
  ~MergeThreads() { omp_set_num_threads(1); }
};

std::vector<uint8_t> digest_of(std::span<const char> bytes) {
  const auto d = sha256(bytes);
  return {d.begin(), d.end()};
}

fb::ProvenanceRefusalT refusal_of(const RefusedNote& r) {
  fb::ProvenanceRefusalT out;
  out.participant = r.participant;
  out.base_version = r.base_version;
  out.error = r.error;
  out.message = r.message;
  out.at_ms = r.at_ms;
  return out;
}

uint64_t checked_add(uint64_t a, uint64_t b) {
  if (b > UINT64_MAX - a) throw RequestError(ErrorCode::internal, "the merge's sample total overflows");
  return a + b;
}

}  // namespace

MergeEngine::MergeEngine(Store& store, ModelDefinition definition, MergePolicy policy, SharedImage current,
                         federation::ServerState state)
    : store_(store),
      def_(std::move(definition)),
      policy_(std::move(policy)),
      current_(std::move(current)),
      state_(std::move(state)) {
  if (!current_ || current_->weights.size() != def_.parameters)
    throw RequestError(ErrorCode::internal, "model '" + def_.name + "': the current weights do not fit the layout");
  new_aggregator();
  omp_set_num_threads(1);  // this thread's parallel regions; see MergeThreads
}

MergeEngine::~MergeEngine() = default;

MergeEngine::Held& MergeEngine::held(uint64_t id) {
  auto it = held_.find(id);
  if (it == held_.end())
    throw RequestError(ErrorCode::unknown_upload,
                       "the merger of '" + def_.name + "' holds no upload " + std::to_string(id));
  return *it->second;
}

namespace {

std::string where(const std::vector<TensorSpec>& layout, uint64_t flat) { return where_in_layout(layout, flat); }

}  // namespace

std::span<const float> MergeEngine::base_weights(uint64_t version) {
  if (version == current_->version) return current_->weights.span();
  if (auto it = bases_.find(version); it != bases_.end()) return it->second->weights.span();
  auto image = stored::read_version_image(store_, def_, version);
  if (!image)
    throw RequestError(ErrorCode::unknown_version, "the weights of version " + std::to_string(version) + " of '" +
                                                       def_.name + "' are not stored any more");
  auto [it, inserted] = bases_.emplace(version, std::move(image));
  return it->second->weights.span();
}

std::span<const float> MergeEngine::base_trainable(uint64_t version) {
  const auto full = base_weights(version);
  if (def_.trainable.whole()) return full;
  auto it = trainable_bases_.find(version);
  if (it == trainable_bases_.end()) it = trainable_bases_.emplace(version, def_.trainable.gather(full)).first;
  return it->second.span();
}

void MergeEngine::keep_bases() {
  const uint64_t oldest = policy_.oldest_accepted_base(current_->version);
  for (auto it = bases_.begin(); it != bases_.end();)
    it = it->first < oldest || it->first >= current_->version ? bases_.erase(it) : std::next(it);
  for (auto it = trainable_bases_.begin(); it != trainable_bases_.end();)
    it = it->first < oldest || it->first > current_->version ? trainable_bases_.erase(it) : std::next(it);
}

void MergeEngine::begin(const UploadSession& s) {
  base_weights(s.note.base_version);  // unknown_version when pruned
  auto h = std::make_unique<Held>();
  h->base = s.note.base_version;
  h->num_samples = s.note.num_samples;
  h->data_bytes = s.data_bytes;
  h->data_hash = s.data_hash;
  h->factor = s.factor;
  h->mode = s.mode == UploadMode::fold && folds(policy_, *aggregator_) ? UploadMode::fold : UploadMode::assemble;
  if (h->mode == UploadMode::fold) h->coef = aggregator_->weight_of(static_cast<double>(h->num_samples), h->factor);
  StoreBatch b;
  b.put_upload(def_.name, s.id, stored::upload_record(s));
  store_.commit(b, false);
  held_[s.id] = std::move(h);
}

void MergeEngine::part(uint64_t id, uint64_t offset, std::span<const char> bytes) {
  auto& h = held(id);
  if (offset != h.received || bytes.size() % sizeof(float) != 0 || bytes.size() > h.data_bytes - h.received)
    throw RequestError(ErrorCode::bad_request, "upload part at offset " + std::to_string(offset) + " does not follow");
  // The part's own hash was checked when its request was verified
  // (requests::verify): a damaged part never gets here.
  try {
    const size_t n = bytes.size() / sizeof(float);
    const size_t first = offset / sizeof(float);
    std::span<const float> values;
    std::vector<float> aligned;
    if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(float) == 0) {
      values = {reinterpret_cast<const float*>(bytes.data()), n};
    } else {
      aligned.resize(n);
      std::memcpy(aligned.data(), bytes.data(), bytes.size());
      values = aligned;
    }
    const auto base = base_trainable(h.base).subspan(first, n);
    std::span<float> delta;
    if (h.mode == UploadMode::fold) {
      scratch_.resize(n);
      delta = scratch_;
    } else {
      if (!h.delta) h.delta.emplace(def_.contribution_parameters());
      delta = h.delta->span().subspan(first, n);
    }
    const auto check = federation::check_part(values, base, policy_.max_abs_value, delta);
    if (check.first_non_finite >= 0)
      throw RequestError(ErrorCode::non_finite,
                         where(def_.contribution_layout(), first + static_cast<uint64_t>(check.first_non_finite)) +
                             " holds " + std::to_string(values[static_cast<size_t>(check.first_non_finite)]));
    if (check.first_over_bound >= 0)
      throw RequestError(ErrorCode::magnitude_exceeded,
                         where(def_.contribution_layout(), first + static_cast<uint64_t>(check.first_over_bound)) +
                             " holds " + std::to_string(values[static_cast<size_t>(check.first_over_bound)]) +
                             ", beyond the model's bound " + std::to_string(policy_.max_abs_value) +
                             " on absolute values (max_abs_value in fl-manager policy)");
    StoreBatch b;
    b.put_chunk(def_.name, id, offset, bytes);
    if (h.data_bytes >= stored::kUnloggedWeightBytes)
      store_.write_unlogged(b);  // the commit persists the chunks first
    else
      store_.commit(b, false);
    h.delta_squared += check.delta_squared;
    h.hasher.update(bytes);
    if (h.mode == UploadMode::fold) {
      aggregator_->fold_part(static_cast<int64_t>(first), delta, h.coef);
      h.folded += bytes.size();
    }
    h.received += bytes.size();
    peak_held_bytes_ = std::max(peak_held_bytes_, aggregator_->held_bytes());
  } catch (...) {
    drop_held(id);
    throw;
  }
}

MergeEngine::Finalized MergeEngine::finalize(uint64_t id) {
  auto& h = held(id);
  Finalized out;
  try {
    if (h.received != h.data_bytes)
      throw RequestError(ErrorCode::incomplete_upload, "upload " + std::to_string(id) + " is incomplete");
    if (h.hasher.digest() != h.data_hash)
      throw RequestError(ErrorCode::bad_checksum,
                         "the uploaded weights' hash differs from the one their header "
                         "announced: upload the result again");
    out.norm = std::sqrt(h.delta_squared);
    h.norm_known = true;
    if (h.mode == UploadMode::assemble && policy_.norm_bound > 0) {
      federation::UpdateLimits limits;
      limits.norm_bound = policy_.norm_bound;
      limits.on_exceed = policy_.clip_to_norm ? federation::UpdateLimits::clip : federation::UpdateLimits::reject;
      const auto d = federation::decide_norm(h.delta_squared, limits);
      if (d.reject)
        throw RequestError(ErrorCode::norm_exceeded, "the update's L2 norm " + std::to_string(d.norm) +
                                                         " exceeds the model's bound " +
                                                         std::to_string(policy_.norm_bound));
      if (d.clip && h.delta) {
        federation::scale(h.delta->span(), d.scale);
        h.clipped = out.clipped = true;
        h.clip_scale = d.scale;
      }
    }
  } catch (...) {
    drop_held(id);
    throw;
  }
  return out;
}

void MergeEngine::committed(uint64_t id, const ContributionNote& note) {
  auto& h = held(id);
  h.note = note;
  if (note.round_base == current_->version) enter_front(h, note);
}

void MergeEngine::enter_front(Held& h, const ContributionNote& note) {
  if (h.in_front) return;
  const auto n = static_cast<double>(note.num_samples);
  if (h.mode == UploadMode::fold) {
    if (h.factor != note.factor) {
      // Folded for another round than the one it was accepted into.
      fold_from_store(note, h.coef, true);
      h.factor = note.factor;
      h.coef = aggregator_->weight_of(n, h.factor);
      fold_from_store(note, h.coef, false);
    }
    aggregator_->count_folded(h.coef, n);
  } else if (policy_.merge != MergeMode::async) {
    if (!h.delta) h.delta = load_delta(h, note);
    aggregator_->add(h.delta->span(), n, note.factor);
    if (federation::is_mean_based(policy_.aggregator.name)) h.delta.reset();  // folded into the accumulator
  }
  h.in_front = true;
  front_order_.push_back(note.upload_id);
  peak_held_bytes_ = std::max(peak_held_bytes_, aggregator_->held_bytes());
}

void MergeEngine::fold_from_store(const ContributionNote& note, double coef, bool unfold) {
  scan_stored_delta(store_, def_.name, note.upload_id, base_trainable(note.base_version), "'" + note.participant + "'",
                    [&](size_t first, std::span<const float> delta) {
                      if (unfold)
                        aggregator_->unfold_part(static_cast<int64_t>(first), delta, coef);
                      else
                        aggregator_->fold_part(static_cast<int64_t>(first), delta, coef);
                    });
}

AlignedFloats MergeEngine::load_delta(Held& h, const ContributionNote& note) {
  AlignedFloats delta(def_.contribution_parameters());
  auto out = delta.span();
  const auto scan = scan_stored_delta(
      store_, def_.name, note.upload_id, base_trainable(note.base_version), "'" + note.participant + "'",
      [&](size_t first, std::span<const float> d) { std::copy(d.begin(), d.end(), out.begin() + first); });
  if (scan.bytes != def_.contribution_bytes())
    throw RequestError(ErrorCode::internal, "the stored contribution of '" + note.participant + "' to version " +
                                                std::to_string(note.base_version) + " of '" + def_.name + "' has " +
                                                std::to_string(scan.bytes) + " of its " +
                                                std::to_string(def_.contribution_bytes()) + " bytes");
  if (h.data_hash == 0) h.data_hash = scan.data_hash;
  if (!h.norm_known) {
    // A contribution recovered from the store: the norm bound decides as it
    // did at upload (it was accepted, so only a clip can follow).
    h.delta_squared = scan.delta_squared;
    h.norm_known = true;
    if (policy_.norm_bound > 0 && policy_.clip_to_norm) {
      federation::UpdateLimits limits;
      limits.norm_bound = policy_.norm_bound;
      limits.on_exceed = federation::UpdateLimits::clip;
      const auto d = federation::decide_norm(h.delta_squared, limits);
      if (d.clip) {
        h.clipped = true;
        h.clip_scale = d.scale;
      }
    }
  }
  if (h.clipped) federation::scale(delta.span(), h.clip_scale);
  return delta;
}

void MergeEngine::new_aggregator() {
  aggregator_ = make_for(policy_, def_, state_);
  front_order_.clear();
}

void MergeEngine::erase_staged(uint64_t id) {
  StoreBatch b;
  b.erase_chunks(def_.name, id);
  b.erase_upload(def_.name, id);
  store_.commit(b, false);
}

void MergeEngine::drop_held(uint64_t id) {
  auto it = held_.find(id);
  if (it == held_.end()) return;
  auto& h = *it->second;
  bool unfolded = true;
  try {
    if (h.mode == UploadMode::fold && h.folded > 0) {
      ContributionNote n;
      n.upload_id = id;
      n.base_version = h.base;
      n.participant = "upload " + std::to_string(id);
      // Only the parts folded so far are stored: unfold exactly those.
      fold_from_store(n, h.coef, true);
      if (h.in_front) aggregator_->uncount_folded(h.coef, static_cast<double>(h.num_samples));
    }
  } catch (const std::exception&) {
    unfolded = false;
  }
  held_.erase(it);
  erase_staged(id);
  if (!unfolded) rebuild_aggregator();  // start the round again from what is durable
}

void MergeEngine::abort(uint64_t id) { drop_held(id); }

void MergeEngine::rebuild_aggregator() {
  if (auto record = store_.server_state(def_.name))
    state_ = read_server_state(*record, policy_.aggregator);
  else
    state_ = {};
  new_aggregator();
  for (auto& [id, hp] : held_) {
    auto& h = *hp;
    const bool front = h.note && h.note->round_base == current_->version;
    h.in_front = false;
    if (h.mode == UploadMode::fold) {
      if (!folds(policy_, *aggregator_)) {
        h.mode = UploadMode::assemble;  // the new aggregator reads whole deltas
        h.folded = 0;
        h.delta.reset();
        if (h.note) h.delta = load_delta(h, *h.note);
      } else if (h.folded > 0) {
        ContributionNote n = h.note.value_or(ContributionNote{});
        n.upload_id = id;
        n.base_version = h.base;
        h.coef = aggregator_->weight_of(static_cast<double>(h.num_samples), h.factor);
        fold_from_store(n, h.coef, false);
      }
    }
    if (front) enter_front(h, *h.note);
  }
}

void MergeEngine::set_policy(const MergePolicy& policy, const std::vector<uint64_t>& ended) {
  const bool rebuild = aggregation_changes(policy_, policy);
  const bool new_strategy = policy_.aggregator.to_json() != policy.aggregator.to_json();
  policy_ = policy;
  if (rebuild) {
    for (uint64_t id : ended)
      if (held_.erase(id)) erase_staged(id);
    if (new_strategy) state_ = {};
    new_aggregator();
    // What was folded is gone with the old aggregator; accepted contributions
    // (and uploads being committed) are read from their stored chunks when
    // they join a round.
    for (auto& [id, h] : held_) {
      if (h->mode == UploadMode::fold) h->delta.reset();
      h->mode = UploadMode::assemble;
      h->folded = 0;
      h->in_front = false;
      if (h->note && h->note->round_base == current_->version) enter_front(*h, *h->note);
    }
  }
  keep_bases();
}

MergeOutcome MergeEngine::merge(const MergeOrder& order) {
  const uint64_t base = current_->version;
  if (order.base_version != base)
    throw RequestError(ErrorCode::internal, "the merger of '" + def_.name + "' is at version " + std::to_string(base) +
                                                ", asked to merge onto " + std::to_string(order.base_version));
  if (order.members.empty()) throw RequestError(ErrorCode::internal, "a merge without contributions");
  if (aggregation_changes(policy_, order.policy) || policy_.to_json() != order.policy.to_json())
    set_policy(order.policy);
  std::set<uint64_t> members;
  for (const auto& m : order.members) members.insert(m.upload_id);
  MergeThreads threads;
  try {
    // 1. Every member in the aggregator; recovered ones from the store.
    for (const auto& m : order.members) {
      auto it = held_.find(m.upload_id);
      if (it == held_.end()) {
        auto h = std::make_unique<Held>();
        h->base = m.base_version;
        h->num_samples = m.num_samples;
        h->data_bytes = def_.contribution_bytes();
        h->factor = m.factor;
        h->note = m;
        // Added whole, in member order (one delta in memory at a time for
        // the mean-based aggregators): its hash and norm are computed as
        // it is read, and the sum is in a replayable order.
        h->mode = UploadMode::assemble;
        it = held_.emplace(m.upload_id, std::move(h)).first;
      }
      auto& h = *it->second;
      if (!h.note) h.note = m;
      enter_front(h, m);
    }
    // 2. Folded data of uploads that are not members leaves the round.
    for (auto& [id, hp] : held_)
      if (!members.count(id) && hp->mode == UploadMode::fold && hp->folded > 0) {
        ContributionNote n = hp->note.value_or(ContributionNote{});
        n.upload_id = id;
        n.base_version = hp->base;
        fold_from_store(n, hp->coef, true);
        if (hp->in_front) aggregator_->uncount_folded(hp->coef, static_cast<double>(hp->num_samples));
        hp->in_front = false;
        hp->folded = 0;  // folded again after the merge
      }

    // 3. The new weights, from the state the round started with (kept for
    // a replay).
    const Buffer state_before = server_state_record(policy_.aggregator, state_);
    const auto x = base_trainable(base);  // the merge is in the trainable space (all of it unless frozen)
    AlignedFloats next;
    MergeOutcome out;
    std::string aggregator_name = aggregator_->name();
    if (policy_.merge == MergeMode::async) {
      if (order.members.size() != 1) throw RequestError(ErrorCode::internal, "an async merge mixes one contribution");
      const auto& m = order.members[0];
      auto& h = *held_.at(m.upload_id);
      if (!h.delta) h.delta = load_delta(h, m);
      const double alpha_t = policy_.alpha * m.factor;
      next = AlignedFloats::copy_of(x);
      federation::fedasync_mix(next.span(), base_trainable(m.base_version), h.delta->span(), alpha_t);
      aggregator_name = "fedasync";
      out.merged.push_back({m.participant, m.base_version, m.staleness(), m.num_samples, alpha_t, h.clipped});
    } else {
      if (auto acc = aggregator_->apply_into_accumulator(x, state_)) {
        next = std::move(*acc);
      } else {
        next = AlignedFloats(def_.contribution_parameters());
        aggregator_->apply_to(x, next.span(), state_);
      }
      for (const auto& m : order.members)
        out.merged.push_back(
            {m.participant, m.base_version, m.staleness(), m.num_samples, m.factor, held_.at(m.upload_id)->clipped});
    }
    if (const auto bad = federation::first_non_finite(next.span()); bad >= 0) {
      std::string who;
      for (const auto& m : order.members) who += (who.empty() ? "" : ", ") + m.participant;
      throw RequestError(ErrorCode::internal, "merging version " + std::to_string(base) + " of '" + def_.name +
                                                  "' gives a non-finite value at " +
                                                  where(def_.contribution_layout(), static_cast<uint64_t>(bad)) +
                                                  "; nothing was stored (contributions: " + who + ")");
    }
    if (!def_.trainable.whole()) next = def_.trainable.expand(current_->weights.span(), next.span());  // frozen: kept

    // The provenance: the members in the order they were added.
    auto prov = std::make_unique<fb::ProvenanceT>();
    prov->version = base + 1;
    prov->base_version = base;
    prov->aggregator = aggregator_name;
    prov->aggregator_config = policy_.aggregator.to_json();
    prov->policy = policy_.to_json();
    prov->noise_seed = policy_.merge == MergeMode::async ? 0 : aggregator_->noise_seed_used();
    prov->summation = "ordered";
    std::vector<const ContributionNote*> in_order;
    for (uint64_t id : front_order_)
      for (const auto& m : order.members)
        if (m.upload_id == id) in_order.push_back(&m);
    for (const auto& m : order.members)
      if (std::find(in_order.begin(), in_order.end(), &m) == in_order.end()) in_order.push_back(&m);
    double weight_sum = 0;
    std::vector<double> weights;
    for (const auto* m : in_order) {
      double w = 1;
      if (policy_.merge == MergeMode::async)
        w = policy_.alpha * m->factor;
      else if (federation::is_mean_based(policy_.aggregator.name))
        w = aggregator_->weight_of(static_cast<double>(m->num_samples), m->factor);
      weights.push_back(w);
      weight_sum += w;
    }
    for (size_t i = 0; i < in_order.size(); ++i) {
      const auto& m = *in_order[i];
      const auto& h = *held_.at(m.upload_id);
      if (h.mode == UploadMode::fold) prov->summation = "arrival";
      auto pm = std::make_unique<fb::ProvenanceMemberT>();
      pm->participant = m.participant;
      pm->base_version = m.base_version;
      pm->num_samples = m.num_samples;
      pm->staleness = m.staleness();
      pm->factor = m.factor;
      pm->weight_share = policy_.merge == MergeMode::async ? weights[i] : weights[i] / weight_sum;
      pm->clipped = h.clipped;
      pm->clip_scale = h.clip_scale;
      pm->update_norm = h.norm_known ? std::sqrt(h.delta_squared) : 0;
      pm->validation = h.clipped ? "accepted, clipped to the norm bound" : "accepted";
      pm->upload_id = m.upload_id;
      pm->data_hash = h.data_hash;
      pm->received_at_ms = m.received_at_ms;
      prov->members.push_back(std::move(pm));
    }
    for (const auto& r : order.refused)
      prov->refused.push_back(std::make_unique<fb::ProvenanceRefusalT>(refusal_of(r)));
    prov->refused_total = order.refused_total;

    // 4. The new version's image.
    VersionMeta meta;
    meta.model = def_.name;
    meta.version = base + 1;
    meta.created_at_ms = now_ms();
    meta.base_version = base;
    meta.aggregator = aggregator_name;
    for (const auto& m : order.members) {
      meta.contributors.push_back(m.participant);
      meta.total_samples = checked_add(meta.total_samples, m.num_samples);
    }
    auto image = std::make_shared<VersionImage>();
    image->version = base + 1;
    image->data_hash = data_hash(next.as_bytes());
    fb::ModelSpecT spec;
    flatbuffers::GetRoot<fb::ModelSpec>(def_.spec.data())->UnPackTo(&spec);
    image->prefix = package_prefix(spec, meta, def_.layout, image->data_hash);
    image->weights = std::move(next);

    // 5. Stored: the pieces (unsynced; garbage until the info exists), then
    // one synced batch.
    const uint64_t size = image->size();
    const bool unlogged = stored::store_version_pieces(store_, def_.name, *image);
    out.note.version = base + 1;
    out.note.created_at_ms = meta.created_at_ms;
    out.note.base_version = base;
    out.note.contributions = static_cast<uint32_t>(order.members.size());
    out.note.total_samples = meta.total_samples;
    out.note.aggregator = aggregator_name;
    out.note.package_bytes = size;
    out.note.data_hash = image->data_hash;
    const Buffer state_after = server_state_record(policy_.aggregator, state_);
    const bool keep_inputs = policy_.replay_versions > 0;
    prov->created_at_ms = meta.created_at_ms;
    prov->state_before_sha256 = digest_of(state_before);
    prov->state_after_sha256 = digest_of(state_after);
    prov->weights_sha256 = digest_of(image->weights.as_bytes());
    prov->replayable = keep_inputs;
    StoreBatch commit;
    if (unlogged) commit.persist_first(Family::versions);
    commit.put_version_info(def_.name, base + 1, stored::version_info(out.note, kPieceBytes));
    commit.put_provenance(def_.name, base + 1, provenance_record(*prov));
    commit.put_server_state(def_.name, state_after);
    if (keep_inputs) commit.put_replay_state(def_.name, base + 1, state_before);
    for (const auto& m : order.members) {
      if (keep_inputs)  // its chunks stay for a replay (prune_replay_inputs)
        commit.retire_merged(def_.name, m.base_version, m.participant, m.seq);
      else
        commit.erase_merged(def_.name, m.base_version, m.participant, m.seq, m.upload_id);
    }
    prune_replay_inputs(commit, base + 1);
    for (uint64_t v : order.prune) commit.erase_version_pieces(def_.name, v);
    store_.commit(commit, true);

    // 6. The new round.
    auto previous = current_;
    current_ = image;
    out.image = std::move(image);
    bases_[previous->version] = std::move(previous);
    keep_bases();
    for (uint64_t id : members) held_.erase(id);
    start_round(order.rebind);
    return out;
  } catch (...) {
    // Nothing was stored (or the synced batch failed as a whole): start the
    // round again from what is durable.
    for (auto& [id, h] : held_)
      if (h->mode == UploadMode::fold) h->folded = 0;
    try {
      rebuild_aggregator();
    } catch (...) {
    }
    throw;
  }
}

// After a new version: a fresh aggregator for the round onto it; the uploads
// held join it with their factor there (`rebind` for open uploads; accepted
// ones with their note's), and the open ones the round does not accept are
// dropped.
void MergeEngine::start_round(const std::vector<std::pair<uint64_t, double>>& rebind) {
  new_aggregator();
  std::map<uint64_t, double> factors(rebind.begin(), rebind.end());
  for (auto it = held_.begin(); it != held_.end();) {
    const uint64_t id = it->first;
    auto& h = *it->second;
    ++it;
    auto r = factors.find(id);
    const double factor = r == factors.end() ? 0.0 : r->second;
    if (factor <= 0 && !h.note) {
      drop_held(id);
      continue;
    }
    if (h.note)
      h.factor = h.note->factor;
    else
      h.factor = factor;
    h.in_front = false;
    if (h.mode == UploadMode::fold && h.received > 0) {
      ContributionNote n = h.note.value_or(ContributionNote{});
      n.upload_id = id;
      n.base_version = h.base;
      h.coef = aggregator_->weight_of(static_cast<double>(h.num_samples), h.factor);
      fold_from_store(n, h.coef, false);
      h.folded = h.received;
    } else if (h.mode == UploadMode::fold) {
      h.coef = aggregator_->weight_of(static_cast<double>(h.num_samples), h.factor);
    }
    if (h.note && h.note->round_base == current_->version) enter_front(h, *h.note);
  }
}

MergeOutcome MergeEngine::rollback(const RollbackOrder& order) {
  const uint64_t base = current_->version;
  if (order.base_version != base)
    throw RequestError(ErrorCode::internal, "the merger of '" + def_.name + "' is at version " + std::to_string(base) +
                                                ", asked to roll back from " + std::to_string(order.base_version));
  SharedImage from;
  if (auto it = bases_.find(order.to_version); it != bases_.end())
    from = it->second;
  else
    from = stored::read_version_image(store_, def_, order.to_version);
  if (!from)
    throw RequestError(ErrorCode::unknown_version, "the weights of version " + std::to_string(order.to_version) +
                                                       " of '" + def_.name + "' are not stored any more");
  MergeOutcome out;
  VersionMeta meta;
  meta.model = def_.name;
  meta.version = base + 1;
  meta.created_at_ms = now_ms();
  meta.base_version = base;
  meta.aggregator = "rollback";
  auto image = std::make_shared<VersionImage>();
  image->version = base + 1;
  image->data_hash = from->data_hash;
  fb::ModelSpecT spec;
  flatbuffers::GetRoot<fb::ModelSpec>(def_.spec.data())->UnPackTo(&spec);
  image->prefix = package_prefix(spec, meta, def_.layout, image->data_hash);
  image->weights = AlignedFloats::copy_of(from->weights.span());

  const bool unlogged = stored::store_version_pieces(store_, def_.name, *image);
  out.note.version = base + 1;
  out.note.created_at_ms = meta.created_at_ms;
  out.note.base_version = base;
  out.note.aggregator = "rollback";
  out.note.package_bytes = image->size();
  out.note.data_hash = image->data_hash;
  out.note.rolled_back_from = static_cast<int64_t>(order.to_version);
  fb::ProvenanceT prov;
  prov.version = base + 1;
  prov.base_version = base;
  prov.created_at_ms = meta.created_at_ms;
  prov.aggregator = "rollback";
  prov.aggregator_config = policy_.aggregator.to_json();
  prov.policy = policy_.to_json();
  const Buffer state = server_state_record(policy_.aggregator, state_);
  prov.state_before_sha256 = digest_of(state);
  prov.state_after_sha256 = prov.state_before_sha256;
  prov.weights_sha256 = digest_of(image->weights.as_bytes());
  prov.summation = "ordered";
  prov.replayable = true;  // while the weights of to_version are kept
  prov.rolled_back_from = static_cast<int64_t>(order.to_version);
  StoreBatch commit;
  if (unlogged) commit.persist_first(Family::versions);
  commit.put_version_info(def_.name, base + 1, stored::version_info(out.note, kPieceBytes));
  commit.put_provenance(def_.name, base + 1, provenance_record(prov));
  // The kept contributions' pending and filter records name their new round
  // and factor (a restart rebuilds the rounds from them).
  for (const auto& k : order.kept) {
    const Buffer summary = stored::contribution_summary(k);
    commit.ops().push_back({StoreBatch::Kind::put, Family::pending, version_key(def_.name, k.seq), summary});
    commit.ops().push_back(
        {StoreBatch::Kind::put, Family::filter, contribution_key(def_.name, k.base_version, k.participant), summary});
  }
  for (const auto& d : order.dropped) commit.erase_merged(def_.name, d.base_version, d.participant, d.seq, d.upload_id);
  for (uint64_t v : order.prune) commit.erase_version_pieces(def_.name, v);
  store_.commit(commit, true);

  // The new round, as after a merge.
  for (const auto& d : order.dropped) held_.erase(d.upload_id);  // their chunks went with the batch
  for (const auto& k : order.kept)
    if (auto it = held_.find(k.upload_id); it != held_.end()) it->second->note = k;
  for (auto& [id, h] : held_) {
    h->in_front = false;
    if (h->mode == UploadMode::fold) h->folded = 0;  // folded again by start_round
  }
  auto previous = current_;
  current_ = image;
  out.image = std::move(image);
  bases_[previous->version] = std::move(previous);
  keep_bases();
  try {
    start_round(order.rebind);
  } catch (...) {
    // The version is stored: rebuild the round from what is durable.
    for (auto& [id, h] : held_)
      if (h->mode == UploadMode::fold) h->folded = 0;
    rebuild_aggregator();
  }
  return out;
}

StoreBatch model_erasure(const std::string& name) {
  StoreBatch b;
  // name 0x00 ... is every key of the model; name 0x01 is the end of that range.
  std::string begin = name;
  begin.push_back('\0');
  std::string end = name;
  end.push_back('\1');
  for (Family f :
       {Family::versions, Family::version_info, Family::server_state, Family::contributions, Family::chunks,
        Family::filter, Family::pending, Family::uploads, Family::provenance, Family::replay_state, Family::scores})
    b.ops().push_back({StoreBatch::Kind::erase_range, f, begin, Buffer(end.begin(), end.end())});
  b.ops().push_back({StoreBatch::Kind::erase, Family::models, name, {}});
  return b;
}

// The inputs of versions newest - replay_versions and older leave (their
// members' chunks and the state they started from); their provenance says
// so. Walks down until a version whose inputs are gone already.
void MergeEngine::prune_replay_inputs(StoreBatch& batch, uint64_t newest) {
  const auto keep = static_cast<uint64_t>(std::max<int64_t>(1, policy_.replay_versions));
  if (newest <= keep) return;
  for (uint64_t v = newest - keep; v >= 1; --v) {
    const auto record = store_.provenance(def_.name, v);
    if (!record) break;
    fb::ProvenanceT p;
    try {
      p = read_provenance(*record);
    } catch (const RequestError&) {
      break;  // a damaged record: its inputs stay (verify reports it); merges go on
    }
    if (p.rolled_back_from < 0) {
      if (!p.replayable) break;
      for (const auto& m : p.members) batch.erase_chunks(def_.name, m->upload_id);
      batch.erase_replay_state(def_.name, v);
      p.replayable = false;
      batch.put_provenance(def_.name, v, provenance_record(p));
    }
    if (v == 1) break;
  }
}

void MergeEngine::erase_model() {
  store_.commit(model_erasure(def_.name), true);
  held_.clear();
  bases_.clear();
  trainable_bases_.clear();
}

// ---------------------------------------------------------------- state

Buffer server_state_record(const federation::AggregatorConfig& config, const federation::ServerState& state) {
  const std::string json = config.to_json();
  const std::string bytes = state.serialize();
  Buffer out(4 + json.size() + bytes.size());
  const auto n = static_cast<uint32_t>(json.size());
  for (int i = 0; i < 4; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  std::memcpy(out.data() + 4, json.data(), json.size());
  std::memcpy(out.data() + 4 + json.size(), bytes.data(), bytes.size());
  return out;
}

federation::ServerState read_server_state(std::span<const char> record, const federation::AggregatorConfig& config) {
  if (record.size() < 4) throw RequestError(ErrorCode::internal, "the stored server state is damaged (too short)");
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n |= static_cast<uint32_t>(static_cast<unsigned char>(record[static_cast<size_t>(i)])) << (8 * i);
  if (n > record.size() - 4) throw RequestError(ErrorCode::internal, "the stored server state is damaged (length)");
  const std::string json(record.data() + 4, n);
  if (json != config.to_json()) return {};  // another aggregator's state
  try {
    return federation::ServerState::deserialize(std::string_view(record.data() + 4 + n, record.size() - 4 - n));
  } catch (const std::exception& e) {
    throw RequestError(ErrorCode::internal, std::string("the stored server state is damaged: ") + e.what());
  }
}

}  // namespace fedhub
