// A blocking connection to a hub over CAF remoting, for the command-line
// programs, benchmarks and tests: every call sends one request and waits
// (with a timeout) for its response; events of subscribed models queue up
// until next_event() takes them. Requests go through a hub_link actor
// (client/hub_link.hpp), so a lost hub fails every waiting call at once with
// `unavailable` instead of at its timeout.
//
// Large transfers stream: a package is downloaded, and a training result
// uploaded, in parts of a few MiB with a bounded window of requests in
// flight, so that neither side holds more than the model and a few parts.
// Depends on messages/ and CAF only (not on the hub).
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/response_handle.hpp>
#include <caf/scoped_actor.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "messages/buffer.hpp"
#include "messages/errors.hpp"
#include "messages/response_generated.h"

namespace fedhub {

// "host:port" -> (host, port); throws std::invalid_argument naming the text.
std::pair<std::string, uint16_t> parse_host_port(const std::string& text);

// Progress of a transfer: bytes done of the total.
using Progress = std::function<void(uint64_t done, uint64_t total)>;
// Makes the Progress of one transfer ("downloading", "uploading").
using ProgressFactory = std::function<Progress(const std::string& what)>;

// Where an upload stands, kept by a caller that may lose its connection: a
// later upload() of the same result with the same ticket resumes the
// session from the hub's last stored byte instead of sending everything
// again (if the hub still has the session; otherwise it starts over).
struct UploadTicket {
  std::string model;
  uint64_t upload_id = 0;
  uint64_t resumed_at = 0;  // bytes the hub had when the last upload() resumed
};

class HubClient;

// An upload fed piece by piece, for a caller that receives the contribution
// as a stream (the HTTP door reads it from a socket): the session begins with
// the bare header (so a stale, duplicate or misshapen contribution is refused
// before any weight is read), write() sends the data section's bytes in the
// session's parts with its window in flight, commit() stores it. Every
// refusal is thrown as RequestError with the hub's code; a stream destroyed
// before commit() aborts its session.
class UploadStream {
 public:
  // `key`: the uploader's key (the session belongs to it).
  UploadStream(HubClient& client, std::string key, std::span<const char> header);
  ~UploadStream();
  UploadStream(const UploadStream&) = delete;
  UploadStream& operator=(const UploadStream&) = delete;

  const std::string& model() const { return model_; }
  uint64_t data_bytes() const { return data_bytes_; }
  // The size of the parts the hub takes (a multiple of 4).
  uint64_t part_bytes() const { return part_bytes_; }
  // The next bytes of the data section; any length (a part is sent whenever
  // part_bytes have gathered, and the rest at commit()).
  void write(std::span<const char> data);
  // Sends what is left, waits for every part, then commits: the
  // contribution is durable when this returns.
  fb::UploadReceiptT commit();

 private:
  void send_part();
  void send_part(std::span<const char> part);
  void await_one();

  struct InFlight;
  HubClient& client_;
  std::string key_;
  std::string model_;
  uint64_t upload_id_ = 0;
  uint64_t data_bytes_ = 0;
  uint64_t part_bytes_ = 0;
  uint32_t window_ = 1;
  uint64_t sent_ = 0;
  std::vector<char> pending_;  // bytes not sent yet (< part_bytes)
  std::deque<std::unique_ptr<InFlight>> in_flight_;
  bool done_ = false;
};

class HubClient {
 public:
  // Connects to the hub's published actor. Throws RequestError(unavailable)
  // naming the address when it cannot.
  HubClient(caf::actor_system& system, const std::string& host, uint16_t port, std::string key,
            std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Talks to a hub actor of this process (an embedded hub:
  // sim/embedded_hub.hpp) through the same link and messages; `name` stands
  // for the address in errors.
  HubClient(caf::actor_system& system, caf::actor hub, std::string key,
            std::chrono::milliseconds timeout = std::chrono::seconds(60), std::string name = "this process");
  ~HubClient();

  // Sends a request and returns its verified response envelope buffer. An
  // Error response is thrown as RequestError with the hub's code; no answer
  // within the timeout is RequestError(timeout); a lost hub (unavailable).
  Buffer call(const Buffer& request);

  // Typed form: the response body as T (the buffer is kept in *holder).
  template <class T>
  const T* call_as(const Buffer& request, Buffer& holder);

  // Downloads ask for chunks of this size by default (16 in flight: measured
  // faster over loopback than 4 MiB x 4, docs/performance.md).
  static constexpr uint64_t kDownloadChunkBytes = 1u << 20;

  // A whole model package (framed, messages/framed.hpp), fetched in chunks
  // of chunk_bytes (0: kDownloadChunkBytes) with `window` requests in flight,
  // all of one version (version -1: the current one when the download
  // starts). The package is not verified here (read_model_package does).
  Buffer download_package(const std::string& model, int64_t version, uint64_t chunk_bytes = 0,
                          const Progress& progress = {}, uint32_t window = 16);

  // Streams bytes [offset, end) of version `version` (an actual version, not
  // -1) of a model's package into `sink`, in order, asking for chunks of
  // chunk_bytes with `window` requests in flight, on behalf of `key` (the
  // HTTP door serves many keys through one client). Throws RequestError with
  // the hub's code, or bad_request when the package changes or a chunk does
  // not fit.
  void download_bytes(const std::string& key, const std::string& model, uint64_t version, uint64_t offset, uint64_t end,
                      const std::function<void(std::span<const char>)>& sink,
                      uint64_t chunk_bytes = kDownloadChunkBytes, uint32_t window = 16);

  // Uploads a training result (a framed contribution, e.g. a file written
  // by `fl-participant train`) through an upload session: its header first
  // (the hub refuses a stale, duplicate or misshapen result before any
  // weight is sent), then its data in parts with the hub's window in flight
  // (a damaged part is sent again), then the commit, answered once the
  // contribution is durable. Throws RequestError with the hub's code.
  fb::UploadReceiptT upload(std::span<const char> contribution, UploadTicket* ticket = nullptr,
                            const Progress& progress = {});

  // Progress for the transfers of every HubClient of the process that are
  // given none (a program's choice, e.g. from --quiet and whether stderr is
  // a terminal: apps/cli.hpp). Set it before any transfer starts; none by
  // default.
  static void set_default_progress(ProgressFactory factory);

  // Subscribes this client to a model's events.
  void subscribe(const std::string& model);

  // The next event of a subscribed model (a verified Event buffer), or
  // nothing when none arrives in `wait`. Throws RequestError(unavailable)
  // when the hub goes away, and RequestError(unauthorized) when the hub ended
  // a subscription (its key was revoked).
  std::optional<Buffer> next_event(std::chrono::milliseconds wait);

  const std::string& key() const { return key_; }
  std::string address() const { return address_; }

 private:
  friend class UploadStream;
  using Pending = caf::response_handle<caf::blocking_actor, caf::message, true>;
  // Sends without waiting; await() takes its verified response (an Error
  // response is returned, not thrown).
  Pending send_request(const Buffer& request);
  Buffer await(Pending& pending);

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
