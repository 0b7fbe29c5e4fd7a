#include "http/api.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "client/json_views.hpp"
#include "client/requests.hpp"
#include "http/byte_range.hpp"
#include "http/http_error.hpp"
#include "http/route.hpp"
#include "http/static_files.hpp"
#include "messages/framed.hpp"
#include "messages/responses.hpp"
#include "metrics/registry.hpp"

namespace fedhub::http {

namespace {

using nlohmann::json;
namespace views = json_views;

const char* kJson = "application/json";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The media type of Content-Type, lower case, without parameters.
std::string media_type(const Exchange& x) {
  auto t = x.header("Content-Type");
  const auto semi = t.find(';');
  if (semi != std::string::npos) t.resize(semi);
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return lower(t);
}

void need_media(const Exchange& x, std::initializer_list<const char*> accepted) {
  const auto t = media_type(x);
  std::string list;
  for (const char* a : accepted) {
    if (t == a) return;
    if (!list.empty()) list += " or ";
    list += a;
  }
  throw HttpError(415, "unsupported_media_type",
                  "Content-Type must be " + list + (t.empty() ? std::string(", not absent") : ", not '" + t + "'"));
}

// The key of "Authorization: Bearer KEY".
std::string bearer(const Exchange& x) {
  const auto h = x.header("Authorization");
  if (h.empty())
    throw HttpError(401, "unauthorized", "no key: send it as 'Authorization: Bearer KEY' (docs/http-api.md)");
  if (lower(h.substr(0, 7)) != "bearer " || h.size() == 7)
    throw HttpError(401, "unauthorized", "the Authorization header must be 'Bearer KEY'");
  return h.substr(7);
}

Buffer call(ConnectionState& c, const Buffer& request) {
  try {
    return c.client.call(request);
  } catch (const RequestError& e) {
    throw HttpError(e);
  }
}

template <class T>
const T* call_as(ConnectionState& c, const Buffer& request, Buffer& holder) {
  holder = call(c, request);
  return responses::expect<T>(*flatbuffers::GetRoot<fb::ResponseEnvelope>(holder.data()));
}

// The caller's key, checked by the hub once per connection (401/403 before
// any body is read) and noted for the connected-participants gauge.
// A client address that keeps failing is refused unchecked for a while
// (security/auth_backoff.hpp).
std::string authenticated(Exchange& x, ConnectionState& c) {
  auto key = bearer(x);
  auto it = c.names.find(key);
  if (it == c.names.end()) {
    if (c.backoff) {
      std::lock_guard lock(c.backoff->mutex);
      if (const uint64_t ms = c.backoff->backoff.blocked_for(c.peer, now_ms())) {
        metrics::global().count("fedhub_auth_failures_total", {{"door", "http"}, {"reason", "backoff"}});
        const std::string seconds = std::to_string((ms + 999) / 1000);
        throw HttpError(401, "unauthorized",
                        "too many failed authentications from " + c.peer + ": its requests are refused unchecked for " +
                            seconds + " s more",
                        {{"Retry-After", seconds}});
      }
    }
    Buffer holder;
    const fb::Identity* id = nullptr;
    try {
      id = call_as<fb::Identity>(c, requests::whoami(key), holder);
    } catch (const HttpError& e) {
      if (e.status() == 401) {
        metrics::global().count("fedhub_auth_failures_total", {{"door", "http"}, {"reason", "key"}});
        if (c.backoff) {
          std::lock_guard lock(c.backoff->mutex);
          c.backoff->backoff.failed(c.peer, now_ms());
        }
      }
      throw;
    }
    if (c.backoff) {
      std::lock_guard lock(c.backoff->mutex);
      c.backoff->backoff.succeeded(c.peer);
    }
    if (c.names.size() > 16) c.names.clear();
    it = c.names.emplace(key, id->name()->str()).first;
  }
  metrics::note_caller("http", it->second);
  return key;
}

// -1 for "current", else the digits' value.
int64_t version_of(const std::string& text) {
  if (text == "current") return -1;
  int64_t v = -1;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 0)
    throw HttpError(400, "bad_request", "version '" + text + "' is neither 'current' nor a version number");
  return v;
}

json json_body(Exchange& x, const ApiOptions& o) {
  need_media(x, {kJson});
  const auto text = x.read_body(o.max_json_body);
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw HttpError(400, "bad_request", "the body must be a JSON object");
  return j;
}

void respond_json(Exchange& x, const json& j, unsigned status = 200) { x.respond(status, kJson, j.dump() + "\n"); }

// ---- downloads

void package(Exchange& x, ConnectionState& c, const Route& r, const ApiOptions& o, const std::string& key) {
  // One byte first: the package's size and actual version.
  Buffer holder;
  const auto* first =
      call_as<fb::DownloadChunk>(c, requests::download(key, r.model, version_of(r.version), 0, 1), holder);
  const uint64_t total = first->total_size();
  const uint64_t version = first->version();
  const auto range = parse_range(x.header("Range"), total);
  const uint64_t begin = range ? range->begin : 0, end = range ? range->end : total;
  Headers h{{"X-Fedhub-Version", std::to_string(version)},
            {"ETag", "\"" + r.model + "-v" + std::to_string(version) + "\""},
            {"Accept-Ranges", "bytes"},
            {"Content-Disposition", "attachment; filename=\"" + r.model + "-v" + std::to_string(version) + ".fhmp\""}};
  if (range)
    h.emplace_back("Content-Range",
                   "bytes " + std::to_string(begin) + "-" + std::to_string(end - 1) + "/" + std::to_string(total));
  x.begin_stream(range ? 206 : 200, "application/vnd.fedhub.model-package", end - begin, h);
  if (x.method() == "HEAD" || begin == end) return;
  c.client.download_bytes(
      key, r.model, version, begin, end,
      [&](std::span<const char> bytes) {
        x.write(bytes);
        metrics::global().count("fedhub_http_bytes_total", {{"direction", "out"}}, static_cast<double>(bytes.size()));
      },
      o.download_chunk_bytes, o.download_window);
}

// ---- uploads

// Reads exactly out.size() body bytes; 400 when the body ends first.
void read_exactly(Exchange& x, std::span<char> out, const char* what) {
  size_t got = 0;
  while (got < out.size()) {
    const size_t n = x.read_body_some(out.subspan(got));
    if (n == 0) throw HttpError(400, "bad_request", std::string("the body ended inside the contribution's ") + what);
    got += n;
  }
  metrics::global().count("fedhub_http_bytes_total", {{"direction", "in"}}, static_cast<double>(out.size()));
}

void contribution(Exchange& x, ConnectionState& c, const Route& r, const ApiOptions& o, const std::string& key) {
  need_media(x, {"application/vnd.fedhub.contribution", "application/octet-stream"});
  if (x.chunked() || !x.content_length())
    throw HttpError(411, "length_required", "a contribution needs a Content-Length (chunked bodies are not taken)");
  const uint64_t length = *x.content_length();
  // The model's size bounds the body, before any of it is read.
  Buffer holder;
  const auto* list = call_as<fb::ModelList>(c, requests::list_models(key), holder);
  const fb::ModelSummary* summary = nullptr;
  for (const auto* m : *list->models())
    if (m->name()->str() == r.model) summary = m;
  if (!summary) throw HttpError(404, "unknown_model", "there is no model named '" + r.model + "'");
  const uint64_t limit = 4 * summary->parameters() + o.max_contribution_header;
  if (length > limit)
    throw HttpError(413, "payload_too_large",
                    "the body declares " + std::to_string(length) + " bytes; a contribution to '" + r.model +
                        "' has at most " + std::to_string(limit));
  x.close_after();  // until the body has been read in full
  std::array<char, kFrameFixedBytes> fixed{};
  if (length < fixed.size()) throw HttpError(400, "bad_request", "the body is too short to be a contribution file");
  read_exactly(x, fixed, "frame");
  std::optional<uint64_t> prefix_size;
  try {
    prefix_size = frame_prefix_size(fixed, "contribution");
  } catch (const RequestError& e) {
    throw HttpError(e);
  }
  if (!prefix_size || *prefix_size > length)
    throw HttpError(400, "bad_request", "the body is shorter than the contribution's header says");
  std::vector<char> prefix(*prefix_size);
  std::copy(fixed.begin(), fixed.end(), prefix.begin());
  read_exactly(x, std::span<char>(prefix).subspan(fixed.size()), "header");
  try {
    const auto frame = read_frame_prefix(prefix, "contribution");
    UploadStream upload(c.client, key, frame.header);
    if (upload.model() != r.model)
      throw HttpError(400, "bad_request",
                      "the contribution is for model '" + upload.model() + "', posted to '" + r.model + "'");
    if (upload.data_bytes() != length - frame.data_offset)
      throw HttpError(400, "bad_request",
                      "the body holds " + std::to_string(length - frame.data_offset) +
                          " bytes of weights; the contribution's header declares " +
                          std::to_string(upload.data_bytes()));
    // Whole parts of the session's size, read straight from the socket.
    std::vector<char> part(upload.part_bytes());
    uint64_t left = upload.data_bytes();
    while (left > 0) {
      const auto n = std::min<uint64_t>(left, part.size());
      read_exactly(x, std::span<char>(part.data(), n), "weights");
      upload.write(std::span<const char>(part.data(), n));
      left -= n;
    }
    const auto receipt = upload.commit();
    respond_json(x, views::upload_receipt(receipt), 201);
  } catch (const RequestError& e) {
    throw HttpError(e);
  }
}

// ---- event streams (server-sent events)

void events(Exchange& x, ConnectionState& c, const Route& r, const ApiOptions& o, const std::string& key,
            caf::actor_system& system, const caf::actor& hub) {
  std::vector<std::string> models;
  if (r.endpoint == Endpoint::model_events) {
    models.push_back(r.model);
  } else {
    Buffer holder;
    const auto* list = call_as<fb::ModelList>(c, requests::list_models(key), holder);
    for (const auto* m : *list->models()) models.push_back(m->name()->str());
  }
  // A client of its own: events come to the actor that subscribed.
  HubClient events_client(system, hub, key, std::chrono::seconds(30), "this hub");
  try {
    for (const auto& m : models) events_client.subscribe(m);
  } catch (const RequestError& e) {
    throw HttpError(e);
  }
  x.begin_stream(200, "text/event-stream", std::nullopt, {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}});
  const std::string hello = ": subscribed to " + std::to_string(models.size()) + " model(s)\n\n";
  x.write(hello);
  auto last_write = std::chrono::steady_clock::now();
  while (!x.stopping()) {
    std::optional<Buffer> e;
    try {
      e = events_client.next_event(std::chrono::milliseconds(500));
    } catch (const RequestError& err) {
      // The hub went away, or ended the subscription (the key was revoked):
      // the stream ends, saying why when it can.
      if (err.code() == ErrorCode::unauthorized)
        x.write("event: ended\ndata: " +
                nlohmann::json{{"event", "ended"}, {"error", "unauthorized"}, {"message", err.what()}}.dump() + "\n\n");
      return;
    }
    if (e) {
      const auto j = views::event(*flatbuffers::GetRoot<fb::Event>(e->data()));
      x.write("event: " + j.value("event", std::string("event")) + "\ndata: " + j.dump() + "\n\n");
      last_write = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_write >= o.keep_alive) {
      x.write(std::string(": keep-alive\n\n"));
      last_write = std::chrono::steady_clock::now();
    }
  }
}

// ---- the rest

void dispatch(Exchange& x, ConnectionState& c, const ApiOptions& o, caf::actor_system& system, const caf::actor& hub) {
  const Route r = route(x.method(), x.target());
  if (r.endpoint == Endpoint::metrics) {
    x.respond(200, "text/plain; version=0.0.4; charset=utf-8", metrics::global().render());
    return;
  }
  if (r.endpoint == Endpoint::static_file) {
    const auto asset = find_asset(r.file);
    if (!asset) throw HttpError(404, "not_found", "no file named '" + r.file + "' here");
    x.respond(200, asset->content_type, asset->body, {{"Cache-Control", "no-cache"}});
    return;
  }
  const std::string key = authenticated(x, c);
  Buffer holder;
  switch (r.endpoint) {
    case Endpoint::whoami:
      respond_json(x, views::identity(*call_as<fb::Identity>(c, requests::whoami(key), holder)));
      return;
    case Endpoint::models:
      respond_json(x, views::model_list(*call_as<fb::ModelList>(c, requests::list_models(key), holder)));
      return;
    case Endpoint::model:
    case Endpoint::version_status: {
      const int64_t v = r.endpoint == Endpoint::model ? -1 : version_of(r.version);
      respond_json(x, views::model_status(*call_as<fb::ModelStatus>(c, requests::status(key, r.model, v), holder)));
      return;
    }
    case Endpoint::package:
      package(x, c, r, o, key);
      return;
    case Endpoint::contributions:
      contribution(x, c, r, o, key);
      return;
    case Endpoint::merge: {
      const auto body = json_body(x, o);
      if (!body.contains("base") || !body["base"].is_number_unsigned())
        throw HttpError(400, "bad_request", "the body must be {\"base\": V}, V the version the contributions are for");
      respond_json(x, views::merge_receipt(*call_as<fb::MergeReceipt>(
                          c, requests::merge(key, r.model, body["base"].get<uint64_t>()), holder)));
      return;
    }
    case Endpoint::policy: {
      std::string patch;
      if (x.method() == "PATCH") patch = json_body(x, o).dump();
      respond_json(x, views::policy(*call_as<fb::PolicyInfo>(c, requests::policy(key, r.model, patch), holder)));
      return;
    }
    case Endpoint::keys: {
      if (x.method() != "POST") {
        respond_json(x, views::key_list(*call_as<fb::KeyList>(c, requests::list_keys(key), holder)));
        return;
      }
      const auto body = json_body(x, o);
      const auto name = body.value("name", std::string());
      const auto role = body.value("role", std::string("participant"));
      if (name.empty() || (role != "participant" && role != "manager"))
        throw HttpError(400, "bad_request",
                        "the body must be {\"name\": NAME, \"role\": \"participant\" or \"manager\"}");
      const auto fb_role = role == "manager" ? fb::Role::manager : fb::Role::participant;
      respond_json(x, views::key_created(*call_as<fb::KeyCreated>(c, requests::add_key(key, name, fb_role), holder)),
                   201);
      return;
    }
    case Endpoint::key: {
      const auto* ack = call_as<fb::Ack>(c, requests::revoke_key(key, r.name), holder);
      respond_json(x, json{{"revoked", r.name}, {"message", ack->message() ? ack->message()->str() : ""}});
      return;
    }
    case Endpoint::model_events:
    case Endpoint::events:
      events(x, c, r, o, key, system, hub);
      return;
    case Endpoint::metrics:
    case Endpoint::static_file:
      break;
  }
}

}  // namespace

void serve(Exchange& x, ConnectionState& c, const ApiOptions& o, caf::actor_system& system, const caf::actor& hub) {
  try {
    dispatch(x, c, o, system, hub);
    return;
  } catch (const HttpError& e) {
    if (x.responded()) {
      x.close_after();
      return;
    }
    Headers h = e.headers();
    x.respond(e.status(), kJson, error_body(e.code(), e.what()), h);
  } catch (const RequestError& e) {
    if (x.responded()) {
      x.close_after();
      return;
    }
    x.respond(status_of(e.code()), kJson, error_body(error_name(e.code()), e.what()));
  } catch (const std::exception& e) {
    if (x.responded()) {
      x.close_after();
      return;
    }
    x.close_after();
    x.respond(500, kJson, error_body("internal", e.what()));
  }
}

}  // namespace fedhub::http
