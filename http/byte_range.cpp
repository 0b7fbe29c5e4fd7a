#include "http/byte_range.hpp"

#include <charconv>
#include <string>

#include "http/http_error.hpp"

namespace fedhub::http {

namespace {

std::optional<uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<ByteRange> parse_range(std::string_view h, uint64_t total) {
  if (h.empty()) return std::nullopt;
  if (h.substr(0, 6) != "bytes=") return std::nullopt;
  h.remove_prefix(6);
  if (h.find(',') != std::string_view::npos) return std::nullopt;  // several ranges: the whole package
  const auto dash = h.find('-');
  auto unsatisfiable = [&] {
    return HttpError(416, "bad_request",
                     "Range '" + std::string(h) + "' is outside the " + std::to_string(total) + "-byte package",
                     {{"Content-Range", "bytes */" + std::to_string(total)}});
  };
  if (dash == std::string_view::npos) throw unsatisfiable();
  const auto first = h.substr(0, dash), last = h.substr(dash + 1);
  if (first.empty()) {  // the last N bytes
    auto n = number(last);
    if (!n || *n == 0 || total == 0) throw unsatisfiable();
    return ByteRange{total - std::min(*n, total), total};
  }
  auto a = number(first);
  if (!a || *a >= total) throw unsatisfiable();
  if (last.empty()) return ByteRange{*a, total};
  auto b = number(last);
  if (!b || *b < *a) throw unsatisfiable();
  return ByteRange{*a, std::min(*b + 1, total)};
}

}  // namespace fedhub::http
