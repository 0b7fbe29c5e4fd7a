#include "hub/model_core.hpp"

#include <algorithm>

#include "federation/staleness.hpp"
#include "messages/contribution.hpp"
#include "messages/errors.hpp"

namespace fedhub {

void set_layout(ModelDefinition& d, const Architecture& a) {
  d.layout = a.parameters();
  d.trainable = TrainableSlice(a);
  d.parameters = d.trainable.full_parameters();
}

void check_contribution_tensors(const ModelDefinition& d, const FbTensors* tensors) {
  try {
    check_tensor_infos(tensors, d.contribution_layout());
  } catch (const RequestError& e) {
    if (d.trainable.whole()) throw;
    std::string names;
    for (const auto& t : d.contribution_layout()) names += (names.empty() ? "" : ", ") + t.name;
    throw RequestError(e.code(),
                       std::string(e.what()) + " (model '" + d.name + "' trains " +
                           std::to_string(d.contribution_parameters()) + " of its " + std::to_string(d.parameters) +
                           " parameters: its other layers are frozen, and a contribution carries only " + names + ")");
  }
}

UploadMode upload_mode(const MergePolicy& p, uint64_t data_bytes, uint64_t fold_threshold_bytes) {
  const bool foldable = p.merge != MergeMode::async && federation::is_mean_based(p.aggregator.name) &&
                        !p.aggregator.dp.enabled && p.norm_bound == 0;
  return foldable && data_bytes >= fold_threshold_bytes ? UploadMode::fold : UploadMode::assemble;
}

bool aggregation_changes(const MergePolicy& a, const MergePolicy& b) {
  return a.aggregator.to_json() != b.aggregator.to_json() ||
         (a.merge == MergeMode::async) != (b.merge == MergeMode::async) || a.norm_bound != b.norm_bound ||
         a.clip_to_norm != b.clip_to_norm;
}

ModelCore::ModelCore(ModelDefinition definition, MergePolicy policy, Recovered r, SharedImage published, Limits limits)
    : def_(std::move(definition)),
      policy_(std::move(policy)),
      limits_(limits),
      current_(r.current_version),
      published_(std::move(published)),
      versions_(std::move(r.versions)),
      oldest_stored_(r.oldest_stored),
      next_seq_(r.next_seq),
      archived_(r.archived) {
  for (auto& n : r.notes) notes_[n.base_version].push_back(std::move(n));
  // Rounds from the recovered pending contributions: one round per recorded
  // round base, in order, built consecutively on the current version.
  std::map<uint64_t, std::vector<ContributionNote>> by_round;
  for (auto& p : r.pending) {
    next_seq_ = std::max(next_seq_, p.seq + 1);
    by_round[std::max(p.round_base, current_)].push_back(std::move(p));
  }
  uint64_t base = current_;
  for (auto& [recorded, members] : by_round) {
    Round round;
    round.base = base++;
    round.members = std::move(members);
    rounds_.push_back(std::move(round));
  }
  if (rounds_.empty()) rounds_.push_back(Round{current_, {}, {}, false, false, false});
  // Every round but the last was closed before the restart; the last closes
  // now if the policy says so.
  for (size_t i = 0; i + 1 < rounds_.size(); ++i) rounds_[i].closed = true;
  const auto& last = rounds_.back();
  if ((policy_.merge == MergeMode::buffered && static_cast<int64_t>(last.members.size()) >= policy_.k) ||
      (policy_.merge == MergeMode::async && !last.members.empty()))
    close_back();
}

double ModelCore::factor_for(uint64_t base) const {
  const uint64_t round = open_round().base;
  if (base > round || base < policy_.oldest_accepted_base(round) || !weights_stored(base)) return 0;
  return federation::staleness_weight(policy_.staleness, static_cast<int64_t>(round - base));
}

double ModelCore::factor_at(uint64_t round, uint64_t base, uint64_t oldest_stored) const {
  if (base > round || base < policy_.oldest_accepted_base(round) || base < oldest_stored) return 0;
  return federation::staleness_weight(policy_.staleness, static_cast<int64_t>(round - base));
}

uint64_t ModelCore::oldest_kept_at(uint64_t version) const {
  const auto keep = static_cast<uint64_t>(std::max<int64_t>(1, policy_.versions_to_keep()));
  return version + 1 > keep ? std::max(oldest_stored_, version + 1 - keep) : oldest_stored_;
}

namespace {

[[noreturn]] void refuse_archived(const std::string& name, const char* what) {
  throw RequestError(ErrorCode::archived, "model '" + name + "' is archived (read-only): " + what +
                                              " is refused; unarchive it first (fl-manager unarchive " + name + ")");
}

}  // namespace

uint32_t ModelCore::needed() const { return std::max<uint32_t>(1, def_.min_contributions); }

void ModelCore::close_back() {
  open_round().closed = true;
  rounds_.push_back(Round{open_round().base + 1, {}, {}, false, false, false});
}

void ModelCore::clear_failed() {
  for (auto& r : rounds_) r.failed = false;
}

UploadSession& ModelCore::own(uint64_t id, const std::string& participant) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.note.participant != participant)
    throw RequestError(ErrorCode::unknown_upload,
                       "model '" + def_.name + "' has no upload " + std::to_string(id) + " of '" + participant +
                           "' (it was committed, aborted, or abandoned after " +
                           std::to_string(limits_.session_idle_ms / 1000) + " s idle): upload the result again");
  return it->second;
}

const UploadSession& ModelCore::session(uint64_t id, const std::string& participant) const {
  return const_cast<ModelCore*>(this)->own(id, participant);
}

const UploadSession& ModelCore::begin_upload(const UploadRequest& rq, const std::string& participant,
                                             uint64_t upload_id, uint64_t now_ms, std::optional<uint64_t>* replaced) {
  const auto& name = def_.name;
  if (archived_) refuse_archived(name, "uploading");
  if (policy_.excluded.count(participant))
    throw RequestError(ErrorCode::excluded, "the contributions of '" + participant + "' to '" + name +
                                                "' are excluded (they were flagged, docs/crowd.md): a manager lifts "
                                                "it with fl-manager unflag " +
                                                name + " " + participant);
  if (rolling_back_)
    throw RequestError(ErrorCode::busy, "a rollback of '" + name + "' is under way: try again in a moment");
  if (rq.model != name)
    throw RequestError(ErrorCode::bad_contribution,
                       "the contribution is for model '" + rq.model + "', not '" + name + "'");
  const uint64_t base = rq.base_version;
  if (base > current_)
    throw RequestError(ErrorCode::unknown_version, "model '" + name + "' has no version " + std::to_string(base) +
                                                       " (current: " + std::to_string(current_) + ")");
  if (factor_for(base) <= 0) {
    const uint64_t round = open_round().base;
    const uint64_t oldest = std::max(policy_.oldest_accepted_base(round), oldest_stored_);
    std::string why = oldest >= current_ && round == current_ ? "the current version " + std::to_string(current_)
                                                              : "the oldest version the model accepts now (" +
                                                                    std::to_string(std::min(oldest, round)) + ")";
    if (round > current_) why += "; a merge onto version " + std::to_string(current_) + " is under way";
    throw RequestError(ErrorCode::stale, "base version " + std::to_string(base) + " of '" + name + "' is older than " +
                                             why + ": download the current version and train again");
  }
  if (auto it = notes_.find(base); it != notes_.end())
    for (const auto& n : it->second)
      if (n.participant == participant)
        throw RequestError(ErrorCode::duplicate, "'" + participant + "' has already contributed to version " +
                                                     std::to_string(base) + " of '" + name +
                                                     "': wait for the next version");
  std::optional<uint64_t> old;
  for (const auto& [id, s] : sessions_)
    if (s.note.participant == participant && s.note.base_version == base) {
      if (s.state != UploadSession::State::receiving)
        throw RequestError(ErrorCode::duplicate, "an upload of '" + participant + "' to version " +
                                                     std::to_string(base) + " of '" + name +
                                                     "' is being committed: wait for its answer");
      old = id;
    }
  if (rq.num_samples < 1)
    throw RequestError(ErrorCode::bad_contribution, "the contribution reports no training samples");
  if (rq.num_samples > limits_.max_samples)
    throw RequestError(ErrorCode::bad_contribution, "the contribution claims " + std::to_string(rq.num_samples) +
                                                        " training samples; the hub accepts at most " +
                                                        std::to_string(limits_.max_samples));
  if (auto why = check_metrics(rq.metrics); !why.empty()) throw RequestError(ErrorCode::bad_contribution, why);
  if (rq.data_bytes != def_.contribution_bytes())
    throw RequestError(ErrorCode::bad_shape,
                       "the contribution holds " + std::to_string(rq.data_bytes) + " bytes of weights; model '" + name +
                           "' trains " + std::to_string(def_.contribution_parameters()) +
                           (def_.trainable.whole() ? "" : " of its " + std::to_string(def_.parameters)) +
                           " parameters (" + std::to_string(def_.contribution_bytes()) + " bytes)");
  if (!old && sessions_.size() >= limits_.max_sessions)
    throw RequestError(ErrorCode::busy, "model '" + name + "' has " + std::to_string(sessions_.size()) +
                                            " uploads in progress, the most it takes: try again when one ends");
  if (!old) {
    uint32_t mine = 0;
    for (const auto& [id, s] : sessions_) mine += s.note.participant == participant;
    if (mine >= limits_.max_sessions_per_key)
      throw RequestError(ErrorCode::quota_exceeded,
                         "'" + participant + "' has " + std::to_string(mine) + " uploads to '" + name +
                             "' open, the most one key may have (quota_open_uploads): finish or abandon one first");
  }
  if (sessions_.count(upload_id)) throw RequestError(ErrorCode::internal, "upload id collision; try again");
  if (old) {
    sessions_.erase(*old);
    if (replaced) *replaced = old;
  }
  UploadSession s;
  s.id = upload_id;
  s.note.participant = participant;
  s.note.base_version = base;
  s.note.num_samples = rq.num_samples;
  s.note.metrics = rq.metrics;
  s.note.upload_id = upload_id;
  s.data_bytes = rq.data_bytes;
  s.data_hash = rq.data_hash;
  s.last_activity_ms = now_ms;
  s.factor = factor_for(base);
  s.mode = upload_mode(policy_, rq.data_bytes, limits_.fold_threshold_bytes);
  s.header = rq.header;
  return sessions_.emplace(upload_id, std::move(s)).first->second;
}

void ModelCore::check_not_doomed(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || !it->second.doomed) return;
  const uint64_t base = it->second.note.base_version;
  sessions_.erase(it);
  throw RequestError(ErrorCode::stale, "version " + std::to_string(base) + " of '" + def_.name +
                                           "' was merged during the upload and the model does not accept it any "
                                           "more: download the current version and train again");
}

void ModelCore::forward_part(uint64_t id, const std::string& participant, uint64_t offset, uint64_t size,
                             uint64_t now_ms) {
  own(id, participant);
  check_not_doomed(id);
  auto& s = own(id, participant);
  if (s.state != UploadSession::State::receiving)
    throw RequestError(ErrorCode::bad_request, "upload " + std::to_string(id) + " is being committed");
  if (offset != s.forwarded)
    throw RequestError(ErrorCode::bad_request, "upload " + std::to_string(id) + " expects bytes from offset " +
                                                   std::to_string(s.forwarded) + ", not " + std::to_string(offset) +
                                                   " (resume the upload to learn where it stands)");
  if (size == 0 || size > limits_.part_bytes)
    throw RequestError(ErrorCode::bad_request, "an upload part holds 1 to " + std::to_string(limits_.part_bytes) +
                                                   " bytes, not " + std::to_string(size));
  if (size > s.data_bytes - s.forwarded)
    throw RequestError(ErrorCode::bad_request, "the part ends at byte " + std::to_string(offset + size) +
                                                   ", past the " + std::to_string(s.data_bytes) +
                                                   " bytes the upload announced");
  if (size % sizeof(float) != 0 && offset + size != s.data_bytes)
    throw RequestError(ErrorCode::bad_request, "an upload part holds whole float32 values (a multiple of 4 bytes)");
  if (factor_for(s.note.base_version) <= 0) {
    const uint64_t base = s.note.base_version;
    sessions_.erase(id);
    throw RequestError(ErrorCode::stale, "version " + std::to_string(base) + " of '" + def_.name +
                                             "' was merged during the upload and the model does not accept it any "
                                             "more: download the current version and train again");
  }
  s.forwarded += size;
  s.last_activity_ms = now_ms;
}

void ModelCore::part_stored(uint64_t id, uint64_t size) {
  if (auto it = sessions_.find(id); it != sessions_.end()) it->second.stored += size;
}

void ModelCore::part_lost(uint64_t id) {
  if (auto it = sessions_.find(id); it != sessions_.end()) it->second.forwarded = it->second.stored;
}

std::optional<UploadSession> ModelCore::end_session(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  UploadSession s = std::move(it->second);
  sessions_.erase(it);
  for (auto& r : rounds_) r.in_flight.erase(id);
  return s;
}

void ModelCore::start_finalize(uint64_t id, const std::string& participant, uint64_t now_ms) {
  own(id, participant);
  if (archived_) refuse_archived(def_.name, "committing an upload");
  if (rolling_back_)
    throw RequestError(ErrorCode::busy, "a rollback of '" + def_.name + "' is under way: commit again in a moment");
  check_not_doomed(id);
  auto& s = own(id, participant);
  if (s.state != UploadSession::State::receiving)
    throw RequestError(ErrorCode::bad_request, "upload " + std::to_string(id) + " is being committed already");
  if (s.stored != s.data_bytes || s.forwarded != s.data_bytes)
    throw RequestError(ErrorCode::incomplete_upload, "upload " + std::to_string(id) + " has " +
                                                         std::to_string(s.stored) + " of its " +
                                                         std::to_string(s.data_bytes) + " bytes: send the rest first");
  s.state = UploadSession::State::finalizing;
  s.last_activity_ms = now_ms;
}

ContributionNote ModelCore::assign_commit(uint64_t id, uint64_t now_ms) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.state != UploadSession::State::finalizing)
    throw RequestError(ErrorCode::unknown_upload, "upload " + std::to_string(id) + " is not being committed");
  auto& s = it->second;
  const double f = s.doomed ? 0.0 : factor_for(s.note.base_version);
  if (f <= 0) {
    const uint64_t base = s.note.base_version;
    sessions_.erase(it);
    throw RequestError(ErrorCode::stale, "version " + std::to_string(base) + " of '" + def_.name +
                                             "' was merged during the upload and the model does not accept it any "
                                             "more: download the current version and train again");
  }
  auto& round = open_round();
  s.state = UploadSession::State::committing;
  s.note.round_base = round.base;
  s.note.factor = f;
  s.note.seq = next_seq_++;
  s.note.received_at_ms = now_ms;
  round.in_flight.insert(id);
  ContributionNote note = s.note;
  const auto assigned = static_cast<int64_t>(round.members.size() + round.in_flight.size());
  if ((policy_.merge == MergeMode::buffered && assigned >= policy_.k) || policy_.merge == MergeMode::async)
    close_back();
  return note;
}

uint32_t ModelCore::commit_durable(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.state != UploadSession::State::committing)
    throw std::logic_error("commit_durable: upload " + std::to_string(id) + " is not being committed");
  ContributionNote note = std::move(it->second.note);
  sessions_.erase(it);
  for (auto& r : rounds_)
    if (r.in_flight.erase(id)) {
      r.members.push_back(note);
      break;
    }
  clear_failed();
  auto& notes = notes_[note.base_version];
  notes.push_back(std::move(note));
  return static_cast<uint32_t>(notes.size());
}

void ModelCore::commit_failed(uint64_t id) { end_session(id); }

std::vector<uint64_t> ModelCore::expired(uint64_t now_ms) const {
  std::vector<uint64_t> out;
  for (const auto& [id, s] : sessions_)
    if (s.state == UploadSession::State::receiving && now_ms >= s.last_activity_ms + limits_.session_idle_ms)
      out.push_back(id);
  return out;
}

std::vector<uint64_t> ModelCore::open_uploads() const {
  std::vector<uint64_t> out;
  for (const auto& [id, s] : sessions_)
    if (s.state != UploadSession::State::committing) out.push_back(id);
  return out;
}

std::vector<uint64_t> ModelCore::open_uploads_of(const std::string& participant) const {
  std::vector<uint64_t> out;
  for (const auto& [id, s] : sessions_)
    if (s.state != UploadSession::State::committing && s.note.participant == participant) out.push_back(id);
  return out;
}

size_t ModelCore::session_count_of(const std::string& participant) const {
  size_t n = 0;
  for (const auto& [id, s] : sessions_) n += s.note.participant == participant;
  return n;
}

void ModelCore::request_merge(uint64_t base) {
  const auto& name = def_.name;
  if (archived_) refuse_archived(name, "merging");
  if (rolling_back_)
    throw RequestError(ErrorCode::merge_in_progress, "a rollback of '" + name + "' is under way: try again");
  if (base > current_)
    throw RequestError(ErrorCode::unknown_version, "model '" + name + "' has no version " + std::to_string(base));
  if (base < current_)
    throw RequestError(ErrorCode::base_not_current, "version " + std::to_string(base) + " of '" + name +
                                                        "' was merged already; the current version is " +
                                                        std::to_string(current_));
  auto& front = rounds_.front();
  if (front.closed && !front.failed)
    throw RequestError(ErrorCode::merge_in_progress,
                       "a merge of version " + std::to_string(base) + " of '" + name + "' is under way");
  if (front.members.size() < needed())
    throw RequestError(ErrorCode::not_enough_contributions, "version " + std::to_string(base) + " of '" + name +
                                                                "' has " + std::to_string(front.members.size()) +
                                                                " contribution(s) waiting; merging needs at least " +
                                                                std::to_string(needed()));
  if (!front.closed) close_back();
  front.failed = false;
}

void ModelCore::interval_tick() {
  auto& front = rounds_.front();
  if (!front.closed && front.members.size() >= needed()) close_back();
}

std::optional<MergeOrder> ModelCore::start_merge() {
  if (archived_ || rolling_back_) return std::nullopt;
  // A closed round left empty (every acceptance assigned to it failed to be
  // written) is skipped: the rounds behind it move down one version and
  // their contributions keep their recorded factors.
  while (rounds_.size() > 1 && rounds_.front().closed && rounds_.front().members.empty() &&
         rounds_.front().in_flight.empty()) {
    rounds_.pop_front();
    for (size_t i = 0; i < rounds_.size(); ++i) rounds_[i].base = current_ + i;
  }
  auto& front = rounds_.front();
  if (!front.closed || front.merging || front.failed || !front.in_flight.empty() || front.members.empty())
    return std::nullopt;
  front.merging = true;
  MergeOrder order;
  order.base_version = front.base;
  order.members = front.members;
  order.policy = policy_;
  // Open uploads fold into the round that stays open after this merge.
  for (auto& [id, s] : sessions_) {
    if (s.state == UploadSession::State::committing) continue;  // assigned: rebound by its note
    const double f = s.doomed ? 0.0 : factor_for(s.note.base_version);
    order.rebind.emplace_back(id, f);
    if (f <= 0) s.doomed = true;  // the merger drops its data
  }
  for (const auto& r : rounds_)
    for (uint64_t id : r.in_flight) order.rebind.emplace_back(id, sessions_.at(id).note.factor);
  for (size_t i = 1; i < rounds_.size(); ++i)
    for (const auto& m : rounds_[i].members) order.rebind.emplace_back(m.upload_id, m.factor);
  const uint64_t next = front.base + 1;
  const auto keep = static_cast<uint64_t>(std::max<int64_t>(1, policy_.versions_to_keep()));
  for (uint64_t v = oldest_stored_; v + keep <= next && v <= current_; ++v) order.prune.push_back(v);
  order.refused = refused_;
  order.refused_total = refused_total_;
  refused_in_merge_ = refused_.size();
  refused_total_in_merge_ = refused_total_;
  return order;
}

bool ModelCore::merging() const {
  const auto& front = rounds_.front();
  return rolling_back_ || (front.closed && !front.failed && !archived_);
}

void ModelCore::merge_done(MergeOutcome outcome) {
  auto& front = rounds_.front();
  if (!front.merging) throw std::logic_error("merge_done without a running merge");
  const uint64_t next = front.base + 1;
  if (outcome.note.version != next)
    throw std::logic_error("merge_done: version " + std::to_string(outcome.note.version) + ", expected " +
                           std::to_string(next));
  rounds_.pop_front();
  if (rounds_.empty()) rounds_.push_back(Round{next, {}, {}, false, false, false});
  // The refusals the new version recorded leave; later ones stay for the next.
  refused_.erase(refused_.begin(), refused_.begin() + static_cast<std::ptrdiff_t>(refused_in_merge_));
  refused_total_ -= refused_total_in_merge_;
  refused_in_merge_ = 0;
  refused_total_in_merge_ = 0;
  current_ = next;
  published_ = std::move(outcome.image);
  versions_.push_back(std::move(outcome.note));
  const auto keep = static_cast<uint64_t>(std::max<int64_t>(1, policy_.versions_to_keep()));
  if (current_ + 1 > keep) oldest_stored_ = std::max(oldest_stored_, current_ + 1 - keep);
  notes_.erase(notes_.begin(), notes_.lower_bound(oldest_stored_));
  // Sessions whose base the open round no longer accepts fail at their next
  // part; their factor follows the open round.
  for (auto& [id, s] : sessions_)
    if (s.state != UploadSession::State::committing) s.factor = factor_for(s.note.base_version);
}

void ModelCore::note_refusal(const std::string& participant, uint64_t base, ErrorCode code, const std::string& message,
                             uint64_t now) {
  ++refused_total_;
  if (refused_.size() - refused_in_merge_ >= kMaxRefusalNotes) return;  // beyond those of a running merge
  refused_.push_back({participant, base, error_name(code), message.substr(0, 512), now});
}

void ModelCore::merge_failed() {
  refused_in_merge_ = 0;
  refused_total_in_merge_ = 0;
  auto& front = rounds_.front();
  front.merging = false;
  front.failed = true;
  // A manual merge that failed (nothing stored, e.g. a full disk) leaves
  // the round as the command found it: open, taking contributions to the
  // current version, when nothing has joined the round behind it.
  if (policy_.merge == MergeMode::manual && rounds_.size() == 2 && rounds_.back().members.empty() &&
      rounds_.back().in_flight.empty()) {
    rounds_.pop_back();
    front.closed = false;
    front.failed = false;
    for (auto& [id, s] : sessions_)
      if (s.state != UploadSession::State::committing) s.factor = factor_for(s.note.base_version);
  }
}

void ModelCore::set_policy(MergePolicy policy) {
  policy_ = std::move(policy);
  clear_failed();
  auto& back = open_round();
  const auto assigned = static_cast<int64_t>(back.members.size() + back.in_flight.size());
  if ((policy_.merge == MergeMode::buffered && assigned >= policy_.k) ||
      (policy_.merge == MergeMode::async && assigned > 0))
    close_back();
  for (auto& [id, s] : sessions_)
    if (s.state != UploadSession::State::committing) {
      s.factor = factor_for(s.note.base_version);
      s.mode = upload_mode(policy_, s.data_bytes, limits_.fold_threshold_bytes);
    }
}

uint32_t ModelCore::pending_count() const {
  size_t n = 0;
  for (const auto& r : rounds_) n += r.members.size();
  return static_cast<uint32_t>(n);
}

ModelSummaryInfo ModelCore::summary() const {
  ModelSummaryInfo s;
  s.name = def_.name;
  s.current_version = current_;
  s.pending = pending_count();
  s.min_contributions = def_.min_contributions;
  s.parameters = def_.parameters;
  s.labels = def_.labels;
  s.created_at_ms = def_.created_at_ms;
  s.merging = merging();
  s.policy_json = policy_.to_json();
  s.archived = archived_;
  s.oldest_retained = oldest_stored_;
  s.open_uploads = static_cast<uint32_t>(sessions_.size());
  return s;
}

std::vector<uint64_t> ModelCore::set_archived(bool archived) {
  archived_ = archived;
  std::vector<uint64_t> ended;
  if (!archived) {
    clear_failed();
    return ended;
  }
  for (const auto& [id, s] : sessions_)
    if (s.state == UploadSession::State::receiving) ended.push_back(id);
  for (uint64_t id : ended) end_session(id);
  return ended;
}

RollbackOrder ModelCore::start_rollback(uint64_t to) {
  const auto& name = def_.name;
  if (archived_) refuse_archived(name, "a rollback");
  if (to > current_)
    throw RequestError(ErrorCode::unknown_version, "model '" + name + "' has no version " + std::to_string(to) +
                                                       " (current: " + std::to_string(current_) + ")");
  if (to == current_)
    throw RequestError(ErrorCode::bad_request, "version " + std::to_string(to) + " is the current version of '" + name +
                                                   "' already: roll back to an older one");
  if (to < oldest_stored_)
    throw RequestError(ErrorCode::unknown_version, "the weights of version " + std::to_string(to) + " of '" + name +
                                                       "' were pruned; the oldest retained version is " +
                                                       std::to_string(oldest_stored_) + " (versions " +
                                                       std::to_string(oldest_stored_) + " to " +
                                                       std::to_string(current_) + " can be rolled back to)");
  if (rolling_back_)
    throw RequestError(ErrorCode::merge_in_progress, "a rollback of '" + name + "' is under way already");
  for (const auto& r : rounds_) {
    if (r.merging)
      throw RequestError(ErrorCode::merge_in_progress,
                         "a merge of '" + name + "' is under way: roll back when it is done");
    if (!r.in_flight.empty())
      throw RequestError(ErrorCode::merge_in_progress,
                         "an upload to '" + name + "' is being committed: try again in a moment");
  }
  for (const auto& [id, s] : sessions_)
    if (s.state != UploadSession::State::receiving)
      throw RequestError(ErrorCode::merge_in_progress,
                         "an upload to '" + name + "' is being committed: try again in a moment");
  RollbackOrder order;
  order.to_version = to;
  order.base_version = current_;
  const uint64_t next = current_ + 1;
  const uint64_t oldest = oldest_kept_at(next);
  // Every pending contribution joins the round onto the new version, as
  // after any new version: with its staleness there, or not at all.
  for (const auto& r : rounds_)
    for (auto m : r.members) {
      const double f = factor_at(next, m.base_version, oldest);
      if (f <= 0) {
        order.dropped.push_back(std::move(m));
      } else {
        m.round_base = next;
        m.factor = f;
        order.kept.push_back(std::move(m));
      }
    }
  std::sort(order.kept.begin(), order.kept.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  for (auto& [id, s] : sessions_) {
    const double f = s.doomed ? 0.0 : factor_at(next, s.note.base_version, oldest);
    order.rebind.emplace_back(id, f);
    if (f <= 0) s.doomed = true;  // the merger drops its data
  }
  const auto keep = static_cast<uint64_t>(std::max<int64_t>(1, policy_.versions_to_keep()));
  for (uint64_t v = oldest_stored_; v + keep <= next && v <= current_; ++v) order.prune.push_back(v);
  rolling_back_ = true;
  return order;
}

void ModelCore::rollback_done(MergeOutcome outcome, const RollbackOrder& order) {
  if (!rolling_back_) throw std::logic_error("rollback_done without a rollback");
  rolling_back_ = false;
  const uint64_t next = current_ + 1;
  if (outcome.note.version != next)
    throw std::logic_error("rollback_done: version " + std::to_string(outcome.note.version) + ", expected " +
                           std::to_string(next));
  const uint64_t oldest = oldest_kept_at(next);
  current_ = next;
  published_ = std::move(outcome.image);
  versions_.push_back(std::move(outcome.note));
  oldest_stored_ = oldest;
  notes_.erase(notes_.begin(), notes_.lower_bound(oldest_stored_));
  for (const auto& k : order.kept)
    if (auto it = notes_.find(k.base_version); it != notes_.end())
      for (auto& n : it->second)
        if (n.participant == k.participant) {
          n.round_base = k.round_base;
          n.factor = k.factor;
        }
  rounds_.clear();
  rounds_.push_back(Round{current_, order.kept, {}, false, false, false});
  const auto& back = rounds_.back();
  if ((policy_.merge == MergeMode::buffered && static_cast<int64_t>(back.members.size()) >= policy_.k) ||
      (policy_.merge == MergeMode::async && !back.members.empty()))
    close_back();
  for (auto& [id, s] : sessions_)
    if (s.state != UploadSession::State::committing) s.factor = factor_for(s.note.base_version);
}

const std::vector<ContributionNote>* ModelCore::notes_for(uint64_t base) const {
  if (base < oldest_stored_ || base > current_) return nullptr;
  static const std::vector<ContributionNote> none;
  auto it = notes_.find(base);
  return it == notes_.end() ? &none : &it->second;
}

}  // namespace fedhub
