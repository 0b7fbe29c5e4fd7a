#include "actors/hub_client.hpp"

#include <caf/all.hpp>
#include <caf/io/remote_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "actors/atoms.hpp"
#include "actors/hub_link.hpp"
#include "messages/events.hpp"
#include "messages/requests.hpp"

namespace fedhub {

std::pair<std::string, uint16_t> parse_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw std::invalid_argument("'" + text + "' is not HOST:PORT (e.g. 127.0.0.1:7461)");
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    size_t used = 0;
    port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    throw std::invalid_argument("'" + text + "' has no valid port number");
  }
  if (port == 0 || port > 65535) throw std::invalid_argument("port " + std::to_string(port) + " is out of range");
  return {host, static_cast<uint16_t>(port)};
}

HubClient::HubClient(caf::actor_system& system, const std::string& host, uint16_t port, std::string key,
                     std::chrono::milliseconds timeout)
    : system_(system),
      self_(system),
      key_(std::move(key)),
      address_(host + ":" + std::to_string(port)),
      timeout_(timeout) {
  auto hub = caf::io::remote_actor(system, host, port);
  if (!hub)
    throw RequestError(ErrorCode::unavailable, "cannot reach a hub at " + address_ + ": " + system.render(hub.error()) +
                                                   " (is fl-hub running there?)");
  hub_ = *hub;
  link_ = system.spawn(hub_link, hub_, caf::actor_cast<caf::actor>(self_), address_);
}

HubClient::~HubClient() { caf::anon_send_exit(link_, caf::exit_reason::user_shutdown); }

Buffer HubClient::call(const Buffer& request) {
  Buffer response;
  std::optional<RequestError> failure;
  self_->request(link_, timeout_, request)
      .receive([&](Buffer& r) { response = std::move(r); },
               [&](caf::error& e) {
                 if (e == caf::sec::request_timeout)
                   failure.emplace(ErrorCode::timeout, "the hub at " + address_ + " did not answer within " +
                                                           std::to_string(timeout_.count()) + " ms");
                 else
                   failure.emplace(ErrorCode::unavailable, "lost the hub at " + address_ + ": " + system_.render(e));
               });
  if (failure) throw *failure;
  const auto* env = responses::verify(response);
  if (const auto* e = env->response_as_Error())
    throw RequestError(e->code(), e->message() ? e->message()->str() : std::string());
  return response;
}

Buffer HubClient::download_package(const std::string& model, int64_t version, uint64_t chunk_bytes,
                                   const std::function<void(uint64_t, uint64_t)>& progress) {
  Buffer package;
  uint64_t total = 0;
  do {
    Buffer holder;
    const auto* chunk =
        call_as<fb::DownloadChunk>(requests::download(key_, model, version, package.size(), chunk_bytes), holder);
    if (chunk->offset() != package.size())
      throw RequestError(ErrorCode::bad_request, "the hub sent a chunk at the wrong offset");
    if (package.empty()) {
      total = chunk->total_size();
      version = static_cast<int64_t>(chunk->version());  // later chunks of this very version
      package.reserve(total);
    } else if (chunk->total_size() != total || static_cast<int64_t>(chunk->version()) != version) {
      throw RequestError(ErrorCode::bad_request, "the package changed during the download");
    }
    if (chunk->data()->size() == 0 && package.size() < total)
      throw RequestError(ErrorCode::bad_request, "the hub sent an empty chunk");
    auto data = as_span(chunk->data());
    package.insert(package.end(), data.begin(), data.end());
    if (progress) progress(package.size(), total);
  } while (package.size() < total);
  return package;
}

void HubClient::subscribe(const std::string& model) {
  Buffer holder;
  call_as<fb::Ack>(requests::subscribe(key_, model), holder);
}

std::optional<Buffer> HubClient::next_event(std::chrono::milliseconds wait) {
  std::optional<Buffer> event;
  bool lost = false;
  self_->receive([&](event_atom, Buffer& e) { event = std::move(e); }, [&](lost_atom) { lost = true; },
                 caf::after(wait) >> [] {});
  if (lost) throw RequestError(ErrorCode::unavailable, "lost the hub at " + address_);
  if (event) events::verify(*event);
  return event;
}

}  // namespace fedhub
