#include "client/hub_client.hpp"

#include <caf/all.hpp>
#include <caf/io/remote_actor.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <cstring>
#include <deque>

#include "client/atoms.hpp"
#include "client/hub_link.hpp"
#include "client/requests.hpp"
#include "messages/contribution.hpp"
#include "messages/events.hpp"

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
  // A system with CAF's OpenSSL module (SystemConfig with a CA file) speaks
  // TLS and verifies the hub's certificate.
  const bool tls = system.has_openssl_manager();
  auto hub = tls ? caf::openssl::remote_actor(system, host, port) : caf::io::remote_actor(system, host, port);
  if (!hub)
    throw RequestError(ErrorCode::unavailable,
                       "cannot reach a hub at " + address_ + (tls ? " over TLS: " : ": ") + system.render(hub.error()) +
                           (tls ? " (is fl-hub running there with TLS, and is its certificate signed by --ca-file?)"
                                : " (is fl-hub running there? A hub with TLS needs --ca-file)"));
  hub_ = *hub;
  link_ = system.spawn(hub_link, hub_, caf::actor_cast<caf::actor>(self_), address_, timeout_);
}

HubClient::HubClient(caf::actor_system& system, caf::actor hub, std::string key, std::chrono::milliseconds timeout,
                     std::string name)
    : system_(system),
      self_(system),
      hub_(std::move(hub)),
      key_(std::move(key)),
      address_(std::move(name)),
      timeout_(timeout) {
  if (!hub_) throw RequestError(ErrorCode::unavailable, "the hub at " + address_ + " has no actor (was it stopped?)");
  link_ = system.spawn(hub_link, hub_, caf::actor_cast<caf::actor>(self_), address_, timeout_);
}

HubClient::~HubClient() { caf::anon_send_exit(link_, caf::exit_reason::user_shutdown); }

HubClient::Pending HubClient::send_request(const Buffer& request) {
  // The link answers every request itself (timeout, lost hub); the margin
  // only guards against the link failing.
  return self_->request(link_, timeout_ + std::chrono::seconds(5), request);
}

Buffer HubClient::await(Pending& pending) {
  Buffer response;
  std::optional<RequestError> failure;
  pending.receive([&](Buffer& r) { response = std::move(r); },
                  [&](caf::error& e) {
                    if (e == caf::sec::request_timeout)
                      failure.emplace(ErrorCode::timeout, "the hub at " + address_ + " did not answer within " +
                                                              std::to_string(timeout_.count()) + " ms");
                    else
                      failure.emplace(ErrorCode::unavailable, "lost the hub at " + address_ + ": " + system_.render(e));
                  });
  if (failure) throw *failure;
  responses::verify(response);
  return response;
}

namespace {

// The Error of a verified response, or nullptr.
const fb::Error* error_of(const Buffer& response) {
  return flatbuffers::GetRoot<fb::ResponseEnvelope>(response.data())->response_as_Error();
}

[[noreturn]] void throw_error(const fb::Error& e) {
  throw RequestError(e.code(), e.message() ? e.message()->str() : std::string());
}

}  // namespace

Buffer HubClient::call(const Buffer& request) {
  auto pending = send_request(request);
  Buffer response = await(pending);
  if (const auto* e = error_of(response)) throw_error(*e);
  return response;
}

namespace {
ProgressFactory& default_progress() {
  static ProgressFactory factory;
  return factory;
}
Progress progress_or_default(const Progress& given, const char* what) {
  if (given || !default_progress()) return given;
  return default_progress()(what);
}
}  // namespace

void HubClient::set_default_progress(ProgressFactory factory) { default_progress() = std::move(factory); }

Buffer HubClient::download_package(const std::string& model, int64_t version, uint64_t chunk_bytes,
                                   const Progress& given_progress, uint32_t window) {
  const Progress progress = progress_or_default(given_progress, "downloading");
  const uint64_t step_asked = chunk_bytes == 0 ? kDownloadChunkBytes : chunk_bytes;
  Buffer holder;
  const auto* first = call_as<fb::DownloadChunk>(requests::download(key_, model, version, 0, step_asked), holder);
  const uint64_t total = first->total_size();
  const auto v = static_cast<int64_t>(first->version());  // later chunks of this very version
  if (first->offset() != 0 || first->data()->size() > total)
    throw RequestError(ErrorCode::bad_request, "the hub sent a first chunk that does not fit its package");
  // Chunks are taken in order and appended: the package is never zero-filled.
  Buffer package;
  package.reserve(total);
  package.insert(package.end(), first->data()->begin(), first->data()->end());
  const uint64_t step = package.size();  // the hub's chunk size
  if (package.size() < total && step == 0) throw RequestError(ErrorCode::bad_request, "the hub sent an empty chunk");
  if (progress) progress(package.size(), total);
  std::deque<std::pair<uint64_t, Pending>> in_flight;
  uint64_t next = package.size();
  while (package.size() < total) {
    while (next < total && in_flight.size() < std::max<uint32_t>(1, window)) {
      in_flight.emplace_back(next, send_request(requests::download(key_, model, v, next, step)));
      next += std::min(step, total - next);
    }
    auto [offset, pending] = std::move(in_flight.front());
    in_flight.pop_front();
    Buffer response = await(pending);
    if (const auto* e = error_of(response)) {
      for (auto& p : in_flight) await(p.second);  // drain: each answer is taken once
      throw_error(*e);
    }
    const auto* chunk =
        responses::expect<fb::DownloadChunk>(*flatbuffers::GetRoot<fb::ResponseEnvelope>(response.data()));
    if (chunk->offset() != offset || chunk->total_size() != total || static_cast<int64_t>(chunk->version()) != v)
      throw RequestError(ErrorCode::bad_request, "the package changed during the download");
    const uint64_t n = chunk->data()->size();
    if (n == 0 || n > total - offset || offset != package.size())
      throw RequestError(ErrorCode::bad_request, "the hub sent a chunk that does not fit its package");
    package.insert(package.end(), chunk->data()->begin(), chunk->data()->end());
    if (progress) progress(package.size(), total);
  }
  return package;
}

void HubClient::download_bytes(const std::string& key, const std::string& model, uint64_t version, uint64_t offset,
                               uint64_t end, const std::function<void(std::span<const char>)>& sink,
                               uint64_t chunk_bytes, uint32_t window) {
  const uint64_t step = std::max<uint64_t>(1, chunk_bytes);
  const auto v = static_cast<int64_t>(version);
  std::deque<std::pair<uint64_t, Pending>> in_flight;
  uint64_t next = offset, done = offset;
  while (done < end) {
    while (next < end && in_flight.size() < std::max<uint32_t>(1, window)) {
      in_flight.emplace_back(next, send_request(requests::download(key, model, v, next, std::min(step, end - next))));
      next += std::min(step, end - next);
    }
    auto [at, pending] = std::move(in_flight.front());
    in_flight.pop_front();
    Buffer response;
    try {
      response = await(pending);
    } catch (...) {
      for (auto& p : in_flight) {
        try {
          await(p.second);
        } catch (...) {
        }
      }
      throw;
    }
    const auto* e = error_of(response);
    const fb::DownloadChunk* chunk =
        e ? nullptr
          : responses::expect<fb::DownloadChunk>(*flatbuffers::GetRoot<fb::ResponseEnvelope>(response.data()));
    const bool fits = chunk && chunk->offset() == at && at == done && static_cast<int64_t>(chunk->version()) == v &&
                      chunk->data()->size() > 0 && chunk->data()->size() <= end - at;
    if (!fits) {
      for (auto& p : in_flight) await(p.second);  // drain: each answer is taken once
      if (e) throw_error(*e);
      throw RequestError(ErrorCode::bad_request, "the hub sent a chunk that does not fit the range asked for");
    }
    done += chunk->data()->size();
    // A chunk shorter than asked for (the hub's cap): ask for the rest next.
    if (done < at + std::min(step, end - at) && next > done) {
      for (auto& p : in_flight) await(p.second);
      in_flight.clear();
      next = done;
    }
    sink(std::span<const char>(reinterpret_cast<const char*>(chunk->data()->data()), chunk->data()->size()));
  }
}

fb::UploadReceiptT HubClient::upload(std::span<const char> contribution, UploadTicket* ticket,
                                     const Progress& given_progress) {
  const Progress progress = progress_or_default(given_progress, "uploading");
  const auto view = read_contribution(contribution, false);
  const std::string model = view.header->model()->str();
  const auto data = view.data;

  // The session: resumed when the ticket names one the hub still has.
  Buffer holder;
  const fb::UploadSession* session = nullptr;
  if (ticket && ticket->upload_id != 0 && ticket->model == model) {
    try {
      session = call_as<fb::UploadSession>(requests::upload_resume(key_, model, ticket->upload_id), holder);
      ticket->resumed_at = session->received();
    } catch (const RequestError& e) {
      if (e.code() != ErrorCode::unknown_upload) throw;
    }
  }
  if (!session) session = call_as<fb::UploadSession>(requests::upload_begin(key_, view.header_bytes), holder);
  const uint64_t id = session->upload_id();
  if (ticket) {
    ticket->model = model;
    ticket->upload_id = id;
  }
  const uint64_t part = std::max<uint64_t>(4, session->part_bytes() / 4 * 4);
  const uint32_t window = std::max<uint32_t>(1, session->window());
  uint64_t sent = session->received();
  uint64_t stored = sent;
  if (progress) progress(stored, data.size());

  // Parts, `window` in flight. A refused part (damaged, or out of order
  // after a resend) is recovered by resuming from what the hub stored.
  int resumes_without_progress = 0;
  std::deque<std::pair<uint64_t, Pending>> in_flight;
  while (stored < data.size()) {
    while (sent < data.size() && in_flight.size() < window) {
      const uint64_t n = std::min(part, data.size() - sent);
      in_flight.emplace_back(sent + n,
                             send_request(requests::upload_part(key_, model, id, sent, data.subspan(sent, n))));
      sent += n;
    }
    auto [end, pending] = std::move(in_flight.front());
    in_flight.pop_front();
    Buffer response = await(pending);
    if (const auto* e = error_of(response)) {
      const bool retry = e->code() == ErrorCode::bad_checksum || e->code() == ErrorCode::bad_request;
      if (!retry || ++resumes_without_progress > 3) {
        for (auto& p : in_flight) await(p.second);
        throw_error(*e);
      }
      for (auto& p : in_flight) await(p.second);
      in_flight.clear();
      Buffer h;
      const auto* resumed = call_as<fb::UploadSession>(requests::upload_resume(key_, model, id), h);
      stored = sent = resumed->received();
      continue;
    }
    stored = end;
    resumes_without_progress = 0;
    if (progress) progress(stored, data.size());
  }
  Buffer receipt_holder;
  fb::UploadReceiptT receipt;
  call_as<fb::UploadReceipt>(requests::upload_commit(key_, model, id), receipt_holder)->UnPackTo(&receipt);
  if (ticket) ticket->upload_id = 0;  // committed: nothing to resume
  return receipt;
}

// ---- UploadStream

struct UploadStream::InFlight {
  HubClient::Pending pending;
};

UploadStream::UploadStream(HubClient& client, std::string key, std::span<const char> header)
    : client_(client), key_(std::move(key)) {
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(header.data()), header.size());
  if (!fb::VerifyContributionBuffer(v))
    throw RequestError(ErrorCode::bad_request, "contribution header: not a valid Contribution FlatBuffer");
  const auto* c = fb::GetContribution(header.data());
  model_ = c->model()->str();
  data_bytes_ = c->data_bytes();
  Buffer holder;
  const auto* session = client_.call_as<fb::UploadSession>(requests::upload_begin(key_, header), holder);
  upload_id_ = session->upload_id();
  part_bytes_ = std::max<uint64_t>(4, session->part_bytes() / 4 * 4);
  window_ = std::max<uint32_t>(1, session->window());
  pending_.reserve(part_bytes_);
}

UploadStream::~UploadStream() {
  if (done_ || upload_id_ == 0) return;
  try {
    while (!in_flight_.empty()) {
      client_.await(in_flight_.front()->pending);
      in_flight_.pop_front();
    }
    client_.call(requests::upload_abort(key_, model_, upload_id_));
  } catch (...) {
    // The hub abandons the session by itself after its idle time.
  }
}

void UploadStream::await_one() {
  auto f = std::move(in_flight_.front());
  in_flight_.pop_front();
  Buffer response = client_.await(f->pending);
  if (const auto* e = error_of(response)) {
    while (!in_flight_.empty()) {  // take the other answers before the session is aborted
      try {
        client_.await(in_flight_.front()->pending);
      } catch (...) {
      }
      in_flight_.pop_front();
    }
    throw_error(*e);
  }
}

void UploadStream::send_part() {
  send_part(pending_);
  pending_.clear();
}

void UploadStream::send_part(std::span<const char> part) {
  if (sent_ + part.size() > data_bytes_)
    throw RequestError(ErrorCode::bad_request,
                       "contribution: more data than its header's data_bytes (" + std::to_string(data_bytes_) + ")");
  while (in_flight_.size() >= window_) await_one();
  auto f = std::make_unique<InFlight>(
      InFlight{client_.send_request(requests::upload_part(key_, model_, upload_id_, sent_, part))});
  in_flight_.push_back(std::move(f));
  sent_ += part.size();
}

void UploadStream::write(std::span<const char> data) {
  // Whole parts go out as they are (one copy, into the request).
  while (pending_.empty() && data.size() >= part_bytes_) {
    send_part(data.first(part_bytes_));
    data = data.subspan(part_bytes_);
  }
  while (!data.empty()) {
    const auto n = std::min<uint64_t>(data.size(), part_bytes_ - pending_.size());
    pending_.insert(pending_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    data = data.subspan(n);
    if (pending_.size() == part_bytes_) send_part();
  }
}

fb::UploadReceiptT UploadStream::commit() {
  if (!pending_.empty()) send_part();
  while (!in_flight_.empty()) await_one();
  Buffer holder;
  fb::UploadReceiptT receipt;
  client_.call_as<fb::UploadReceipt>(requests::upload_commit(key_, model_, upload_id_), holder)->UnPackTo(&receipt);
  done_ = true;
  return receipt;
}

void HubClient::subscribe(const std::string& model) {
  Buffer holder;
  call_as<fb::Ack>(requests::subscribe(key_, model), holder);
}

std::optional<Buffer> HubClient::next_event(std::chrono::milliseconds wait) {
  std::optional<Buffer> event;
  bool lost = false;
  std::optional<std::string> ended;
  self_->receive([&](event_atom, Buffer& e) { event = std::move(e); }, [&](lost_atom) { lost = true; },
                 [&](ended_atom, std::string& model, std::string& why) {
                   ended = "the hub ended the subscription to '" + model + "': " + why;
                 },
                 caf::after(wait) >> [] {});
  if (lost) throw RequestError(ErrorCode::unavailable, "lost the hub at " + address_);
  if (ended) throw RequestError(ErrorCode::unauthorized, *ended);
  if (event) events::verify(*event);
  return event;
}

}  // namespace fedhub
