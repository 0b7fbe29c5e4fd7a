#include "actors/hub_actor.hpp"

#include <caf/all.hpp>
#include <iostream>

#include "actors/actor_errors.hpp"
#include "actors/atoms.hpp"
#include "actors/import_actor.hpp"
#include "actors/journal_actor.hpp"
#include "actors/message_types.hpp"
#include "actors/model_actor.hpp"
#include "actors/reader_actor.hpp"
#include "actors/wire.hpp"
#include "hub/backup.hpp"
#include "hub/merge_engine.hpp"
#include "hub/model_creation.hpp"
#include "hub/provenance_queries.hpp"
#include "messages/errors.hpp"
#include "messages/records.hpp"
#include "messages/requests.hpp"
#include "messages/responses.hpp"
#include "metrics/registry.hpp"

namespace fedhub {

namespace {

using self_ptr = caf::stateful_actor<hub_state>*;

Buffer error_response(const RequestError& e) { return responses::error(e.code(), e.what()); }

void require_manager(const Identity& who, const char* what) {
  if (!who.is_manager())
    throw RequestError(ErrorCode::forbidden,
                       "the key '" + who.name + "' is a participant key; " + what + " needs a manager key");
}

fb::Role to_fb(Role r) { return r == Role::manager ? fb::Role::manager : fb::Role::participant; }
Role from_fb(fb::Role r) { return r == fb::Role::manager ? Role::manager : Role::participant; }

void spawn_model(self_ptr self, const std::string& name, std::optional<LoadedModelState> created) {
  auto& st = self->state;
  auto actor =
      self->spawn<caf::monitored>(model_actor, st.store, name, st.options, st.journal, st.readers, std::move(created));
  st.models[name] = {actor, {}};
}

// ---------------------------------------------------------------- listing

caf::result<Buffer> list_models(self_ptr self) {
  auto& st = self->state;
  struct Gather {
    size_t waiting = 0;
    fb::ModelListT list;
  };
  auto gather = std::make_shared<Gather>();
  auto rp = self->make_response_promise();
  auto done = [rp, gather]() mutable {
    if (--gather->waiting > 0) return;
    auto& m = gather->list.models;
    std::sort(m.begin(), m.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
    rp.deliver(responses::make(std::move(gather->list)));
  };
  gather->waiting = st.models.size() + 1;
  for (const auto& [name, model] : st.models) {
    if (!model.actor) {
      gather->list.models.push_back(std::make_unique<fb::ModelSummaryT>(
          wire::summary_of_absent(name, fb::Availability::unavailable, model.problem)));
      done();
      continue;
    }
    self->request(model.actor, st.options.request_timeout, summary_atom::value)
        .then(
            [gather, done](Buffer& summary) mutable {
              gather->list.models.push_back(std::make_unique<fb::ModelSummaryT>(wire::unpack_summary(summary)));
              done();
            },
            [gather, done, name](caf::error& e) mutable {
              gather->list.models.push_back(std::make_unique<fb::ModelSummaryT>(wire::summary_of_absent(
                  name, fb::Availability::unavailable, "it did not answer (" + caf::to_string(e) + ")")));
              done();
            });
  }
  done();  // the +1: answers at once when there are no models
  return rp;
}

// ---------------------------------------------------------------- models

void check_name_free(const hub_state& st, const std::string& name) {
  if (st.deleting.count(name))
    throw RequestError(ErrorCode::model_exists, "model '" + name + "' is being deleted; try again in a moment");
  if (st.imports.count(name))
    throw RequestError(ErrorCode::model_exists, "a model named '" + name + "' is being imported");
  if (st.models.count(name) || st.creating.count(name))
    throw RequestError(ErrorCode::model_exists, "a model named '" + name + "' exists already");
}

// A one-shot detached worker: checks and stores a new model.
caf::behavior create_worker(caf::event_based_actor* self, std::shared_ptr<Store> store, Buffer request,
                            ModelLimits limits) {
  return {
      [self, store, request, limits](create_atom) -> caf::result<LoadedModelState> {
        self->quit();
        return guarded([&]() -> caf::result<LoadedModelState> {
          const auto* env = flatbuffers::GetRoot<fb::RequestEnvelope>(request.data());  // verified
          return create_model(*store, *env->request_as_CreateModel(), limits);
        });
      },
  };
}

// A backup on its own thread: RocksDB's checkpoint flushes and links or
// copies every file, which takes a while for a large store.
caf::behavior backup_worker(caf::event_based_actor* self, std::shared_ptr<Store> store, std::string dir) {
  return {
      [self, store, dir](backup_atom) -> caf::result<Buffer> {
        self->quit();
        return guarded([&]() -> caf::result<Buffer> { return responses::ack(write_backup(*store, dir)); });
      },
  };
}

caf::result<Buffer> backup(self_ptr self, const fb::Backup& b) {
  auto& st = self->state;
  const auto dir = b.directory()->str();
  check_backup_target(dir);  // a clear error before a thread is started
  if (st.backing_up) throw RequestError(ErrorCode::busy, "a backup is being written; try again when it ends");
  st.backing_up = true;
  auto worker = self->spawn<caf::detached>(backup_worker, st.store, dir);
  auto rp = self->make_response_promise();
  self->request(worker, st.options.merge_timeout, backup_atom::value)
      .then(
          [self, rp](Buffer& ack) mutable {
            self->state.backing_up = false;
            rp.deliver(std::move(ack));
          },
          [self, rp](caf::error& e) mutable {
            self->state.backing_up = false;
            rp.deliver(error_response(from_caf_error(e, "the backup")));
          });
  return rp;
}

// History and Verify on a thread of their own: a replay reads and merges
// whole models, a long history many records; neither waits in a model's
// request path.
caf::behavior provenance_worker(caf::event_based_actor* self, std::shared_ptr<Store> store, Buffer request,
                                std::string participant) {
  return {
      [self, store, request, participant](provenance_atom) -> caf::result<Buffer> {
        self->quit();
        return guarded([&]() -> caf::result<Buffer> {
          const auto* env = flatbuffers::GetRoot<fb::RequestEnvelope>(request.data());  // verified
          if (const auto* h = env->request_as_ListHistory())
            return history_response(*store, h->model()->str(), h->first(), h->last());
          if (const auto* l = env->request_as_GetLeaderboard())
            return leaderboard_response(*store, l->model()->str(), participant);
          const auto* v = env->request_as_VerifyVersion();
          return verify_response(*store, v->model()->str(), v->version());
        });
      },
  };
}

// Verifies run one at a time (each holds a few copies of the model), and so
// do a participant's leaderboards (each reads the model's whole history).
// `participant`: the caller's name when only its own row is shown.
caf::result<Buffer> provenance(self_ptr self, Buffer& request, bool verify, const std::string& participant = {}) {
  auto& st = self->state;
  const auto name = requests::model_of(*flatbuffers::GetRoot<fb::RequestEnvelope>(request.data()));
  if (st.deleting.count(name)) throw RequestError(ErrorCode::unknown_model, "model '" + name + "' is being deleted");
  if (!st.models.count(name)) throw RequestError(ErrorCode::unknown_model, "there is no model named '" + name + "'");
  if (verify && st.verifying)
    throw RequestError(ErrorCode::busy,
                       "a verify or a participant's leaderboard is being computed; try again in a moment");
  if (verify) st.verifying = true;
  auto worker = self->spawn<caf::detached>(provenance_worker, st.store, std::move(request), participant);
  auto rp = self->make_response_promise();
  self->request(worker, st.options.merge_timeout, provenance_atom::value)
      .then(
          [self, rp, verify](Buffer& answer) mutable {
            if (verify) self->state.verifying = false;
            rp.deliver(std::move(answer));
          },
          [self, rp, verify](caf::error& e) mutable {
            if (verify) self->state.verifying = false;
            rp.deliver(error_response(from_caf_error(e, "the verify worker")));
          });
  return rp;
}

caf::result<Buffer> create(self_ptr self, Buffer& request) {
  auto& st = self->state;
  const auto name = requests::model_of(*flatbuffers::GetRoot<fb::RequestEnvelope>(request.data()));
  check_name_free(st, name);
  st.creating.insert(name);
  auto worker = self->spawn<caf::detached>(create_worker, st.store, std::move(request), st.options.model_limits);
  auto rp = self->make_response_promise();
  self->request(worker, st.options.merge_timeout, create_atom::value)
      .then(
          [self, rp, name](LoadedModelState& created) mutable {
            auto& st = self->state;
            st.creating.erase(name);
            ModelSummaryInfo info;
            info.name = created.definition.name;
            info.parameters = created.definition.parameters;
            info.labels = created.definition.labels;
            info.min_contributions = created.definition.min_contributions;
            info.created_at_ms = created.definition.created_at_ms;
            info.policy_json = created.policy.to_json();
            spawn_model(self, name, std::move(created));
            fb::CreateReceiptT receipt;
            receipt.summary = std::make_unique<fb::ModelSummaryT>(wire::summary(info));
            rp.deliver(responses::make(std::move(receipt)));
          },
          [self, rp, name](caf::error& e) mutable {
            self->state.creating.erase(name);
            rp.deliver(error_response(from_caf_error(e, "creating the model")));
          });
  return rp;
}

// ---------------------------------------------------------------- registry

caf::result<Buffer> delete_model(self_ptr self, const std::string& name) {
  auto& st = self->state;
  if (st.deleting.count(name))
    throw RequestError(ErrorCode::unknown_model, "model '" + name + "' is being deleted already");
  auto it = st.models.find(name);
  if (it == st.models.end()) {
    if (st.creating.count(name))
      throw RequestError(ErrorCode::unknown_model, "model '" + name + "' is being created; try again in a moment");
    throw RequestError(ErrorCode::unknown_model, "there is no model named '" + name + "'");
  }
  st.deleting.insert(name);
  auto rp = self->make_response_promise();
  auto done = [self, rp, name]() mutable {
    auto& st = self->state;
    st.deleting.erase(name);
    st.models.erase(name);
    std::cerr << "fl-hub: model '" << name << "' was deleted" << std::endl;
    rp.deliver(responses::ack("deleted model '" + name + "' and everything of it"));
  };
  auto failed = [self, rp, name](caf::error& e) mutable {
    self->state.deleting.erase(name);
    rp.deliver(error_response(from_caf_error(e, "deleting model '" + name + "'")));
  };
  if (it->second.actor)  // the owner of its state deletes it
    self->request(it->second.actor, st.options.merge_timeout, delete_atom::value).then(done, failed);
  else  // its actor failed: nothing else writes for it
    self->request(st.journal, st.options.request_timeout, commit_atom::value, model_erasure(name)).then(done, failed);
  return rp;
}

// ---------------------------------------------------------------- imports

Buffer import_session(const hub_state& st, const std::string& name, const hub_state::Import& im) {
  fb::UploadSessionT out;
  out.model = name;
  out.upload_id = im.id;
  out.received = im.received;
  out.part_bytes = st.options.limits.part_bytes;
  out.window = st.options.limits.window;
  out.expires_after_ms = st.options.limits.session_idle_ms;
  return responses::make(std::move(out));
}

void end_import(self_ptr self, const std::string& name, bool abort) {
  auto& st = self->state;
  auto it = st.imports.find(name);
  if (it == st.imports.end()) return;
  if (abort) self->send(it->second.worker, abort_atom::value);
  st.imports.erase(it);
  st.creating.erase(name);
}

void schedule_import_check(self_ptr self, const std::string& name, uint64_t id) {
  const auto idle = self->state.options.limits.session_idle_ms;
  self->delayed_send(self, std::chrono::milliseconds(std::clamp<uint64_t>(idle / 4, 100, 30000)), import_atom::value,
                     name, id);
}

hub_state::Import& own_import(hub_state& st, const std::string& name, uint64_t id, const std::string& caller) {
  auto it = st.imports.find(name);
  if (it == st.imports.end() || it->second.id != id || it->second.owner != caller)
    throw RequestError(ErrorCode::unknown_upload,
                       "there is no import " + std::to_string(id) + " of '" + name + "' by '" + caller +
                           "' (it was committed, refused, or abandoned after " +
                           std::to_string(st.options.limits.session_idle_ms / 1000) + " s idle): import again");
  return it->second;
}

caf::result<Buffer> import_begin(self_ptr self, Buffer& request, const std::string& name, const std::string& caller) {
  auto& st = self->state;
  check_name_free(st, name);
  uint64_t id = 0;
  while (id == 0) id = st.import_ids();
  auto worker = self->spawn<caf::detached>(import_actor, st.store, std::move(request), st.options.limits.part_bytes,
                                           st.options.model_limits);
  st.creating.insert(name);
  st.imports[name] = {worker, id, caller, now_ms(), 0};
  auto rp = self->make_response_promise();
  self->request(worker, st.options.request_timeout, begin_atom::value)
      .then(
          [self, rp, name, id]() mutable {
            auto& st = self->state;
            auto it = st.imports.find(name);
            if (it == st.imports.end() || it->second.id != id) {
              rp.deliver(responses::error(ErrorCode::unknown_upload, "the import ended while it began"));
              return;
            }
            schedule_import_check(self, name, id);
            rp.deliver(import_session(st, name, it->second));
          },
          [self, rp, name](caf::error& e) mutable {
            end_import(self, name, false);  // it stopped
            rp.deliver(error_response(from_caf_error(e, "the import")));
          });
  return rp;
}

caf::result<Buffer> import_part(self_ptr self, Buffer& request, const std::string& name, const std::string& caller) {
  auto& st = self->state;
  const auto* p = flatbuffers::GetRoot<fb::RequestEnvelope>(request.data())->request_as_ImportPart();
  auto& im = own_import(st, name, p->import_id(), caller);
  const uint64_t id = im.id;
  const uint64_t size = p->data()->size();
  im.last_activity_ms = now_ms();
  auto rp = self->make_response_promise();
  self->request(im.worker, st.options.request_timeout, part_atom::value, std::move(request))
      .then(
          [self, rp, name, id, size]() mutable {
            auto& st = self->state;
            auto it = st.imports.find(name);
            fb::UploadProgressT out;
            out.model = name;
            out.upload_id = id;
            if (it != st.imports.end() && it->second.id == id) out.received = it->second.received += size;
            rp.deliver(responses::make(std::move(out)));
          },
          [self, rp, name, id](caf::error& e) mutable {
            auto& st = self->state;
            if (auto it = st.imports.find(name); it != st.imports.end() && it->second.id == id)
              end_import(self, name, false);  // a refused part ends the import (the worker stopped)
            rp.deliver(error_response(from_caf_error(e, "the import")));
          });
  return rp;
}

caf::result<Buffer> import_commit(self_ptr self, const fb::ImportCommit& c, const std::string& caller) {
  auto& st = self->state;
  const auto name = c.model()->str();
  auto& im = own_import(st, name, c.import_id(), caller);
  const uint64_t id = im.id;
  im.last_activity_ms = now_ms();
  auto rp = self->make_response_promise();
  self->request(im.worker, st.options.merge_timeout, committed_atom::value)
      .then(
          [self, rp, name, id](Buffer& summary) mutable {
            auto& st = self->state;
            if (auto it = st.imports.find(name); it != st.imports.end() && it->second.id == id)
              end_import(self, name, false);
            spawn_model(self, name, std::nullopt);  // it loads the model from the store
            std::cerr << "fl-hub: model '" << name << "' was imported" << std::endl;
            fb::CreateReceiptT receipt;
            receipt.summary = std::make_unique<fb::ModelSummaryT>(wire::unpack_summary(summary));
            rp.deliver(responses::make(std::move(receipt)));
          },
          [self, rp, name, id](caf::error& e) mutable {
            auto& st = self->state;
            if (auto it = st.imports.find(name); it != st.imports.end() && it->second.id == id)
              end_import(self, name, false);
            rp.deliver(error_response(from_caf_error(e, "the import")));
          });
  return rp;
}

// ---------------------------------------------------------------- keys

// Writes a key change through the journal; it takes effect once durable.
caf::result<Buffer> change_key(self_ptr self, KeyRegistry::Change change, Buffer answer,
                               std::function<void()> applied = {}) {
  auto& st = self->state;
  if (change.batch.empty()) return answer;  // nothing to write
  const auto name = change.info.name;
  st.key_changes.insert(name);
  auto batch = change.batch;
  auto shared = std::make_shared<KeyRegistry::Change>(std::move(change));
  auto rp = self->make_response_promise();
  self->request(st.journal, st.options.request_timeout, commit_atom::value, std::move(batch))
      .then(
          [self, rp, shared, answer, applied]() mutable {
            self->state.keys->apply(*shared);
            self->state.key_changes.erase(shared->info.name);
            if (applied) applied();
            rp.deliver(std::move(answer));
          },
          [self, rp, name](caf::error& e) mutable {
            self->state.key_changes.erase(name);
            rp.deliver(error_response(from_caf_error(e, "the journal")));
          });
  return rp;
}

void check_no_change(const hub_state& st, const std::string& name) {
  if (st.key_changes.count(name))
    throw RequestError(ErrorCode::key_exists, "the key '" + name + "' is being changed; try again");
}

caf::result<Buffer> add_key(self_ptr self, const fb::AddKey& a) {
  auto& st = self->state;
  const auto name = a.name()->str();
  check_no_change(st, name);
  auto change = st.keys->prepare_add(name, from_fb(a.role()));
  fb::KeyCreatedT created;
  created.name = name;
  created.role = a.role();
  created.key = change.key;
  return change_key(self, std::move(change), responses::make(std::move(created)));
}

caf::result<Buffer> revoke_key(self_ptr self, const fb::RevokeKey& r) {
  auto& st = self->state;
  const auto name = r.name()->str();
  check_no_change(st, name);
  auto change = st.keys->prepare_revoke(name);
  // Two manager revocations at once could both pass the last-key check.
  if (change.info.role == Role::manager)
    for (const auto& k : st.keys->list())
      if (k.role == Role::manager && st.key_changes.count(k.name))
        throw RequestError(ErrorCode::key_exists, "another manager key is being changed; try again");
  // Once revoked (durably), the key's open subscriptions and uploads end at
  // once, on every model.
  return change_key(self, std::move(change), responses::ack("revoked key '" + name + "'"), [self, name] {
    for (const auto& [model, entry] : self->state.models)
      if (entry.actor) self->send(entry.actor, revoked_atom::value, name);
  });
}

Buffer list_keys(const hub_state& st) {
  fb::KeyListT list;
  for (const auto& k : st.keys->list()) {
    auto info = std::make_unique<fb::KeyInfoT>();
    info->name = k.name;
    info->role = to_fb(k.role);
    info->created_at_ms = k.created_at_ms;
    info->revoked = k.revoked;
    list.keys.push_back(std::move(info));
  }
  return responses::make(std::move(list));
}

// ---------------------------------------------------------------- routing

// The key of a request from another node, with the back-off for nodes that
// keep failing (security/auth_backoff.hpp): a node in its back-off is
// refused without its key being checked.
Identity authenticate_remote(self_ptr self, const std::string& key) {
  auto& st = self->state;
  // Naming the node costs a formatted string: only when some node has failed.
  if (st.backoff.peers() == 0) {
    try {
      return st.keys->authenticate(key);
    } catch (const RequestError& e) {
      if (e.code() != ErrorCode::unauthorized) throw;
    }
  }
  const std::string peer = caf::to_string(self->current_sender()->node());
  const uint64_t now = now_ms();
  if (const uint64_t ms = st.backoff.blocked_for(peer, now)) {
    metrics::global().count("fedhub_auth_failures_total", {{"door", "caf"}, {"reason", "backoff"}});
    throw RequestError(ErrorCode::unauthorized,
                       "too many failed authentications from this node: its requests are "
                       "refused unchecked for " +
                           std::to_string((ms + 999) / 1000) + " s more");
  }
  try {
    Identity who = st.keys->authenticate(key);
    st.backoff.succeeded(peer);
    return who;
  } catch (const RequestError& e) {
    if (e.code() == ErrorCode::unauthorized) {
      metrics::global().count("fedhub_auth_failures_total", {{"door", "caf"}, {"reason", "key"}});
      if (const uint64_t ms = st.backoff.failed(peer, now))
        std::cerr << "fl-hub: node " << peer << " failed to authenticate too often: refused for " << ms << " ms"
                  << std::endl;
    }
    throw;
  }
}

uint64_t declared_data_bytes(const fb::UploadBegin& begin) {
  // Verified with the envelope (requests::verify).
  return flatbuffers::GetRoot<fb::Contribution>(begin.contribution()->data())->data_bytes();
}

// An UploadBegin under the per-key quota (hub/upload_quota.hpp): charged
// before the model sees it, refunded when the model refuses the begin.
caf::result<Buffer> begin_upload_within_quota(self_ptr self, const caf::actor& model, Buffer request,
                                              const std::string& key, uint64_t bytes) {
  const uint64_t ticket = self->state.quota.charge(key, bytes, now_ms());
  auto rp = self->make_response_promise<Buffer>();
  self->request(model, self->state.options.request_timeout, model_atom::value, std::move(request), key)
      .then(
          [self, rp, key, ticket](Buffer& response) mutable {
            const auto* env = flatbuffers::GetRoot<fb::ResponseEnvelope>(response.data());
            if (env->response_type() == fb::Response::Error) self->state.quota.refund(key, ticket);
            rp.deliver(std::move(response));
          },
          [self, rp, key, ticket](caf::error& err) mutable {
            self->state.quota.refund(key, ticket);
            rp.deliver(error_response(from_caf_error(err, "the model actor")));
          });
  return rp;
}

caf::result<Buffer> handle(self_ptr self, Buffer& request) {
  auto& st = self->state;
  const auto* env = requests::verify(request);
  // Remote senders come through the CAF door; the HTTP door (a local
  // sender) notes its callers and backs off its own peers.
  const bool remote = self->current_sender() && self->current_sender()->node() != self->node();
  const Identity who =
      remote ? authenticate_remote(self, env->api_key()->str()) : st.keys->authenticate(env->api_key()->str());
  if (remote) metrics::note_caller("caf", who.name);
  switch (env->request_type()) {
    case fb::Request::ListModels:
      return list_models(self);
    case fb::Request::Whoami: {
      fb::IdentityT id;
      id.name = who.name;
      id.role = to_fb(who.role);
      return responses::make(std::move(id));
    }
    case fb::Request::CreateModel:
      require_manager(who, "creating a model");
      return create(self, request);
    case fb::Request::AddKey:
      require_manager(who, "creating keys");
      return add_key(self, *env->request_as_AddKey());
    case fb::Request::ListKeys:
      require_manager(who, "listing keys");
      return list_keys(st);
    case fb::Request::RevokeKey:
      require_manager(who, "revoking keys");
      return revoke_key(self, *env->request_as_RevokeKey());
    case fb::Request::Status:
      require_manager(who, "status");
      break;
    case fb::Request::Merge:
      require_manager(who, "merging");
      break;
    case fb::Request::Policy:
      require_manager(who, "a merge policy");
      break;
    case fb::Request::DeleteModel:
      require_manager(who, "deleting a model");
      return delete_model(self, requests::model_of(*env));
    case fb::Request::ArchiveModel:
      require_manager(who, "archiving a model");
      break;
    case fb::Request::Rollback:
      require_manager(who, "a rollback");
      break;
    case fb::Request::Backup:
      require_manager(who, "a backup");
      return backup(self, *env->request_as_Backup());
    case fb::Request::ListHistory:
      require_manager(who, "a model's history");
      return provenance(self, request, false);
    case fb::Request::VerifyVersion:
      require_manager(who, "verifying a version");
      return provenance(self, request, true);
    case fb::Request::GetLeaderboard:
      return provenance(self, request, !who.is_manager(), who.is_manager() ? std::string() : who.name);
    case fb::Request::ImportBegin:
      require_manager(who, "importing a model");
      return import_begin(self, request, requests::model_of(*env), who.name);
    case fb::Request::ImportPart:
      require_manager(who, "importing a model");
      return import_part(self, request, requests::model_of(*env), who.name);
    case fb::Request::ImportCommit:
      require_manager(who, "importing a model");
      return import_commit(self, *env->request_as_ImportCommit(), who.name);
    default:
      break;  // downloads, uploads, subscriptions: every role
  }
  const auto name = requests::model_of(*env);
  if (st.deleting.count(name)) throw RequestError(ErrorCode::unknown_model, "model '" + name + "' is being deleted");
  auto it = st.models.find(name);
  if (it == st.models.end()) {
    if (st.creating.count(name))
      throw RequestError(ErrorCode::unknown_model, "model '" + name + "' is being created; try again in a moment");
    throw RequestError(ErrorCode::unknown_model, "there is no model named '" + name + "'");
  }
  if (!it->second.actor)
    throw RequestError(ErrorCode::model_unavailable, "model '" + name + "' is unavailable: " + it->second.problem);
  if (env->request_type() == fb::Request::UploadBegin && st.quota.enabled())
    return begin_upload_within_quota(self, it->second.actor, std::move(request), who.name,
                                     declared_data_bytes(*env->request_as_UploadBegin()));
  auto rp = self->make_response_promise();
  rp.delegate(it->second.actor, model_atom::value, std::move(request), who.name);
  return rp;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> stored_model_names(const Store& store) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& buf : store.models()) {
    try {
      out.emplace_back(records::verify_model_record(buf)->spec()->name()->str(), "");
    } catch (const std::exception& e) {
      out.emplace_back("", e.what());
    }
  }
  return out;
}

caf::behavior hub_actor(self_ptr self, std::shared_ptr<Store> store, HubOptions options,
                        std::unique_ptr<KeyRegistry> keys, std::vector<std::string> models) {
  auto& st = self->state;
  st.store = std::move(store);
  st.options = options;
  st.keys = std::move(keys);
  st.quota = UploadQuota(options.upload_bytes_per_minute);
  st.backoff = AuthBackoff(
      {.failures_before_backoff = options.auth_failures_before_backoff, .max_ms = options.auth_backoff_max_ms});
  st.journal = self->spawn<caf::detached + caf::monitored>(journal_actor, st.store);
  for (int i = 0; i < std::max(1, options.readers); ++i)
    st.readers.push_back(self->spawn<caf::detached + caf::monitored>(reader_actor, st.store));
  for (const auto& name : models) spawn_model(self, name, std::nullopt);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [name, model] : st.models)
      if (model.actor && model.actor.address() == dm.source) {
        model.actor = nullptr;
        model.problem = "its actor stopped (" + caf::to_string(dm.reason) + ")";
        std::cerr << "fl-hub: model '" << name << "' is unavailable: " << model.problem << std::endl;
        return;
      }
    if (dm.source == st.journal.address() ||
        std::any_of(st.readers.begin(), st.readers.end(), [&](const auto& r) { return r.address() == dm.source; }))
      std::cerr << "fl-hub: a storage worker stopped (" << caf::to_string(dm.reason) << ")" << std::endl;
  });
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    for (auto& [name, model] : st.models)
      if (model.actor) self->send_exit(model.actor, em.reason);
    for (auto& r : st.readers) self->send_exit(r, em.reason);
    for (auto& [name, im] : st.imports) self->send_exit(im.worker, em.reason);
    if (st.journal) self->send_exit(st.journal, em.reason);
    self->quit(em.reason);
  });
  return {
      [self](import_atom, const std::string& name, uint64_t id) {
        // An import idle for longer than an upload may be ends.
        auto& st = self->state;
        auto it = st.imports.find(name);
        if (it == st.imports.end() || it->second.id != id) return;
        if (now_ms() >= it->second.last_activity_ms + st.options.limits.session_idle_ms) {
          std::cerr << "fl-hub: the import of '" << name << "' was abandoned (idle)" << std::endl;
          end_import(self, name, true);
          return;
        }
        schedule_import_check(self, name, id);
      },
      [self](Buffer& request) -> caf::result<Buffer> {
        try {
          return handle(self, request);
        } catch (const RequestError& e) {
          return error_response(e);
        } catch (const StorageFullError& e) {
          return error_response(storage_full_request_error(e));
        } catch (const std::exception& e) {
          return responses::error(ErrorCode::internal, e.what());
        }
      },
  };
}

}  // namespace fedhub
