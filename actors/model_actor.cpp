#include "actors/model_actor.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <iostream>

#include "actors/atoms.hpp"
#include "actors/collector_actor.hpp"
#include "actors/merger_actor.hpp"
#include "messages/errors.hpp"
#include "messages/events.hpp"
#include "messages/records.hpp"
#include "messages/request_generated.h"
#include "messages/responses.hpp"

namespace fedhub {

namespace {

using self_ptr = caf::stateful_actor<model_state>*;

Buffer download(model_state& st, const fb::Download& d) {
  const auto& m = st.model;
  const uint64_t version = d.version() < 0 ? m.current_version : static_cast<uint64_t>(d.version());
  const Buffer* package = &m.package;
  if (version != m.current_version) {
    if (!st.older_package || st.older_package->first != version)
      st.older_package.emplace(version, load_package(*st.store, m, version));
    package = &st.older_package->second;
  }
  if (d.offset() > package->size())
    throw RequestError(ErrorCode::bad_request, "offset " + std::to_string(d.offset()) + " is past the end of the " +
                                                   std::to_string(package->size()) + "-byte package");
  uint64_t max = d.max_bytes() == 0 ? st.options.download_chunk_bytes : d.max_bytes();
  return responses::download_chunk(m.spec.name, version, *package, d.offset(),
                                   std::min(max, st.options.max_chunk_bytes));
}

Buffer status(const model_state& st, const fb::Status& s) {
  const auto& m = st.model;
  const uint64_t version = s.version() < 0 ? m.current_version : static_cast<uint64_t>(s.version());
  if (version > m.current_version)
    throw RequestError(ErrorCode::unknown_version,
                       "model '" + m.spec.name + "' has no version " + std::to_string(version));
  fb::ModelStatusT out;
  out.version = version;
  for (const auto& buf : st.store->contribution_summaries(m.spec.name, version)) {
    out.contributions.push_back(std::make_unique<fb::ContributionSummaryT>());
    records::verify_contribution_summary(buf)->UnPackTo(out.contributions.back().get());
  }
  const auto pending = static_cast<uint32_t>(st.store->pending(m.spec.name).size());
  out.summary = std::make_unique<fb::ModelSummaryT>(m.summary(pending, st.merging));
  for (const auto& buf : st.store->version_infos(m.spec.name)) {
    out.versions.push_back(std::make_unique<fb::VersionInfoT>());
    records::verify_version_info(buf)->UnPackTo(out.versions.back().get());
  }
  return responses::make(std::move(out));
}

void broadcast(model_state& st, self_ptr self, const Buffer& event) {
  for (const auto& s : st.subscribers) self->send(s, event_atom::value, event);
}

// A new version was stored by the merger: reload the durable state, tell the
// collector and every subscriber.
void on_merged(self_ptr self, const Buffer& response) {
  auto& st = self->state;
  const auto* r = flatbuffers::GetRoot<fb::ResponseEnvelope>(response.data())->response_as_MergeReceipt();
  if (!r) return;
  st.model = ModelState::load(*st.store, st.model.spec.name);
  st.older_package.reset();
  self->send(st.collector, published_atom::value, st.model.current_version);
  fb::MergeReceiptT receipt;
  r->UnPackTo(&receipt);
  fb::VersionPublishedT ev;
  ev.model = st.model.spec.name;
  ev.version = receipt.new_version;
  ev.base_version = receipt.base_version;
  ev.contributors = std::move(receipt.contributors);
  ev.total_samples = receipt.total_samples;
  ev.aggregator = st.model.policy.merge == MergeMode::async ? "fedasync" : st.model.policy.aggregator.name;
  ev.contributions = std::move(receipt.contributions);
  ev.dropped = receipt.dropped;
  broadcast(st, self, events::version_published(std::move(ev)));
}

caf::result<Buffer> merge(self_ptr self, const fb::Merge& m) {
  auto& st = self->state;
  if (st.merging)
    throw RequestError(ErrorCode::merge_in_progress,
                       "a merge of '" + st.model.spec.name + "' is running; try again when it ends");
  st.merging = true;
  auto rp = self->make_response_promise();
  // The merger checks the base and the count against its own state; new
  // versions reach this actor as merged_atom messages before this answer.
  self->request(st.merger, caf::infinite, merge_atom::value, m.base_version())
      .then(
          [self, rp](Buffer& response) mutable {
            self->state.merging = false;
            rp.deliver(std::move(response));
          },
          [self, rp](caf::error& err) mutable {
            self->state.merging = false;
            rp.deliver(responses::error(ErrorCode::internal, "the merger failed: " + self->system().render(err)));
          });
  return rp;
}

caf::result<Buffer> policy(self_ptr self, const fb::Policy& p) {
  auto& st = self->state;
  if (!p.policy_json() || p.policy_json()->size() == 0) {
    fb::PolicyInfoT info;
    info.model = st.model.spec.name;
    info.policy_json = st.model.policy.to_json();
    return responses::make(std::move(info));
  }
  auto rp = self->make_response_promise();
  rp.delegate(st.merger, policy_atom::value, p.policy_json()->str());
  return rp;
}

Buffer subscribe(self_ptr self, bool on) {
  auto sender = caf::actor_cast<caf::actor>(self->current_sender());
  if (!sender) throw RequestError(ErrorCode::bad_request, "subscriptions need a sender to send events to");
  auto& subs = self->state.subscribers;
  auto it = std::find(subs.begin(), subs.end(), sender);
  if (on && it == subs.end()) {
    self->monitor(sender);
    subs.push_back(sender);
  } else if (!on && it != subs.end()) {
    self->demonitor(sender);
    subs.erase(it);
  }
  return responses::ack(std::string(on ? "subscribed to '" : "unsubscribed from '") + self->state.model.spec.name +
                        "'");
}

caf::result<Buffer> handle(self_ptr self, Buffer& request, std::string& caller) {
  auto& st = self->state;
  // Verified by the hub actor of this process.
  const auto* env = flatbuffers::GetRoot<fb::RequestEnvelope>(request.data());
  switch (env->request_type()) {
    case fb::Request::Download:
      return download(st, *env->request_as_Download());
    case fb::Request::Status:
      return status(st, *env->request_as_Status());
    case fb::Request::Merge:
      return merge(self, *env->request_as_Merge());
    case fb::Request::Subscribe:
      return subscribe(self, true);
    case fb::Request::Unsubscribe:
      return subscribe(self, false);
    case fb::Request::Policy:
      return policy(self, *env->request_as_Policy());
    case fb::Request::Upload: {
      auto rp = self->make_response_promise();
      rp.delegate(st.collector, upload_atom::value, std::move(request), std::move(caller));
      return rp;
    }
    default:
      throw RequestError(ErrorCode::bad_request,
                         std::string("a model does not handle ") + fb::EnumNameRequest(env->request_type()));
  }
}

}  // namespace

caf::behavior model_actor(self_ptr self, std::shared_ptr<Store> store, ModelState model, HubOptions options) {
  auto& st = self->state;
  st.store = store;
  st.options = options;
  st.model = std::move(model);
  const auto& name = st.model.spec.name;
  auto me = caf::actor_cast<caf::actor>(self);
  st.merger = self->spawn<caf::linked + caf::detached>(merger_actor, store, name, me);
  st.collector = self->spawn<caf::linked>(collector_actor, store, name, st.model.layout, st.model.current_version,
                                          st.model.policy.to_json(), me, st.merger);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(), [&](const caf::actor& a) { return a.address() == dm.source; }),
               subs.end());
  });
  return {
      [self](model_atom, Buffer& request, std::string& caller) -> caf::result<Buffer> {
        try {
          return handle(self, request, caller);
        } catch (const RequestError& e) {
          return responses::error(e.code(), e.what());
        } catch (const std::exception& e) {
          return responses::error(ErrorCode::internal, e.what());
        }
      },
      [self](summary_atom) -> Buffer {
        auto& st = self->state;
        auto pending = static_cast<uint32_t>(st.store->pending(st.model.spec.name).size());
        return pack_summary(st.model.summary(pending, st.merging));
      },
      [self](accepted_atom, Buffer& event) { broadcast(self->state, self, event); },
      [self](merged_atom, Buffer& receipt) {
        try {
          on_merged(self, receipt);
        } catch (const std::exception& e) {
          std::cerr << "fl-hub: model '" << self->state.model.spec.name
                    << "': reloading after a merge failed: " << e.what() << std::endl;
        }
      },
      [self](policy_atom, std::string& policy) {
        self->state.model.policy = MergePolicy::from_json(policy);
        self->send(self->state.collector, policy_atom::value, policy);
      },
  };
}

}  // namespace fedhub
