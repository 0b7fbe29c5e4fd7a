#include "http/route.hpp"

#include <vector>

#include "http/http_error.hpp"

namespace fedhub::http {

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

HttpError bad_path(const std::string& why) { return HttpError(400, "bad_request", "request path: " + why); }

std::vector<std::string> segments(std::string_view path) {
  if (path.empty() || path[0] != '/') throw bad_path("must begin with '/'");
  std::vector<std::string> out;
  if (path == "/") return out;
  size_t start = 1;
  while (true) {
    const size_t slash = path.find('/', start);
    const auto raw = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (raw.empty()) throw bad_path("empty segment (a doubled or trailing '/')");
    auto seg = decode_segment(raw);
    if (seg == "." || seg == "..") throw bad_path("'.' and '..' segments are not allowed");
    out.push_back(std::move(seg));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

[[noreturn]] void not_allowed(const char* allow) {
  throw HttpError(405, "method_not_allowed", std::string("this resource allows ") + allow, {{"Allow", allow}});
}

}  // namespace

std::string decode_segment(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) throw bad_path("a '%' escape needs two hex digits");
      const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) throw bad_path("a '%' escape needs two hex digits");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
      if (c == '/' || c == '\\') throw bad_path("encoded slashes are not allowed");
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) throw bad_path("control characters are not allowed");
    if (c == '\\') throw bad_path("backslashes are not allowed");
    out += c;
  }
  return out;
}

Route route(std::string_view method, std::string_view target) {
  const auto q = target.find('?');
  const auto path = target.substr(0, q);
  const auto seg = segments(path);
  const bool get = method == "GET" || method == "HEAD";
  auto only = [&](bool ok, const char* allow) {
    if (!ok) not_allowed(allow);
  };
  auto not_found = [&]() -> HttpError {
    return HttpError(404, "not_found", "no resource at " + std::string(path) + " (docs/http-api.md lists them)");
  };

  if (seg.empty()) {
    only(get, "GET, HEAD");
    return {Endpoint::static_file, {}, {}, {}, "index.html"};
  }
  if (seg[0] == "static" && seg.size() == 2) {
    only(get, "GET, HEAD");
    return {Endpoint::static_file, {}, {}, {}, seg[1]};
  }
  if (seg[0] == "metrics" && seg.size() == 1) {
    only(get, "GET, HEAD");
    return {Endpoint::metrics, {}, {}, {}, {}};
  }
  if (seg.size() < 3 || seg[0] != "api" || seg[1] != "v1") throw not_found();
  const auto& what = seg[2];
  if (what == "whoami" && seg.size() == 3) {
    only(get, "GET, HEAD");
    return {Endpoint::whoami, {}, {}, {}, {}};
  }
  if (what == "events" && seg.size() == 3) {
    only(method == "GET", "GET");
    return {Endpoint::events, {}, {}, {}, {}};
  }
  if (what == "keys") {
    if (seg.size() == 3) {
      only(get || method == "POST", "GET, HEAD, POST");
      return {Endpoint::keys, {}, {}, {}, {}};
    }
    if (seg.size() == 4) {
      only(method == "DELETE", "DELETE");
      return {Endpoint::key, {}, {}, seg[3], {}};
    }
    throw not_found();
  }
  if (what != "models") throw not_found();
  if (seg.size() == 3) {
    only(get, "GET, HEAD");
    return {Endpoint::models, {}, {}, {}, {}};
  }
  const auto& model = seg[3];
  if (seg.size() == 4) {
    only(get, "GET, HEAD");
    return {Endpoint::model, model, {}, {}, {}};
  }
  const auto& sub = seg[4];
  if (seg.size() == 5) {
    if (sub == "contributions") {
      only(method == "POST", "POST");
      return {Endpoint::contributions, model, {}, {}, {}};
    }
    if (sub == "merge") {
      only(method == "POST", "POST");
      return {Endpoint::merge, model, {}, {}, {}};
    }
    if (sub == "policy") {
      only(get || method == "PATCH", "GET, HEAD, PATCH");
      return {Endpoint::policy, model, {}, {}, {}};
    }
    if (sub == "events") {
      only(method == "GET", "GET");
      return {Endpoint::model_events, model, {}, {}, {}};
    }
    throw not_found();
  }
  if (sub == "versions" && seg.size() == 6) {
    only(get, "GET, HEAD");
    return {Endpoint::version_status, model, seg[5], {}, {}};
  }
  if (sub == "versions" && seg.size() == 7 && seg[6] == "package") {
    only(get, "GET, HEAD");
    return {Endpoint::package, model, seg[5], {}, {}};
  }
  throw not_found();
}

}  // namespace fedhub::http
