// A client's link to a remote hub: an event-based actor in the client process
// that forwards requests to the hub and answers them, monitors the hub, and
// turns its loss into an answer at once: every pending and every later
// request gets an Error response `unavailable` (CAF itself would only fail a
// request to a dead remote actor at its timeout). A request the hub does
// not answer within the link's timeout gets `timeout`. Events of subscribed
// models reach the link, which forwards them to its owner.
//
//   connected ──(hub down)──► lost
//
// Messages:
//   std::vector<char> request -> std::vector<char> response    from the owner
//   (event_atom, Event) from the hub  -> forwarded to the owner
// Sends (lost_atom) to the owner when the hub goes away.
#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <chrono>
#include <map>
#include <string>

namespace fedhub {

struct hub_link_state {
  caf::actor hub;
  caf::actor owner;
  std::string address;
  std::chrono::milliseconds timeout{60000};
  uint64_t next_id = 0;
  std::map<uint64_t, caf::response_promise> pending;
  static inline const char* name = "hub_link";
};

caf::behavior hub_link(caf::stateful_actor<hub_link_state>* self, caf::actor hub, caf::actor owner, std::string address,
                       std::chrono::milliseconds timeout);

}  // namespace fedhub
