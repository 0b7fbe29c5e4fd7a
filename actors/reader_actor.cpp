#include "actors/reader_actor.hpp"

#include <caf/all.hpp>

#include "actors/actor_errors.hpp"
#include "actors/atoms.hpp"
#include "messages/responses.hpp"

namespace fedhub {

caf::behavior reader_actor(caf::stateful_actor<reader_state>* self, std::shared_ptr<Store> store) {
  self->state.store = std::move(store);
  return {
      [self](chunk_atom, const std::string& model, uint64_t version, uint64_t total, uint64_t offset,
             uint64_t length) -> caf::result<Buffer> {
        return guarded([&]() -> caf::result<Buffer> {
          bool found = true;
          Buffer chunk = responses::download_chunk(model, version, total, offset, length, [&](std::span<char> out) {
            found = self->state.store->read_version(model, version, offset, out);
          });
          if (!found)
            throw RequestError(ErrorCode::unknown_version, "the weights of version " + std::to_string(version) +
                                                               " of '" + model + "' were pruned meanwhile");
          return chunk;
        });
      },
      [self](notes_atom, const std::string& model, uint64_t base) -> caf::result<std::vector<Buffer>> {
        return guarded([&]() -> caf::result<std::vector<Buffer>> {
          return self->state.store->contribution_summaries(model, base);
        });
      },
  };
}

}  // namespace fedhub
