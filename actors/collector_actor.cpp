#include "actors/collector_actor.hpp"

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "messages/errors.hpp"
#include "messages/events.hpp"
#include "messages/records.hpp"
#include "messages/request_generated.h"
#include "messages/responses.hpp"

namespace fedhub {

namespace {

using self_ptr = caf::stateful_actor<collector_state>*;

// The request was verified by the hub actor of this process.
Buffer accept_upload(self_ptr self, const Buffer& request, const std::string& caller) {
  auto& st = self->state;
  const auto* env = flatbuffers::GetRoot<fb::RequestEnvelope>(request.data());
  auto accepted = st.intake->accept(as_span(env->request_as_Upload()->contribution()), caller);

  self->send(st.merger, fold_atom::value, accepted.pending_seq, records::contribution_summary(accepted.summary));
  fb::ContributionAcceptedT ev;
  ev.model = st.model_name;
  ev.base_version = accepted.summary.base_version;
  ev.participant = caller;
  ev.num_samples = accepted.summary.num_samples;
  ev.contributions = accepted.contributions_for_base;
  self->send(st.model, accepted_atom::value, events::contribution_accepted(std::move(ev)));

  fb::UploadReceiptT receipt;
  receipt.model = st.model_name;
  receipt.base_version = accepted.summary.base_version;
  receipt.participant = caller;
  receipt.contributions = accepted.contributions_for_base;
  return responses::make(std::move(receipt));
}

}  // namespace

caf::behavior collector_actor(self_ptr self, std::shared_ptr<Store> store, std::string model_name,
                              std::vector<TensorSpec> layout, uint64_t current_version, std::string policy_json,
                              caf::actor model, caf::actor merger) {
  auto& st = self->state;
  st.intake = std::make_unique<ContributionIntake>(*store, model_name, std::move(layout), current_version,
                                                   MergePolicy::from_json(policy_json));
  st.model_name = model_name;
  st.model = std::move(model);
  st.merger = std::move(merger);
  // The closures keep the store alive as long as the intake uses it.
  return {
      [self, store](upload_atom, Buffer& request, std::string& caller) -> Buffer {
        try {
          return accept_upload(self, request, caller);
        } catch (const RequestError& e) {
          return responses::error(e.code(), e.what());
        } catch (const std::exception& e) {
          return responses::error(ErrorCode::internal, std::string("the contribution was not stored: ") + e.what());
        }
      },
      [self](published_atom, uint64_t version) { self->state.intake->set_current_version(version); },
      [self](policy_atom, std::string& policy) { self->state.intake->set_policy(MergePolicy::from_json(policy)); },
  };
}

}  // namespace fedhub
