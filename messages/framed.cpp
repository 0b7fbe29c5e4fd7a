#include "messages/framed.hpp"

#include <bit>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "messages/errors.hpp"

namespace fedhub {

static_assert(std::endian::native == std::endian::little,
              "framed buffers hold little-endian values and are read in place");

namespace {

[[noreturn]] void fail(std::string_view what, const std::string& problem) {
  throw RequestError(ErrorCode::bad_request, std::string(what) + ": " + problem);
}

uint32_t read_u32_le(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | uint32_t{u[1]} << 8 | uint32_t{u[2]} << 16 | uint32_t{u[3]} << 24;
}

// A printable view of 4 bytes ('?' for the others).
std::string printable4(const char* p) {
  std::string s(p, 4);
  for (char& c : s)
    if (c < 32 || c > 126) c = '?';
  return s;
}

// The magic and the header size of `bytes` (at least 8 of them), checked.
uint32_t checked_header_size(std::span<const char> bytes, std::string_view what) {
  if (!has_frame_magic(bytes)) {
    // A bare FlatBuffer carries its identifier at offset 4: name it.
    const std::string id = buffer_identifier(bytes);
    if (id.size() == 4 && id.rfind("FH", 0) == 0 && id.find('?') == std::string::npos)
      fail(what,
           "this is a bare '" + id + "' FlatBuffer, not a framed buffer (magic 'FHFB'); it holds no data section");
    fail(what, "the buffer does not start with the magic 'FHFB' (found '" + printable4(bytes.data()) +
                   "'): not a framed buffer");
  }
  const uint32_t h = read_u32_le(bytes.data() + 4);
  if (h < kMinFrameHeaderBytes || h > kMaxFrameHeaderBytes)
    fail(what, "the frame declares a header of " + std::to_string(h) + " bytes, outside the allowed " +
                   std::to_string(kMinFrameHeaderBytes) + " to " + std::to_string(kMaxFrameHeaderBytes));
  return h;
}

// The padding bytes after the header that `bytes` holds must be zero.
void check_padding(std::span<const char> bytes, uint32_t header_size, uint64_t data_offset, std::string_view what) {
  const uint64_t begin = kFrameFixedBytes + header_size;
  const uint64_t end = std::min<uint64_t>(data_offset, bytes.size());
  for (uint64_t i = begin; i < end; ++i)
    if (bytes[i] != 0) fail(what, "the padding after the header is not zero (at offset " + std::to_string(i) + ")");
}

}  // namespace

uint64_t frame_data_offset(uint32_t header_size) {
  const uint64_t end = kFrameFixedBytes + header_size;
  return (end + kFrameDataAlignment - 1) / kFrameDataAlignment * kFrameDataAlignment;
}

bool has_frame_magic(std::span<const char> bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), kFrameMagic, 4) == 0;
}

Buffer frame_prefix(const flatbuffers::FlatBufferBuilder& finished) {
  return frame_prefix(
      std::span<const char>(reinterpret_cast<const char*>(finished.GetBufferPointer()), finished.GetSize()));
}

Buffer frame_prefix(std::span<const char> flatbuffer) { return make_frame(flatbuffer, {}); }

Buffer make_frame(std::span<const char> flatbuffer, std::span<const char> data) {
  if (flatbuffer.size() < kMinFrameHeaderBytes || flatbuffer.size() > kMaxFrameHeaderBytes)
    throw std::length_error("framed buffer: a header of " + std::to_string(flatbuffer.size()) +
                            " bytes is outside the allowed " + std::to_string(kMinFrameHeaderBytes) + " to " +
                            std::to_string(kMaxFrameHeaderBytes));
  const auto h = static_cast<uint32_t>(flatbuffer.size());
  const uint64_t data_offset = frame_data_offset(h);
  Buffer out;
  out.reserve(data_offset + data.size());
  out.resize(data_offset, 0);  // the padding stays zero
  std::memcpy(out.data(), kFrameMagic, 4);
  for (int i = 0; i < 4; ++i) out[4 + static_cast<size_t>(i)] = static_cast<char>((h >> (8 * i)) & 0xff);
  std::memcpy(out.data() + kFrameFixedBytes, flatbuffer.data(), flatbuffer.size());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::optional<uint64_t> frame_prefix_size(std::span<const char> first_bytes, std::string_view what) {
  if (first_bytes.size() < kFrameFixedBytes) {
    // What there is must still be the start of the magic.
    if (!first_bytes.empty() &&
        std::memcmp(first_bytes.data(), kFrameMagic, std::min<size_t>(first_bytes.size(), 4)) != 0)
      fail(what, "the buffer does not start with the magic 'FHFB': not a framed buffer");
    return std::nullopt;
  }
  return frame_data_offset(checked_header_size(first_bytes, what));
}

FramePrefix read_frame_prefix(std::span<const char> bytes, std::string_view what) {
  if (bytes.size() < kFrameFixedBytes)
    fail(what, "the buffer is too short for a frame (" + std::to_string(bytes.size()) + " bytes, at least 8 needed)");
  const uint32_t h = checked_header_size(bytes, what);
  if (kFrameFixedBytes + h > bytes.size())
    fail(what, "the header of " + std::to_string(h) + " bytes ends past the end of the " +
                   std::to_string(bytes.size()) + " bytes given (it needs " + std::to_string(kFrameFixedBytes + h) +
                   ")");
  FramePrefix p;
  p.header = bytes.subspan(kFrameFixedBytes, h);
  p.data_offset = frame_data_offset(h);
  check_padding(bytes, h, p.data_offset, what);
  return p;
}

Frame split_frame(std::span<const char> whole, uint64_t declared_data_bytes, std::string_view what) {
  const FramePrefix p = read_frame_prefix(whole, what);
  if (declared_data_bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - p.data_offset)
    fail(what, "the header declares " + std::to_string(declared_data_bytes) +
                   " bytes of data, more than any buffer can hold");
  const uint64_t expected = p.data_offset + declared_data_bytes;
  if (whole.size() < expected)
    fail(what, "the buffer is truncated: it has " + std::to_string(whole.size()) + " bytes, its header declares " +
                   std::to_string(expected) + " (a " + std::to_string(declared_data_bytes) +
                   "-byte data section at offset " + std::to_string(p.data_offset) + ")");
  if (whole.size() > expected)
    fail(what, "the buffer has " + std::to_string(whole.size() - expected) + " bytes after its data section (it has " +
                   std::to_string(whole.size()) + " bytes, its header declares " + std::to_string(expected) + ")");
  Frame f;
  f.header = p.header;
  f.data_offset = p.data_offset;
  f.data = whole.subspan(p.data_offset, declared_data_bytes);
  return f;
}

}  // namespace fedhub
