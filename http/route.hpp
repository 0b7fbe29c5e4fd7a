// Which endpoint a request line names (docs/http-api.md, Endpoints). Pure:
// no sockets, no hub. Path segments are percent-decoded one by one; a
// segment that decodes to or holds "/", "\", NUL or control characters, a
// "." or ".." segment, and an empty segment are refused (400), so that no
// path trick reaches a handler or the static files. The query string is
// ignored (nothing in the API takes one).
#pragma once

#include <string>
#include <string_view>

namespace fedhub::http {

enum class Endpoint {
  whoami,          // GET /api/v1/whoami
  models,          // GET /api/v1/models
  model,           // GET /api/v1/models/{model}
  version_status,  // GET /api/v1/models/{model}/versions/{version}
  package,         // GET, HEAD /api/v1/models/{model}/versions/{version}/package
  contributions,   // POST /api/v1/models/{model}/contributions
  merge,           // POST /api/v1/models/{model}/merge
  policy,          // GET, PATCH /api/v1/models/{model}/policy
  model_events,    // GET /api/v1/models/{model}/events
  events,          // GET /api/v1/events (every model)
  keys,            // GET, POST /api/v1/keys
  key,             // DELETE /api/v1/keys/{name}
  metrics,         // GET /metrics
  static_file,     // GET / and /static/{file}
};

struct Route {
  Endpoint endpoint;
  std::string model;    // decoded
  std::string version;  // "current" or digits, checked by the handler
  std::string name;     // a key's name
  std::string file;     // a static file's name ("index.html" for /)
};

// Throws HttpError: 400 (path tricks), 404 not_found, 405 method_not_allowed
// with an Allow header.
Route route(std::string_view method, std::string_view target);

// "%41b" -> "Ab"; throws HttpError(400) on a bad escape or a decoded "/",
// "\", NUL or control character.
std::string decode_segment(std::string_view segment);

}  // namespace fedhub::http
