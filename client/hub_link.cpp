#include "client/hub_link.hpp"

#include <caf/all.hpp>

#include "client/atoms.hpp"
#include "messages/responses.hpp"

namespace fedhub {

namespace {

using self_ptr = caf::stateful_actor<hub_link_state>*;

Buffer lost_response(const hub_link_state& st) {
  return responses::error(ErrorCode::unavailable, "lost the hub at " + st.address);
}

// The hub is gone: answer everything that waits, and every later request.
caf::behavior lost(self_ptr self) {
  return {
      [self](Buffer&) -> Buffer { return lost_response(self->state); },
      [](event_atom, Buffer&) {},
      [](ended_atom, std::string&, std::string&) {},
  };
}

}  // namespace

caf::behavior hub_link(self_ptr self, caf::actor hub, caf::actor owner, std::string address,
                       std::chrono::milliseconds timeout) {
  auto& st = self->state;
  st.timeout = timeout;
  st.hub = std::move(hub);
  st.owner = std::move(owner);
  st.address = std::move(address);
  self->monitor(st.hub);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.owner.address()) {
      self->quit();
      return;
    }
    if (dm.source != st.hub.address()) return;
    for (auto& [id, rp] : st.pending) rp.deliver(lost_response(st));
    st.pending.clear();
    self->send(st.owner, lost_atom::value);
    self->become(lost(self));
  });
  self->monitor(st.owner);  // the link ends with its owner
  return {
      [self](Buffer& request) -> caf::result<Buffer> {
        auto& st = self->state;
        const uint64_t id = st.next_id++;
        auto rp = self->make_response_promise();
        st.pending.emplace(id, rp);
        self->request(st.hub, st.timeout, std::move(request))
            .then(
                [self, id](Buffer& response) {
                  auto it = self->state.pending.find(id);
                  if (it == self->state.pending.end()) return;
                  it->second.deliver(std::move(response));
                  self->state.pending.erase(it);
                },
                [self, id](caf::error& err) {
                  auto it = self->state.pending.find(id);
                  if (it == self->state.pending.end()) return;
                  if (err == caf::sec::request_timeout)
                    it->second.deliver(responses::error(
                        ErrorCode::timeout, "the hub at " + self->state.address + " did not answer within " +
                                                std::to_string(self->state.timeout.count()) + " ms"));
                  else
                    it->second.deliver(responses::error(
                        ErrorCode::unavailable,
                        "the hub at " + self->state.address + " failed the request: " + self->system().render(err)));
                  self->state.pending.erase(it);
                });
        return rp;
      },
      [self](event_atom, Buffer& event) { self->send(self->state.owner, event_atom::value, std::move(event)); },
      [self](ended_atom, std::string& model, std::string& why) {
        self->send(self->state.owner, ended_atom::value, std::move(model), std::move(why));
      },
  };
}

}  // namespace fedhub
