// The journal: the hub's one writer of synced batches for requests that are
// acknowledged after the write (accepted contributions, policies, keys).
// Detached: an fsync never occupies a scheduler thread.
//
// Group commit: every batch that queued up while the previous write was in
// fsync goes into the next write together, in arrival order, as one atomic
// RocksDB batch with one fsync; each sender gets its answer after that write
// is durable (or the error, when it failed: then none of the group's writes
// happened).
//
// Messages:
//   (commit_atom, StoreBatch) -> unit (durable) | fedhub error internal
#pragma once

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <memory>
#include <vector>

#include "persistence/store.hpp"

namespace fedhub {

struct journal_state {
  std::shared_ptr<Store> store;
  std::vector<std::pair<StoreBatch, caf::response_promise>> queue;
  bool flush_queued = false;
  uint64_t writes = 0;   // synced writes done
  uint64_t batches = 0;  // batches they carried
  static inline const char* name = "journal";
};

caf::behavior journal_actor(caf::stateful_actor<journal_state>* self, std::shared_ptr<Store> store);

}  // namespace fedhub
