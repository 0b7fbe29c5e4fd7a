#include "actors/merger_actor.hpp"

#include <caf/all.hpp>

#include "actors/actor_errors.hpp"
#include "actors/atoms.hpp"
#include "actors/message_types.hpp"
#include "messages/request_generated.h"

namespace fedhub {

caf::behavior merger_actor(caf::stateful_actor<merger_state>* self, std::shared_ptr<Store> store,
                           std::string model_name, caf::actor model, std::optional<LoadedModelState> created) {
  LoadedModelState loaded;
  try {
    loaded = created ? std::move(*created) : load_model_state(*store, model_name);
    self->state.engine =
        std::make_unique<MergeEngine>(*store, loaded.definition, loaded.policy, loaded.image, loaded.server_state);
  } catch (const std::exception& e) {
    self->send(model, load_fail_atom::value, std::string(e.what()));
    self->quit();
    return {};
  }
  self->send(model, loaded_atom::value, std::move(loaded));
  // The closures keep the store alive as long as the engine uses it.
  auto& engine = *self->state.engine;
  return {
      [&engine, store](begin_atom, const UploadSession& s) -> caf::result<caf::unit_t> {
        return guarded([&]() -> caf::result<caf::unit_t> {
          engine.begin(s);
          return caf::unit;
        });
      },
      [&engine](part_atom, uint64_t upload, uint64_t offset, const Buffer& request) -> caf::result<caf::unit_t> {
        return guarded([&]() -> caf::result<caf::unit_t> {
          // Verified by the hub actor of this process.
          const auto* p = flatbuffers::GetRoot<fb::RequestEnvelope>(request.data())->request_as_UploadPart();
          if (!p) throw RequestError(ErrorCode::bad_request, "not an UploadPart");
          engine.part(upload, offset, as_span(p->data()));  // its hash was checked by requests::verify
          return caf::unit;
        });
      },
      [&engine](finalize_atom, uint64_t upload) -> caf::result<bool> {
        return guarded([&]() -> caf::result<bool> { return engine.finalize(upload).clipped; });
      },
      [&engine](committed_atom, uint64_t upload, const ContributionNote& note) -> caf::result<caf::unit_t> {
        return guarded([&]() -> caf::result<caf::unit_t> {
          engine.committed(upload, note);
          return caf::unit;
        });
      },
      [&engine](abort_atom, uint64_t upload) -> caf::result<caf::unit_t> {
        return guarded([&]() -> caf::result<caf::unit_t> {
          engine.abort(upload);
          return caf::unit;
        });
      },
      [&engine](merge_atom, const MergeOrder& order) -> caf::result<MergeOutcome> {
        return guarded([&]() -> caf::result<MergeOutcome> { return engine.merge(order); });
      },
      [&engine](rollback_atom, const RollbackOrder& order) -> caf::result<MergeOutcome> {
        return guarded([&]() -> caf::result<MergeOutcome> { return engine.rollback(order); });
      },
      [self, &engine](delete_atom) -> caf::result<caf::unit_t> {
        return guarded([&]() -> caf::result<caf::unit_t> {
          engine.erase_model();
          self->quit();  // nothing of the model is left to work on
          return caf::unit;
        });
      },
      [&engine](policy_atom, const std::string& policy,
                const std::vector<uint64_t>& ended) -> caf::result<caf::unit_t> {
        return guarded([&]() -> caf::result<caf::unit_t> {
          engine.set_policy(MergePolicy::from_json(policy), ended);
          return caf::unit;
        });
      },
  };
}

}  // namespace fedhub
