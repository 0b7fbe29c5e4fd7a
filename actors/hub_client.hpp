// A blocking connection to a hub over CAF remoting, for the command-line
// programs and tests: every call sends one request and waits (with a
// timeout) for its response; events of subscribed models queue up until
// next_event() takes them. Requests go through a hub_link actor
// (actors/hub_link.hpp), so a lost hub fails every waiting call at once with
// `unavailable` instead of at its timeout.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "messages/buffer.hpp"
#include "messages/errors.hpp"
#include "messages/response_generated.h"

namespace fedhub {

// "host:port" -> (host, port); throws std::invalid_argument naming the text.
std::pair<std::string, uint16_t> parse_host_port(const std::string& text);

class HubClient {
 public:
  // Connects to the hub's published actor. Throws RequestError(unavailable)
  // naming the address when it cannot.
  HubClient(caf::actor_system& system, const std::string& host, uint16_t port, std::string key,
            std::chrono::milliseconds timeout = std::chrono::seconds(60));
  ~HubClient();

  // Sends a request and returns its verified response envelope buffer. An
  // Error response is thrown as RequestError with the hub's code; no answer
  // within the timeout is RequestError(timeout); a lost hub (unavailable).
  Buffer call(const Buffer& request);

  // Typed form: the response body as T (the buffer is kept in *holder).
  template <class T>
  const T* call_as(const Buffer& request, Buffer& holder);

  // A whole model package, fetched in chunks of chunk_bytes (0: the hub's
  // default) and verified. version -1: the current one.
  Buffer download_package(const std::string& model, int64_t version, uint64_t chunk_bytes = 0,
                          const std::function<void(uint64_t done, uint64_t total)>& progress = {});

  // Subscribes this client to a model's events.
  void subscribe(const std::string& model);

  // The next event of a subscribed model (a verified Event buffer), or
  // nothing when none arrives in `wait`. Throws RequestError(unavailable)
  // when the hub goes away.
  std::optional<Buffer> next_event(std::chrono::milliseconds wait);

  const std::string& key() const { return key_; }
  std::string address() const { return address_; }

 private:
  caf::actor_system& system_;
  caf::scoped_actor self_;
  caf::actor hub_;
  caf::actor link_;
  std::string key_;
  std::string address_;
  std::chrono::milliseconds timeout_;
};

}  // namespace fedhub

#include "messages/responses.hpp"

namespace fedhub {

template <class T>
const T* HubClient::call_as(const Buffer& request, Buffer& holder) {
  holder = call(request);  // verified there
  return responses::expect<T>(*flatbuffers::GetRoot<fb::ResponseEnvelope>(holder.data()));
}

}  // namespace fedhub
