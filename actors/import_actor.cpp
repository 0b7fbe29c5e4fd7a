#include "actors/import_actor.hpp"

#include <caf/all.hpp>

#include "actors/actor_errors.hpp"
#include "actors/atoms.hpp"
#include "actors/wire.hpp"
#include "messages/request_generated.h"

namespace fedhub {

caf::behavior import_actor(caf::stateful_actor<import_state>* self, std::shared_ptr<Store> store, Buffer begin,
                           uint64_t max_part_bytes, ModelLimits limits) {
  // A refusal ends the import: what it stored goes, the actor stops.
  auto fail = [self](const std::exception&) {
    try {
      if (self->state.import) self->state.import->abort();
    } catch (const std::exception&) {
      // invisible garbage: a later import or create of the name deletes it
    }
    self->state.import.reset();
    self->quit();
  };
  return {
      [self, store, begin, max_part_bytes, limits, fail](begin_atom) -> caf::result<caf::unit_t> {
        try {
          const auto* env = flatbuffers::GetRoot<fb::RequestEnvelope>(begin.data());  // verified by the hub
          self->state.import =
              std::make_unique<ModelImport>(*store, *env->request_as_ImportBegin(), max_part_bytes, limits);
          return caf::unit;
        } catch (const RequestError& e) {
          fail(e);
          return to_caf_error(e);
        } catch (const std::exception& e) {
          fail(e);
          return to_caf_error(ErrorCode::internal, e.what());
        }
      },
      [self, fail](part_atom, const Buffer& request) -> caf::result<caf::unit_t> {
        try {
          if (!self->state.import) throw RequestError(ErrorCode::unknown_upload, "the import has ended");
          const auto* p = flatbuffers::GetRoot<fb::RequestEnvelope>(request.data())->request_as_ImportPart();
          if (!p) throw RequestError(ErrorCode::bad_request, "not an ImportPart");
          self->state.import->part(p->offset(), as_span(p->data()));  // its hash was checked by requests::verify
          return caf::unit;
        } catch (const RequestError& e) {
          fail(e);
          return to_caf_error(e);
        } catch (const std::exception& e) {
          fail(e);
          return to_caf_error(ErrorCode::internal, e.what());
        }
      },
      [self, fail](committed_atom) -> caf::result<Buffer> {
        try {
          if (!self->state.import) throw RequestError(ErrorCode::unknown_upload, "the import has ended");
          auto summary = self->state.import->commit();
          self->state.import.reset();
          self->quit();
          return wire::pack_summary(wire::summary(summary));
        } catch (const RequestError& e) {
          fail(e);
          return to_caf_error(e);
        } catch (const std::exception& e) {
          fail(e);
          return to_caf_error(ErrorCode::internal, e.what());
        }
      },
      [self, fail](abort_atom) -> caf::result<caf::unit_t> {
        fail(std::runtime_error("aborted"));
        return caf::unit;
      },
  };
}

}  // namespace fedhub
