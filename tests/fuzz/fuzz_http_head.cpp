// A request head as the HTTP door reads it: Boost.Beast's request_parser
// with the server's settings (http/server.cpp: header_limit max_head_bytes,
// 16 KiB by default; no body limit; buffer_body), then what the server does
// with a parsed head: route() on its method and target, parse_range() on its
// Range header, the body's framing (Content-Length or chunked).
// http/server.cpp is not linked (it needs the hub's client and CAF): the
// parser is configured here the same way.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>
#include <limits>

#include "fuzz_support.hpp"
#include "http/byte_range.hpp"
#include "http/http_error.hpp"
#include "http/route.hpp"

using namespace fedhub;
namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bhttp::request_parser<bhttp::buffer_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(std::numeric_limits<uint64_t>::max());
  boost::beast::error_code ec;
  size_t at = 0;
  while (at < size && !parser.is_header_done()) {
    const size_t n = parser.put(boost::asio::buffer(data + at, size - at), ec);
    if (ec || n == 0) break;
    at += n;
  }
  if (ec || !parser.is_header_done()) return 0;
  const auto& req = parser.get();
  fuzz::refused_ok<http::HttpError>(
      [&] { (void)http::route(std::string(req.method_string()), std::string(req.target())); });
  if (auto it = req.find(bhttp::field::range); it != req.end())
    fuzz::refused_ok<http::HttpError>([&] { (void)http::parse_range(std::string(it->value()), 123456789); });
  (void)parser.content_length();
  (void)parser.chunked();
  (void)req.keep_alive();
  return 0;
}
