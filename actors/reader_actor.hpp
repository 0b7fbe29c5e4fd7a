// A reader: serves what lives only in the store (byte ranges of versions
// older than the current one, the contributions of old versions) from a
// detached thread, so that a slow read never holds up a model actor. The
// hub runs a few; model actors pick one per request.
//
// Messages:
//   (chunk_atom, model, version, total_size, offset, length) -> DownloadChunk response buffer
//   (notes_atom, model, base) -> std::vector<std::vector<char>> ContributionSummary records
// Both answer a fedhub error (unknown_version, internal) when the store
// cannot.
#pragma once

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <memory>

#include "persistence/store.hpp"

namespace fedhub {

struct reader_state {
  std::shared_ptr<Store> store;
  static inline const char* name = "reader";
};

caf::behavior reader_actor(caf::stateful_actor<reader_state>* self, std::shared_ptr<Store> store);

}  // namespace fedhub
