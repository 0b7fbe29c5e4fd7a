#include "actors/hub_actor.hpp"

#include <caf/all.hpp>
#include <caf/event_based_actor.hpp>
#include <iostream>

#include "actors/atoms.hpp"
#include "actors/model_actor.hpp"
#include "messages/errors.hpp"
#include "messages/records.hpp"
#include "messages/requests.hpp"
#include "messages/responses.hpp"

namespace fedhub {

namespace {

using self_ptr = caf::stateful_actor<hub_state>*;

void require_manager(const Identity& who, const char* what) {
  if (!who.is_manager())
    throw RequestError(ErrorCode::forbidden,
                       "the key '" + who.name + "' is a participant key; " + what + " needs a manager key");
}

void spawn_model(self_ptr self, ModelState model) {
  auto name = model.spec.name;
  self->state.models[name] =
      self->spawn<caf::linked>(model_actor, self->state.store, std::move(model), self->state.options);
}

// Asks every model actor for its summary and answers with one ModelList.
caf::result<Buffer> list_models(self_ptr self) {
  auto rp = self->make_response_promise();
  if (self->state.models.empty()) {
    rp.deliver(responses::make(fb::ModelListT{}));
    return rp;
  }
  struct Gather {
    size_t waiting;
    fb::ModelListT list;
  };
  auto gather = std::make_shared<Gather>();
  gather->waiting = self->state.models.size();
  for (const auto& [name, actor] : self->state.models) {
    auto done = [rp, gather]() mutable {
      if (--gather->waiting > 0) return;
      auto& m = gather->list.models;
      std::sort(m.begin(), m.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
      rp.deliver(responses::make(std::move(gather->list)));
    };
    self->request(actor, self->state.options.request_timeout, summary_atom::value)
        .then(
            [gather, done](Buffer& summary) mutable {
              gather->list.models.push_back(std::make_unique<fb::ModelSummaryT>(unpack_summary(summary)));
              done();
            },
            [done](caf::error&) mutable { done(); });
  }
  return rp;
}

Buffer create(self_ptr self, const fb::CreateModel& request) {
  auto model = create_model(*self->state.store, request);
  fb::CreateReceiptT receipt;
  receipt.summary = std::make_unique<fb::ModelSummaryT>(model.summary(0, false));
  spawn_model(self, std::move(model));
  return responses::make(std::move(receipt));
}

caf::result<Buffer> handle(self_ptr self, Buffer& request) {
  auto& st = self->state;
  const auto* env = requests::verify(request);
  const Identity who = st.keys->authenticate(env->api_key()->str());
  switch (env->request_type()) {
    case fb::Request::ListModels:
      return list_models(self);
    case fb::Request::Whoami: {
      fb::IdentityT id;
      id.name = who.name;
      id.role = who.role;
      return responses::make(std::move(id));
    }
    case fb::Request::CreateModel:
      require_manager(who, "creating a model");
      return create(self, *env->request_as_CreateModel());
    case fb::Request::AddKey: {
      require_manager(who, "creating keys");
      const auto* a = env->request_as_AddKey();
      fb::KeyCreatedT created;
      created.name = a->name()->str();
      created.role = a->role();
      created.key = st.keys->add(created.name, created.role);
      return responses::make(std::move(created));
    }
    case fb::Request::ListKeys: {
      require_manager(who, "listing keys");
      fb::KeyListT list;
      for (auto& k : st.keys->list()) list.keys.push_back(std::make_unique<fb::KeyInfoT>(std::move(k)));
      return responses::make(std::move(list));
    }
    case fb::Request::RevokeKey: {
      require_manager(who, "revoking keys");
      const auto name = env->request_as_RevokeKey()->name()->str();
      st.keys->revoke(name);
      return responses::ack("revoked key '" + name + "'");
    }
    case fb::Request::Status:
      require_manager(who, "status");
      break;
    case fb::Request::Merge:
      require_manager(who, "merging");
      break;
    case fb::Request::Policy:
      require_manager(who, "a merge policy");
      break;
    default:
      break;  // Download, Upload, Subscribe, Unsubscribe: every role
  }
  const auto name = requests::model_of(*env);
  auto it = st.models.find(name);
  if (it == st.models.end()) throw RequestError(ErrorCode::unknown_model, "there is no model named '" + name + "'");
  auto rp = self->make_response_promise();
  rp.delegate(it->second, model_atom::value, std::move(request), who.name);
  return rp;
}

}  // namespace

caf::behavior hub_actor(self_ptr self, std::shared_ptr<Store> store, HubOptions options) {
  auto& st = self->state;
  st.store = std::move(store);
  st.options = options;
  st.keys = std::make_unique<KeyRegistry>(*st.store);
  // A model whose records are damaged is reported and left out; the others
  // are served.
  for (const auto& buf : st.store->models()) {
    try {
      const auto name = records::verify_model_record(buf)->spec()->name()->str();
      spawn_model(self, ModelState::load(*st.store, name));
    } catch (const std::exception& e) {
      std::cerr << "fl-hub: a stored model cannot be served: " << e.what() << std::endl;
    }
  }
  return {
      [self](Buffer& request) -> caf::result<Buffer> {
        try {
          return handle(self, request);
        } catch (const RequestError& e) {
          return responses::error(e.code(), e.what());
        } catch (const std::exception& e) {
          return responses::error(ErrorCode::internal, e.what());
        }
      },
  };
}

}  // namespace fedhub
