// The HTTP door's pure request parts (http/route.hpp, http/byte_range.hpp):
// route() on a method and target (percent-decoding, path tricks refused
// with 400, 404, 405), decode_segment, and parse_range on a Range header for
// a package of a size taken from the input.
//
// Input: u64 package size, then "METHOD TARGET\nRANGE".
#include "fuzz_support.hpp"
#include "http/byte_range.hpp"
#include "http/http_error.hpp"
#include "http/route.hpp"

using namespace fedhub;

namespace {

// A decoded segment holds none of the characters route() refuses.
void check_segment(const std::string& s) {
  if (s.empty() || s == "." || s == "..") __builtin_trap();
  for (unsigned char c : s)
    if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  const uint64_t total = in.u64() % (uint64_t{1} << 40);
  const std::string rest = in.rest();
  const size_t nl = rest.find('\n');
  const std::string line = rest.substr(0, nl);
  const std::string range = nl == std::string::npos ? std::string() : rest.substr(nl + 1);
  const size_t sp = line.find(' ');
  const std::string method = line.substr(0, sp);
  const std::string target = sp == std::string::npos ? std::string() : line.substr(sp + 1);

  fuzz::refused_ok<http::HttpError>([&] {
    const http::Route r = http::route(method, target);
    if (!r.model.empty()) check_segment(r.model);
    if (!r.name.empty()) check_segment(r.name);
    if (!r.file.empty()) check_segment(r.file);
  });
  fuzz::refused_ok<http::HttpError>([&] { (void)http::decode_segment(target); });
  fuzz::refused_ok<http::HttpError>([&] {
    if (const auto r = http::parse_range(range, total); r && (r->begin >= r->end || r->end > total))
      __builtin_trap();  // a served range is non-empty and inside the package
  });
  return 0;
}
