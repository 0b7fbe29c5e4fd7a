#include "actors/journal_actor.hpp"

#include <caf/all.hpp>

#include "actors/actor_errors.hpp"
#include "actors/atoms.hpp"
#include "actors/message_types.hpp"

namespace fedhub {

namespace {

using self_ptr = caf::stateful_actor<journal_state>*;

void flush(self_ptr self) {
  auto& st = self->state;
  st.flush_queued = false;
  if (st.queue.empty()) return;
  auto queue = std::move(st.queue);
  st.queue.clear();
  std::vector<const StoreBatch*> batches;
  batches.reserve(queue.size());
  for (const auto& [batch, rp] : queue) batches.push_back(&batch);
  try {
    st.store->commit(batches, true);
    ++st.writes;
    st.batches += batches.size();
    for (auto& [batch, rp] : queue) rp.deliver(caf::unit);
  } catch (const StorageFullError& e) {
    const auto err = storage_full_error(e);  // the sentence says nothing was stored
    for (auto& [batch, rp] : queue) rp.deliver(err);
  } catch (const std::exception& e) {
    const auto err = to_caf_error(ErrorCode::internal, std::string("nothing was stored: ") + e.what());
    for (auto& [batch, rp] : queue) rp.deliver(err);
  }
}

}  // namespace

caf::behavior journal_actor(self_ptr self, std::shared_ptr<Store> store) {
  self->state.store = std::move(store);
  return {
      [self](commit_atom, StoreBatch& batch) -> caf::result<caf::unit_t> {
        auto& st = self->state;
        auto rp = self->make_response_promise();
        st.queue.emplace_back(std::move(batch), rp);
        // Everything already in the mailbox is queued before this flush runs.
        if (!st.flush_queued) {
          st.flush_queued = true;
          self->send(self, flush_atom::value);
        }
        return rp;
      },
      [self](flush_atom) { flush(self); },
  };
}

}  // namespace fedhub
