// The Range header of a download (RFC 9110, section 14): one range of
// bytes, "bytes=A-B", "bytes=A-" or "bytes=-N". Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace fedhub::http {

struct ByteRange {
  uint64_t begin = 0;
  uint64_t end = 0;  // one past the last byte
};

// The range a header asks for in a package of `total` bytes: nullopt for
// the whole package (no header, or one this door does not serve partially:
// several ranges, another unit; RFC 9110 lets a server ignore those).
// Throws HttpError(416) for a range outside the package, with a
// Content-Range "bytes */TOTAL" header.
std::optional<ByteRange> parse_range(std::string_view header, uint64_t total);

}  // namespace fedhub::http
