#include "actors/model_actor.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <filesystem>
#include <functional>
#include <iostream>

#include "actors/actor_errors.hpp"
#include "actors/atoms.hpp"
#include "actors/merger_actor.hpp"
#include "actors/message_types.hpp"
#include "actors/scorer_actor.hpp"
#include "actors/wire.hpp"
#include "datasets/source_spec.hpp"
#include "hub/store_records.hpp"
#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "messages/provenance.hpp"
#include "messages/request_generated.h"
#include "messages/responses.hpp"
#include "messages/tensors.hpp"
#include "metrics/registry.hpp"

namespace fedhub {

namespace {

using self_ptr = caf::stateful_actor<model_state>*;

caf::behavior running(self_ptr self);
caf::behavior unavailable(self_ptr self);
caf::behavior deleting(self_ptr self);

Buffer error_response(const RequestError& e) { return responses::error(e.code(), e.what()); }

void log(const model_state& st, const std::string& what) {
  std::cerr << "fl-hub: model '" << st.model_name << "': " << what << std::endl;
}

ModelCore& core(self_ptr self) { return *self->state.core; }

void broadcast(self_ptr self, const Buffer& event) {
  for (const auto& s : self->state.subscribers) self->send(s.actor, event_atom::value, event);
}

const caf::actor& reader(self_ptr self) {
  auto& st = self->state;
  return st.readers[st.next_reader++ % st.readers.size()];
}

// A request to the merger that nobody waits for: its failure is logged.
template <class... Ts>
void tell_merger(self_ptr self, Ts&&... xs) {
  self->request(self->state.merger, self->state.options.request_timeout, std::forward<Ts>(xs)...)
      .then([]() {}, [self](caf::error& e) { log(self->state, from_caf_error(e, "the merger").what()); });
}

// Turns a failed internal request into the client's answer.
auto fail_into(caf::response_promise rp, std::string what) {
  return [rp, what](caf::error& e) mutable { rp.deliver(error_response(from_caf_error(e, what))); };
}

int64_t checked_version(int64_t v, const char* request) {
  if (v < -1)
    throw RequestError(ErrorCode::bad_request, std::string(request) + ": version " + std::to_string(v) +
                                                   " is neither a version (0, 1, ...) nor -1 (the current one)");
  return v;
}

[[noreturn]] void no_such_version(const ModelCore& c, uint64_t v) {
  if (v > c.current_version())
    throw RequestError(ErrorCode::unknown_version, "model '" + c.name() + "' has no version " + std::to_string(v) +
                                                       " (current: " + std::to_string(c.current_version()) + ")");
  throw RequestError(ErrorCode::unknown_version, "the weights of version " + std::to_string(v) + " of '" + c.name() +
                                                     "' were pruned (the model keeps the last " +
                                                     std::to_string(c.policy().versions_to_keep()) +
                                                     " versions; see fl-manager policy)");
}

// ---------------------------------------------------------------- metrics

bool is_upload(const Buffer& request) {
  switch (flatbuffers::GetRoot<fb::RequestEnvelope>(request.data())->request_type()) {
    case fb::Request::UploadBegin:
    case fb::Request::UploadPart:
    case fb::Request::UploadCommit:
      return true;
    default:
      return false;
  }
}

// An upload of `participant` refused: counted, and noted for the next
// version's provenance (busy and quota refusals say nothing of the
// contribution and are only counted).
void count_rejection(self_ptr self, const RequestError& e, const std::string& participant, uint64_t base) {
  metrics::global().count("fedhub_contributions_rejected_total",
                          {{"model", self->state.model_name}, {"reason", error_name(e.code())}});
  if (e.code() == ErrorCode::busy || e.code() == ErrorCode::quota_exceeded || !self->state.core) return;
  self->state.core->note_refusal(participant, base, e.code(), e.what(), now_ms());
}

// The base version an upload request is about: its header's for a begin,
// its session's for a part or commit (the current version when unknown).
uint64_t upload_base(self_ptr self, const Buffer& request) {
  if (request.empty()) return core(self).current_version();  // handed on already
  const auto* env = flatbuffers::GetRoot<fb::RequestEnvelope>(request.data());
  auto& c = core(self);
  uint64_t id = 0;
  switch (env->request_type()) {
    case fb::Request::UploadBegin:
      return flatbuffers::GetRoot<fb::Contribution>(env->request_as_UploadBegin()->contribution()->data())
          ->base_version();
    case fb::Request::UploadPart:
      id = env->request_as_UploadPart()->upload_id();
      break;
    case fb::Request::UploadCommit:
      id = env->request_as_UploadCommit()->upload_id();
      break;
    default:
      break;
  }
  const auto* s = c.find_session(id);
  return s ? s->note.base_version : c.current_version();
}

// ---------------------------------------------------------------- downloads

caf::result<Buffer> download(self_ptr self, const fb::Download& d) {
  auto& st = self->state;
  auto& c = core(self);
  const int64_t asked = checked_version(d.version(), "download");
  const uint64_t v = asked < 0 ? c.current_version() : static_cast<uint64_t>(asked);
  if (!c.weights_stored(v)) no_such_version(c, v);
  const uint64_t max =
      std::min(d.max_bytes() == 0 ? st.options.download_chunk_bytes : d.max_bytes(), st.options.max_chunk_bytes);
  const uint64_t total = v == c.current_version() ? c.published()->size() : c.versions().at(v).package_bytes;
  if (d.offset() > total)
    throw RequestError(ErrorCode::bad_request, "offset " + std::to_string(d.offset()) + " is past the end of the " +
                                                   std::to_string(total) + "-byte package");
  const uint64_t length = std::min(max, total - d.offset());
  metrics::global().count("fedhub_payload_bytes_total", {{"direction", "out"}}, static_cast<double>(length));
  if (v == c.current_version()) {
    const auto& image = c.published();
    return responses::download_chunk(st.model_name, v, total, d.offset(), length,
                                     [&](std::span<char> out) { image->copy(d.offset(), out); });
  }
  auto rp = self->make_response_promise();
  self->request(reader(self), st.options.request_timeout, chunk_atom::value, st.model_name, v, total, d.offset(),
                length)
      .then([rp](Buffer& chunk) mutable { rp.deliver(std::move(chunk)); }, fail_into(rp, "a reader"));
  return rp;
}

// ---------------------------------------------------------------- status

fb::ModelStatusT status_without_notes(self_ptr self, uint64_t v) {
  auto& c = core(self);
  fb::ModelStatusT out;
  out.version = v;
  out.summary = std::make_unique<fb::ModelSummaryT>(wire::summary(c.summary()));
  for (const auto& n : c.versions()) out.versions.push_back(wire::version(n));
  return out;
}

caf::result<Buffer> status(self_ptr self, const fb::Status& s) {
  auto& c = core(self);
  const int64_t asked = checked_version(s.version(), "status");
  const uint64_t v = asked < 0 ? c.current_version() : static_cast<uint64_t>(asked);
  if (v > c.current_version()) no_such_version(c, v);
  auto out = status_without_notes(self, v);
  if (!self->state.latest_scores.empty())
    out.evaluation.assign(self->state.latest_scores.begin(), self->state.latest_scores.end());
  if (const auto* notes = c.notes_for(v)) {
    for (const auto& n : *notes) out.contributions.push_back(wire::contribution(n));
    return responses::make(std::move(out));
  }
  // An old version: its contributions are in the store only.
  auto rp = self->make_response_promise();
  auto shared = std::make_shared<fb::ModelStatusT>(std::move(out));
  self->request(reader(self), self->state.options.request_timeout, notes_atom::value, self->state.model_name, v)
      .then(
          [rp, shared](std::vector<Buffer>& records) mutable {
            try {
              for (const auto& r : records)
                shared->contributions.push_back(wire::contribution(stored::read_contribution_summary(r)));
              rp.deliver(responses::make(std::move(*shared)));
            } catch (const RequestError& e) {
              rp.deliver(error_response(e));
            }
          },
          fail_into(rp, "a reader"));
  return rp;
}

// ---------------------------------------------------------------- uploads

Buffer session_response(const model_state& st, const UploadSession& s) {
  fb::UploadSessionT out;
  out.model = st.model_name;
  out.upload_id = s.id;
  out.received = s.stored;
  out.part_bytes = st.options.limits.part_bytes;
  out.window = st.options.limits.window;
  out.expires_after_ms = st.options.limits.session_idle_ms;
  return responses::make(std::move(out));
}

caf::result<Buffer> upload_begin(self_ptr self, const fb::UploadBegin& b, const std::string& caller) {
  auto& st = self->state;
  auto& c = core(self);
  const auto bytes = as_span(b.contribution());
  const auto* h = flatbuffers::GetRoot<fb::Contribution>(bytes.data());  // verified by the hub actor
  check_contribution_tensors(c.definition(), h->tensors());              // bad_shape, bad_dtype
  ModelCore::UploadRequest rq;
  rq.model = h->model()->str();
  rq.base_version = h->base_version();
  rq.num_samples = h->num_samples();
  rq.data_bytes = h->data_bytes();
  rq.data_hash = h->data_hash();
  rq.metrics = read_metrics(h->metrics());
  rq.header.assign(bytes.begin(), bytes.end());
  uint64_t id = 0;
  while (id == 0 || c.has_session(id)) id = st.upload_ids();
  std::optional<uint64_t> replaced;
  const UploadSession& session = c.begin_upload(rq, caller, id, now_ms(), &replaced);
  if (replaced) tell_merger(self, abort_atom::value, *replaced);
  auto rp = self->make_response_promise();
  self->request(st.merger, st.options.request_timeout, begin_atom::value, session)
      .then(
          [self, rp, id]() mutable {
            const auto* s = core(self).find_session(id);
            if (!s) {
              rp.deliver(responses::error(ErrorCode::unknown_upload, "the upload ended while it began"));
              return;
            }
            rp.deliver(session_response(self->state, *s));
          },
          [self, rp, id](caf::error& e) mutable {
            core(self).end_session(id);
            rp.deliver(error_response(from_caf_error(e, "the merger")));
          });
  return rp;
}

caf::result<Buffer> upload_part(self_ptr self, Buffer& request, const std::string& caller) {
  auto& st = self->state;
  const auto* p = flatbuffers::GetRoot<fb::RequestEnvelope>(request.data())->request_as_UploadPart();
  const uint64_t id = p->upload_id();
  const uint64_t offset = p->offset();
  const uint64_t size = p->data()->size();
  core(self).forward_part(id, caller, offset, size, now_ms());
  auto rp = self->make_response_promise();
  self->request(st.merger, st.options.request_timeout, part_atom::value, id, offset, std::move(request))
      .then(
          [self, rp, id, size]() mutable {
            auto& c = core(self);
            c.part_stored(id, size);
            metrics::global().count("fedhub_payload_bytes_total", {{"direction", "in"}}, static_cast<double>(size));
            fb::UploadProgressT out;
            out.model = self->state.model_name;
            out.upload_id = id;
            const auto* s = c.find_session(id);
            out.received = s ? s->stored : 0;
            rp.deliver(responses::make(std::move(out)));
          },
          [self, rp, id, caller](caf::error& e) mutable {
            auto err = from_caf_error(e, "the merger");
            auto& c = core(self);
            const auto* s = c.find_session(id);
            const uint64_t base = s ? s->note.base_version : c.current_version();
            try {
              c.check_not_doomed(id);  // a merge made it stale meanwhile: say so
            } catch (const RequestError& stale) {
              count_rejection(self, stale, caller, base);
              rp.deliver(error_response(stale));
              return;
            }
            count_rejection(self, err, caller, base);
            if (err.code() == ErrorCode::bad_checksum || err.code() == ErrorCode::bad_request ||
                err.code() == ErrorCode::internal)
              c.part_lost(id);  // the client resumes from what is stored
            else
              c.end_session(id);  // the merger has dropped it
            rp.deliver(error_response(err));
          });
  return rp;
}

Buffer upload_resume(self_ptr self, const fb::UploadResume& r, const std::string& caller) {
  auto& c = core(self);
  const auto& s = c.session(r.upload_id(), caller);
  c.part_lost(s.id);
  return session_response(self->state, s);
}

Buffer upload_abort(self_ptr self, const fb::UploadAbort& a, const std::string& caller) {
  auto& c = core(self);
  const auto& s = c.session(a.upload_id(), caller);
  if (s.state == UploadSession::State::committing)
    throw RequestError(ErrorCode::bad_request, "upload " + std::to_string(s.id) + " is being committed");
  const uint64_t id = s.id;
  c.end_session(id);
  tell_merger(self, abort_atom::value, id);
  return responses::ack("aborted upload " + std::to_string(id));
}

void try_merge(self_ptr self);
void journal_settled(self_ptr self);

// A synced write of this model through the journal; a deletion waits for
// every one in flight (none may land after the model's erasure).
template <class Done, class Failed>
void write_journal(self_ptr self, StoreBatch batch, Done done, Failed failed) {
  auto& st = self->state;
  ++st.journal_writes;
  self->request(st.journal, st.options.request_timeout, commit_atom::value, std::move(batch))
      .then(
          [self, done]() mutable {
            done();
            journal_settled(self);
          },
          [self, failed](caf::error& e) mutable {
            failed(e);
            journal_settled(self);
          });
}

// The merger found the whole upload sound: decide, write, acknowledge.
void accept(self_ptr self, uint64_t id, caf::response_promise rp) {
  auto& st = self->state;
  auto& c = core(self);
  ContributionNote note;
  try {
    note = c.assign_commit(id, now_ms());
  } catch (const RequestError& e) {
    tell_merger(self, abort_atom::value, id);
    rp.deliver(error_response(e));
    return;
  }
  const auto& s = c.session(id, note.participant);
  StoreBatch batch;
  batch.put_contribution(st.model_name, note.base_version, note.participant,
                         stored::contribution_record(note, s.header, s.data_bytes), stored::contribution_summary(note),
                         note.seq);
  batch.erase_upload(st.model_name, id);
  if (s.data_bytes >= stored::kUnloggedWeightBytes) batch.persist_first(Family::chunks);  // staged without the log
  write_journal(
      self, std::move(batch),
      [self, rp, id, note]() mutable {
        auto& st = self->state;
        const uint32_t count = core(self).commit_durable(id);
        metrics::global().count("fedhub_contributions_accepted_total", {{"model", st.model_name}});
        tell_merger(self, committed_atom::value, id, note);
        rp.deliver(wire::upload_receipt(st.model_name, note, count));
        broadcast(self, wire::contribution_accepted(st.model_name, note, count));
        try_merge(self);
      },
      [self, rp, id](caf::error& e) mutable {
        core(self).commit_failed(id);
        tell_merger(self, abort_atom::value, id);
        auto err = from_caf_error(e, "the journal");
        rp.deliver(
            responses::error(err.code() == ErrorCode::storage_full ? ErrorCode::storage_full : ErrorCode::internal,
                             std::string("the contribution was not stored: ") + err.what()));
      });
}

caf::result<Buffer> upload_commit(self_ptr self, const fb::UploadCommit& cm, const std::string& caller) {
  auto& st = self->state;
  const uint64_t id = cm.upload_id();
  core(self).start_finalize(id, caller, now_ms());
  auto rp = self->make_response_promise();
  self->request(st.merger, st.options.request_timeout, finalize_atom::value, id)
      .then([self, rp, id](bool) { accept(self, id, rp); },
            [self, rp, id, caller](caf::error& e) mutable {
              auto err = from_caf_error(e, "the merger");
              try {
                core(self).check_not_doomed(id);  // a merge made it stale meanwhile: say so
              } catch (const RequestError& stale) {
                err = stale;
              }
              const auto* s = core(self).find_session(id);
              const uint64_t base = s ? s->note.base_version : core(self).current_version();
              core(self).end_session(id);
              count_rejection(self, err, caller, base);
              rp.deliver(error_response(err));
            });
  return rp;
}

// ---------------------------------------------------------------- merges

void answer_waiters(self_ptr self, uint64_t base, const Buffer& response) {
  auto& w = self->state.merge_waiters;
  for (auto it = w.begin(); it != w.end();)
    if (it->first == base) {
      it->second.deliver(response);
      it = w.erase(it);
    } else {
      ++it;
    }
}

// ---------------------------------------------------------------- scores

// Asks the scorer for version v, or keeps it as the next one when a score
// is in flight (older waiting versions are skipped).
void want_score(self_ptr self, uint64_t version) {
  auto& st = self->state;
  if (!st.scorer || st.deleting) return;
  if (st.scoring) {
    st.score_next = version;
    return;
  }
  st.scoring = true;
  self->send(st.scorer, score_atom::value, version, core(self).policy().to_json());
}

void store_policy(self_ptr self, MergePolicy next, std::function<void()> done, std::function<void(caf::error&)> failed);

// A version's scores: stored (the journal), shown by status, sent to the
// subscribers; flagged participants are excluded when the policy says so.
void scored(self_ptr self, Buffer& record) {
  auto& st = self->state;
  st.scoring = false;
  if (st.score_next) {
    const uint64_t v = *st.score_next;
    st.score_next.reset();
    want_score(self, v);
  }
  fb::VersionScoresT scores;
  try {
    scores = read_scores(record);
  } catch (const std::exception& e) {
    log(st, std::string("a scores record from the scorer is damaged: ") + e.what());
    return;
  }
  StoreBatch batch;
  batch.put_scores(st.model_name, scores.version, record);
  auto shared = std::make_shared<Buffer>(std::move(record));
  write_journal(
      self, std::move(batch),
      [self, shared, scores = std::move(scores)]() {
        auto& st = self->state;
        if (!st.core) return;
        if (scores.version == core(self).current_version()) st.latest_scores = *shared;
        broadcast(self, wire::version_evaluated(st.model_name, *shared));
        const auto& policy = core(self).policy();
        if (!policy.exclude_flagged || st.record_change) return;
        MergePolicy next = policy;
        for (const auto& c : scores.contributions)
          if (c->flagged && next.excluded.insert(c->participant).second)
            log(st, "excluded '" + c->participant + "': its contribution to version " + std::to_string(scores.version) +
                        " was flagged");
        if (next.excluded == policy.excluded) return;
        store_policy(
            self, std::move(next), [] {},
            [self](caf::error& e) { log(self->state, "excluding flagged participants failed: " + caf::to_string(e)); });
      },
      [self](caf::error& e) { log(self->state, "storing a version's scores failed: " + caf::to_string(e)); });
}

void try_merge(self_ptr self) {
  auto& st = self->state;
  if (st.deleting) return;
  auto order = core(self).start_merge();
  if (!order) return;
  const uint64_t base = order->base_version;
  const double started = metrics::now_seconds();
  self->request(st.merger, st.options.merge_timeout, merge_atom::value, std::move(*order))
      .then(
          [self, base, started](MergeOutcome& out) {
            auto& st = self->state;
            metrics::global().count("fedhub_merges_total", {{"model", st.model_name}});
            metrics::global().observe("fedhub_merge_duration_seconds", {}, metrics::now_seconds() - started);
            const Buffer receipt = wire::merge_receipt(st.model_name, out);
            const Buffer event = wire::version_published(st.model_name, out);
            const uint64_t version = out.note.version;
            core(self).merge_done(std::move(out));
            answer_waiters(self, base, receipt);
            broadcast(self, event);
            want_score(self, version);
            try_merge(self);
          },
          [self, base](caf::error& e) {
            core(self).merge_failed();
            auto err = from_caf_error(e, "the merger");
            log(self->state, "merging version " + std::to_string(base) + " failed: " + err.describe());
            answer_waiters(self, base, error_response(err));
          });
}

caf::result<Buffer> merge(self_ptr self, const fb::Merge& m) {
  core(self).request_merge(m.base_version());
  auto rp = self->make_response_promise();
  self->state.merge_waiters.emplace_back(m.base_version(), rp);
  try_merge(self);
  return rp;
}

void schedule_tick(self_ptr self) {
  const auto& p = core(self).policy();
  if (p.interval_seconds <= 0 || p.merge == MergeMode::async) return;
  self->delayed_send(self, std::chrono::milliseconds(static_cast<int64_t>(p.interval_seconds * 1000)), tick_atom::value,
                     self->state.tick_generation);
}

void schedule_sweep(self_ptr self) {
  const auto idle = self->state.options.limits.session_idle_ms;
  self->delayed_send(self, std::chrono::milliseconds(std::clamp<uint64_t>(idle / 4, 100, 30000)), sweep_atom::value);
}

// ---------------------------------------------------------------- policy

void check_no_record_change(const model_state& st) {
  if (st.record_change)
    throw RequestError(ErrorCode::busy, "another change of model '" + st.model_name +
                                            "' (policy or archive) is being written: try again in a moment");
}

Buffer policy_info(const std::string& model, const MergePolicy& p) {
  fb::PolicyInfoT info;
  info.model = model;
  info.policy_json = p.to_json();
  return responses::make(std::move(info));
}

// Stores a new policy in the model's record (the journal), then makes it
// the model's and the merger's.
void store_policy(self_ptr self, MergePolicy next, std::function<void()> done,
                  std::function<void(caf::error&)> failed) {
  auto& st = self->state;
  auto& c = core(self);
  check_no_record_change(st);
  StoreBatch batch;
  batch.put_model(st.model_name, stored::model_record(c.definition(), next, c.archived()));
  st.record_change = true;
  write_journal(
      self, std::move(batch),
      [self, next, done]() mutable {
        auto& st = self->state;
        st.record_change = false;
        auto& c = core(self);
        const bool new_source = c.policy().eval_data != next.eval_data || c.policy().eval_labels != next.eval_labels;
        std::vector<uint64_t> ended;
        if (aggregation_changes(c.policy(), next)) ended = c.open_uploads();  // not those being committed
        c.set_policy(next);
        for (uint64_t id : ended) c.end_session(id);
        tell_merger(self, policy_atom::value, next.to_json(), ended);  // it drops their data
        ++st.tick_generation;
        schedule_tick(self);
        if (new_source && !next.eval_data.empty()) want_score(self, c.current_version());
        done();
        try_merge(self);
      },
      [self, failed](caf::error& e) mutable {
        self->state.record_change = false;
        failed(e);
      });
}

// An evaluation source must name a path of the hub's machine.
void check_evaluation_source(const MergePolicy& before, const MergePolicy& next) {
  if (next.eval_data.empty() || (next.eval_data == before.eval_data && next.eval_labels == before.eval_labels)) return;
  const auto spec = datasets::parse_source_spec(next.eval_data);
  std::error_code ec;
  if (!std::filesystem::exists(spec.path, ec) && !std::filesystem::exists(spec.path + "-images-idx3-ubyte", ec) &&
      !std::filesystem::exists(spec.path + "-images-idx3-ubyte.gz", ec))
    throw RequestError(ErrorCode::bad_request, "the evaluation source '" + next.eval_data + "' names '" + spec.path +
                                                   "', which does not exist on the hub's machine");
  if (!next.eval_labels.empty() && !std::filesystem::exists(next.eval_labels, ec))
    throw RequestError(ErrorCode::bad_request,
                       "the evaluation labels file '" + next.eval_labels + "' does not exist on the hub's machine");
}

caf::result<Buffer> policy(self_ptr self, const fb::Policy& p) {
  auto& st = self->state;
  auto& c = core(self);
  if (!p.policy_json() || p.policy_json()->size() == 0) return policy_info(st.model_name, c.policy());
  MergePolicy next;
  try {
    next = c.policy().patched(p.policy_json()->str());
  } catch (const std::invalid_argument& e) {
    throw RequestError(ErrorCode::bad_request, e.what());
  } catch (const std::runtime_error& e) {
    throw RequestError(ErrorCode::bad_request, e.what());
  }
  check_evaluation_source(c.policy(), next);
  auto rp = self->make_response_promise();
  store_policy(
      self, next, [self, rp, next]() mutable { rp.deliver(policy_info(self->state.model_name, next)); },
      [rp](caf::error& e) mutable { fail_into(rp, "the journal")(e); });
  return rp;
}

// ---------------------------------------------------------------- registry

caf::result<Buffer> archive(self_ptr self, const fb::ArchiveModel& a) {
  auto& st = self->state;
  auto& c = core(self);
  const bool want = a.archived();
  auto receipt = [self]() {
    fb::CreateReceiptT r;
    r.summary = std::make_unique<fb::ModelSummaryT>(wire::summary(core(self).summary()));
    return responses::make(std::move(r));
  };
  if (c.archived() == want) return receipt();
  check_no_record_change(st);
  StoreBatch batch;
  batch.put_model(st.model_name, stored::model_record(c.definition(), c.policy(), want));
  auto rp = self->make_response_promise();
  st.record_change = true;
  write_journal(
      self, std::move(batch),
      [self, rp, want, receipt]() mutable {
        self->state.record_change = false;
        for (uint64_t id : core(self).set_archived(want)) tell_merger(self, abort_atom::value, id);
        log(self->state, want ? "archived (read-only)" : "unarchived");
        rp.deliver(receipt());
        try_merge(self);
      },
      [self, rp](caf::error& e) mutable {
        self->state.record_change = false;
        fail_into(rp, "the journal")(e);
      });
  return rp;
}

Buffer rollback_receipt(const std::string& model, const RollbackOrder& order, const MergeOutcome& out) {
  fb::RollbackReceiptT r;
  r.model = model;
  r.rolled_back_from = order.to_version;
  r.previous_version = order.base_version;
  r.new_version = out.note.version;
  r.kept = static_cast<uint32_t>(order.kept.size());
  r.dropped = static_cast<uint32_t>(order.dropped.size());
  return responses::make(std::move(r));
}

caf::result<Buffer> rollback(self_ptr self, const fb::Rollback& r) {
  auto& st = self->state;
  auto order = core(self).start_rollback(r.to_version());
  auto rp = self->make_response_promise();
  self->request(st.merger, st.options.merge_timeout, rollback_atom::value, order)
      .then(
          [self, rp, order](MergeOutcome& out) mutable {
            auto& st = self->state;
            const Buffer receipt = rollback_receipt(st.model_name, order, out);
            const Buffer event = wire::version_published(st.model_name, out);
            core(self).rollback_done(std::move(out), order);
            log(st, "rolled back to version " + std::to_string(order.to_version) + " as version " +
                        std::to_string(order.base_version + 1));
            rp.deliver(receipt);
            broadcast(self, event);
            want_score(self, order.base_version + 1);
            try_merge(self);
          },
          [self, rp](caf::error& e) mutable {
            core(self).rollback_failed();
            rp.deliver(error_response(from_caf_error(e, "the merger")));
            try_merge(self);
          });
  return rp;
}

// The deletion proper, once no journal write of the model is in flight: the
// merger erases everything (after whatever it was doing) and stops.
void erase_now(self_ptr self) {
  auto& st = self->state;
  if (!st.delete_promise) return;
  auto rp = *st.delete_promise;
  st.delete_promise.reset();
  auto done = [self, rp]() mutable {
    log(self->state, "deleted");
    rp.deliver(caf::unit);
    self->quit();
  };
  auto failed = [self, rp](caf::error& e) mutable {
    // Nothing was deleted: the model is served again.
    auto& st = self->state;
    st.deleting = false;
    rp.deliver(e);
    self->become(st.merger && st.problem.empty() ? running(self) : unavailable(self));
  };
  if (st.merger && st.problem.empty())  // it erases after whatever it is doing, and stops
    self->request(st.merger, st.options.merge_timeout, delete_atom::value).then(done, failed);
  else  // an unavailable model: the journal writes the batch
    self->request(st.journal, st.options.request_timeout, commit_atom::value, model_erasure(st.model_name))
        .then(done, failed);
}

void journal_settled(self_ptr self) {
  auto& st = self->state;
  if (st.journal_writes > 0) --st.journal_writes;
  if (st.deleting && st.journal_writes == 0) erase_now(self);
}

// ---------------------------------------------------------------- subscriptions

Buffer subscribe(self_ptr self, bool on, const std::string& caller) {
  auto sender = caf::actor_cast<caf::actor>(self->current_sender());
  if (!sender) throw RequestError(ErrorCode::bad_request, "subscriptions need a sender to send events to");
  auto& subs = self->state.subscribers;
  auto it = std::find_if(subs.begin(), subs.end(), [&](const auto& s) { return s.actor == sender; });
  if (on && it == subs.end()) {
    self->monitor(sender);
    subs.push_back({sender, caller});
  } else if (!on && it != subs.end()) {
    self->demonitor(sender);
    subs.erase(it);
  }
  return responses::ack(std::string(on ? "subscribed to '" : "unsubscribed from '") + self->state.model_name + "'");
}

caf::result<Buffer> handle(self_ptr self, Buffer& request, const std::string& caller) {
  // Verified by the hub actor of this process.
  const auto* env = flatbuffers::GetRoot<fb::RequestEnvelope>(request.data());
  switch (env->request_type()) {
    case fb::Request::Download:
      return download(self, *env->request_as_Download());
    case fb::Request::Status:
      return status(self, *env->request_as_Status());
    case fb::Request::UploadBegin:
      return upload_begin(self, *env->request_as_UploadBegin(), caller);
    case fb::Request::UploadPart:
      return upload_part(self, request, caller);
    case fb::Request::UploadCommit:
      return upload_commit(self, *env->request_as_UploadCommit(), caller);
    case fb::Request::UploadResume:
      return upload_resume(self, *env->request_as_UploadResume(), caller);
    case fb::Request::UploadAbort:
      return upload_abort(self, *env->request_as_UploadAbort(), caller);
    case fb::Request::Merge:
      return merge(self, *env->request_as_Merge());
    case fb::Request::Policy:
      return policy(self, *env->request_as_Policy());
    case fb::Request::ArchiveModel:
      return archive(self, *env->request_as_ArchiveModel());
    case fb::Request::Rollback:
      return rollback(self, *env->request_as_Rollback());
    case fb::Request::Subscribe:
      return subscribe(self, true, caller);
    case fb::Request::Unsubscribe:
      return subscribe(self, false, caller);
    default:
      throw RequestError(ErrorCode::bad_request,
                         std::string("a model does not handle ") + fb::EnumNameRequest(env->request_type()));
  }
}

// ---------------------------------------------------------------- revocation

// The key named `key` was revoked: its subscriptions end (the subscriber is
// told why) and its uploads end (what they staged is dropped); an upload
// being committed completes, as it was acknowledged to begin with a valid key.
void end_key(self_ptr self, const std::string& key) {
  auto& st = self->state;
  const std::string why = "the key '" + key + "' was revoked";
  auto& subs = st.subscribers;
  for (auto it = subs.begin(); it != subs.end();) {
    if (it->key != key) {
      ++it;
      continue;
    }
    self->send(it->actor, ended_atom::value, st.model_name, why);
    self->demonitor(it->actor);
    it = subs.erase(it);
  }
  if (!st.core) return;
  for (uint64_t id : st.core->open_uploads_of(key)) {
    st.core->end_session(id);
    tell_merger(self, abort_atom::value, id);
    log(st, "ended upload " + std::to_string(id) + ": " + why);
  }
}

// ---------------------------------------------------------------- behaviors

void become_unavailable(self_ptr self, std::string problem) {
  auto& st = self->state;
  st.problem = std::move(problem);
  log(st, "unavailable: " + st.problem);
  const Buffer err =
      responses::error(ErrorCode::model_unavailable, "model '" + st.model_name + "' is unavailable: " + st.problem);
  for (auto& [base, rp] : st.merge_waiters) rp.deliver(err);
  st.merge_waiters.clear();
  self->become(unavailable(self));
}

// The hub's delete: requests are refused from now on; the erasure waits for
// the journal writes in flight.
caf::result<caf::unit_t> start_delete(self_ptr self) {
  auto& st = self->state;
  st.deleting = true;
  if (st.scorer) {
    self->demonitor(st.scorer);
    self->send_exit(st.scorer, caf::exit_reason::user_shutdown);
    st.scorer = nullptr;
  }
  auto rp = self->make_response_promise();
  st.delete_promise = rp;
  const Buffer gone = responses::error(ErrorCode::unknown_model, "model '" + st.model_name + "' is being deleted");
  for (auto& [base, waiter] : st.merge_waiters) waiter.deliver(gone);
  st.merge_waiters.clear();
  self->become(deleting(self));
  if (st.journal_writes == 0) erase_now(self);
  return rp;
}

caf::behavior deleting(self_ptr self) {
  return {
      [self](model_atom, Buffer&, std::string&) -> Buffer {
        return responses::error(ErrorCode::unknown_model, "model '" + self->state.model_name + "' is being deleted");
      },
      [self](summary_atom) -> Buffer {
        auto& st = self->state;
        return wire::pack_summary(
            st.core ? wire::summary(st.core->summary())
                    : wire::summary_of_absent(st.model_name, fb::Availability::unavailable, "it is being deleted"));
      },
      [](delete_atom) -> caf::result<caf::unit_t> {
        return to_caf_error(ErrorCode::unknown_model, "the model is being deleted already");
      },
      [](tick_atom, uint64_t) {},
      [](sweep_atom) {},
      [](scored_atom, Buffer&) {},
  };
}

caf::behavior running(self_ptr self) {
  return {
      [self](delete_atom) -> caf::result<caf::unit_t> { return start_delete(self); },
      [self](model_atom, Buffer& request, std::string& caller) -> caf::result<Buffer> {
        try {
          return handle(self, request, caller);
        } catch (const RequestError& e) {
          if (is_upload(request)) count_rejection(self, e, caller, upload_base(self, request));
          return error_response(e);
        } catch (const StorageFullError& e) {
          return error_response(storage_full_request_error(e));
        } catch (const std::exception& e) {
          return responses::error(ErrorCode::internal, e.what());
        }
      },
      [self](summary_atom) -> Buffer { return wire::pack_summary(wire::summary(core(self).summary())); },
      [self](tick_atom, uint64_t generation) {
        if (generation != self->state.tick_generation) return;
        core(self).interval_tick();
        try_merge(self);
        schedule_tick(self);
      },
      [self](revoked_atom, const std::string& key) { end_key(self, key); },
      [self](scored_atom, Buffer& record) { scored(self, record); },
      [self](sweep_atom) {
        auto& c = core(self);
        for (uint64_t id : c.expired(now_ms())) {
          c.end_session(id);
          tell_merger(self, abort_atom::value, id);
        }
        schedule_sweep(self);
      },
  };
}

caf::behavior unavailable(self_ptr self) {
  return {
      [self](model_atom, Buffer&, std::string&) -> Buffer {
        return responses::error(ErrorCode::model_unavailable,
                                "model '" + self->state.model_name + "' is unavailable: " + self->state.problem);
      },
      [self](summary_atom) -> Buffer {
        auto& st = self->state;
        return wire::pack_summary(
            st.core ? wire::summary(st.core->summary(), fb::Availability::unavailable, st.problem)
                    : wire::summary_of_absent(st.model_name, fb::Availability::unavailable, st.problem));
      },
      [self](delete_atom) -> caf::result<caf::unit_t> { return start_delete(self); },
      [](tick_atom, uint64_t) {},
      [](sweep_atom) {},
      [](scored_atom, Buffer&) {},
  };
}

// The scorer, and the newest stored scores (status); a current version the
// hub did not score before it stopped is scored now.
void start_scorer(self_ptr self, ModelDefinition definition) {
  auto& st = self->state;
  st.scorer = self->spawn<caf::detached + caf::monitored>(scorer_actor, st.store, std::move(definition),
                                                          caf::actor_cast<caf::actor>(self));
  const uint64_t current = core(self).current_version();
  try {
    if (auto record = st.store->scores(st.model_name, current)) {
      st.latest_scores = std::move(*record);
      return;
    }
  } catch (const std::exception& e) {
    log(st, std::string("reading its scores failed: ") + e.what());
  }
  if (current > 0 || !core(self).policy().eval_data.empty()) want_score(self, current);
}

caf::behavior loading(self_ptr self) {
  return {
      [self](loaded_atom, LoadedModelState& s) {
        auto& st = self->state;
        auto definition = s.definition;
        st.core.emplace(std::move(s.definition), std::move(s.policy), std::move(s.recovered), std::move(s.image),
                        st.options.limits);
        self->become(running(self));
        start_scorer(self, std::move(definition));
        schedule_tick(self);
        schedule_sweep(self);
        try_merge(self);  // contributions recovered may be due
      },
      [self](load_fail_atom, std::string& reason) { become_unavailable(self, reason); },
      // Requests, summaries included, wait in the mailbox until the state is
      // loaded (a listing then shows the model as it is, bounded by the
      // hub's request timeout).
      [](model_atom, Buffer&, std::string&) -> caf::result<Buffer> { return caf::skip; },
      [](summary_atom) -> caf::result<Buffer> { return caf::skip; },
      [](delete_atom) -> caf::result<caf::unit_t> { return caf::skip; },
  };
}

}  // namespace

caf::behavior model_actor(self_ptr self, std::shared_ptr<Store> store, std::string name, HubOptions options,
                          caf::actor journal, std::vector<caf::actor> readers,
                          std::optional<LoadedModelState> created) {
  auto& st = self->state;
  st.model_name = name;
  st.options = options;
  st.journal = std::move(journal);
  st.readers = std::move(readers);
  auto me = caf::actor_cast<caf::actor>(self);
  st.store = store;
  st.merger = self->spawn<caf::detached + caf::monitored>(merger_actor, std::move(store), name, me, std::move(created));
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.merger && dm.source == st.merger.address()) {
      st.merger = nullptr;
      if (st.deleting) return;          // it stopped after erasing the model
      if (!st.problem.empty()) return;  // it reported why (load failed)
      become_unavailable(self, "its merger stopped (" + caf::to_string(dm.reason) + ")");
      return;
    }
    if (st.scorer && dm.source == st.scorer.address()) {
      st.scorer = nullptr;  // versions are not scored any more; everything else goes on
      st.scoring = false;
      if (!st.deleting) log(st, "its scorer stopped (" + caf::to_string(dm.reason) + "): new versions are not scored");
      return;
    }
    auto& subs = st.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(), [&](const auto& s) { return s.actor.address() == dm.source; }),
               subs.end());
  });
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (self->state.merger) self->send_exit(self->state.merger, em.reason);
    if (self->state.scorer) self->send_exit(self->state.scorer, em.reason);
    self->quit(em.reason);
  });
  return loading(self);
}

}  // namespace fedhub
