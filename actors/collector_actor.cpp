#include "actors/collector_actor.hpp"

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "messages/errors.hpp"
#include "messages/events.hpp"
#include "messages/request_generated.h"
#include "messages/responses.hpp"

namespace fedhub {

namespace {

// The request was verified by the hub actor of this process.
Buffer accept_upload(collector_state& st, const Buffer& request, const std::string& caller) {
  const auto* env = flatbuffers::GetRoot<fb::RequestEnvelope>(request.data());
  auto accepted = st.intake->accept(as_span(env->request_as_Upload()->contribution()), caller);

  fb::UploadReceiptT receipt;
  receipt.model = st.model_name;
  receipt.base_version = accepted.summary.base_version;
  receipt.participant = caller;
  receipt.contributions = accepted.contributions_for_base;
  return responses::make(std::move(receipt));
}

Buffer accepted_event(const collector_state& st, const Buffer& response) {
  const auto* r = flatbuffers::GetRoot<fb::ResponseEnvelope>(response.data())->response_as_UploadReceipt();
  fb::ContributionAcceptedT ev;
  ev.model = st.model_name;
  ev.base_version = r->base_version();
  ev.participant = r->participant()->str();
  ev.contributions = r->contributions();
  return events::contribution_accepted(std::move(ev));
}

}  // namespace

caf::behavior collector_actor(caf::stateful_actor<collector_state>* self, std::shared_ptr<Store> store,
                              std::string model_name, std::vector<TensorSpec> layout, uint64_t current_version,
                              caf::actor model) {
  self->state.intake = std::make_unique<ContributionIntake>(*store, model_name, std::move(layout), current_version);
  self->state.model_name = model_name;
  self->state.model = std::move(model);
  // The store outlives the intake: the behavior's closures keep it alive.
  return {
      [self, store](upload_atom, Buffer& request, std::string& caller) -> Buffer {
        try {
          Buffer response = accept_upload(self->state, request, caller);
          self->send(self->state.model, accepted_atom::value, accepted_event(self->state, response));
          return response;
        } catch (const RequestError& e) {
          return responses::error(e.code(), e.what());
        } catch (const std::exception& e) {
          return responses::error(ErrorCode::internal, std::string("the contribution was not stored: ") + e.what());
        }
      },
      [self](published_atom, uint64_t version) { self->state.intake->set_current_version(version); },
  };
}

}  // namespace fedhub
