// Framed buffers: a small FlatBuffer header followed by raw data. Model
// packages ("FHMP" headers) and contribution files ("FHCT" headers) travel
// and are stored this way (the layout is documented in
// schemas/model_package.fbs):
//
//   offset 0           "FHFB"
//   offset 4           u32 LE H, the size of the FlatBuffer header
//   offset 8           the FlatBuffer header (H bytes), then zero bytes
//   data_offset        the data section (the header's data_bytes), where
//                      data_offset = round_up(8 + H, 64)
//
// The FlatBuffer header stays small (the weights are not in it), so the 2 GiB
// limit of FlatBuffers applies to headers only; a data section may be any size.
// A buffer kept 16-byte aligned in memory (a std::vector<char>, a
// DownloadChunk's data) has its header 8-byte aligned, as verify_root()
// needs, and its data section 16-byte aligned (floats can be read in place).
//
// The readers below check the frame only (magic, sizes, padding); the header
// itself is verified by the caller with verify_root() for its root type, and
// data_hash by the caller too (checksum.hpp). Every defect is a
// RequestError(bad_request) whose message begins with `what` (e.g. "model
// package") and names the defect.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "messages/buffer.hpp"

namespace fedhub {

inline constexpr char kFrameMagic[4] = {'F', 'H', 'F', 'B'};
// Magic and header size.
inline constexpr uint64_t kFrameFixedBytes = 8;
// The data section starts at a multiple of this.
inline constexpr uint64_t kFrameDataAlignment = 64;
// Header sizes outside [kMinFrameHeaderBytes, kMaxFrameHeaderBytes] are
// refused before anything is read (the smallest FlatBuffer with an identifier
// is 8 bytes; 64 MiB is far more than any spec and tensor list needs).
inline constexpr uint32_t kMinFrameHeaderBytes = 8;
inline constexpr uint32_t kMaxFrameHeaderBytes = 64u << 20;

// round_up(8 + header_size, 64): where the data section of a frame whose
// header has header_size bytes starts. Also the size of its prefix.
uint64_t frame_data_offset(uint32_t header_size);

// Whether `bytes` starts with the magic "FHFB".
bool has_frame_magic(std::span<const char> bytes);

// The prefix of a framed buffer: magic, size, the finished FlatBuffer and
// zero padding up to the data offset, so that prefix followed by the data
// section is the framed buffer. Throws std::length_error when the FlatBuffer
// exceeds kMaxFrameHeaderBytes (a programming error: headers hold no data).
Buffer frame_prefix(const flatbuffers::FlatBufferBuilder& finished);
Buffer frame_prefix(std::span<const char> flatbuffer);

// A whole framed buffer: frame_prefix(flatbuffer) followed by `data`, in one
// allocation. The caller makes `data` the header's data section.
Buffer make_frame(std::span<const char> flatbuffer, std::span<const char> data);

// How many bytes the prefix (magic, size, header, padding) of a framed buffer
// takes, from its first bytes: nullopt when fewer than 8 bytes are given (read
// more; a start that cannot be the magic is refused at once), else
// frame_data_offset(H). Lets a downloader know how much it needs
// before it can read the header. Throws RequestError(bad_request) on a wrong
// magic or a header size out of range.
std::optional<uint64_t> frame_prefix_size(std::span<const char> first_bytes, std::string_view what = "framed buffer");

// The start of a framed buffer.
struct FramePrefix {
  std::span<const char> header;  // the FlatBuffer header (H bytes), inside the given span
  uint64_t data_offset = 0;      // where the data section starts
};

// Reads the magic, the header size and the header from `bytes`, which may be
// the whole buffer or only its first bytes: they must hold at least the
// header (8 + H bytes); the padding bytes they hold must be zero. Throws
// RequestError(bad_request).
FramePrefix read_frame_prefix(std::span<const char> bytes, std::string_view what = "framed buffer");

// A whole framed buffer split into its parts.
struct Frame {
  std::span<const char> header;  // the FlatBuffer header
  std::span<const char> data;    // the data section, exactly the declared size
  uint64_t data_offset = 0;
};

// Splits a whole framed buffer whose header (already read with
// read_frame_prefix() and verified) declares `declared_data_bytes`: checks
// that the buffer is exactly data_offset + declared_data_bytes long (neither
// truncated nor followed by extra bytes, and without overflow) and that the
// padding is zero. Throws RequestError(bad_request).
Frame split_frame(std::span<const char> whole, uint64_t declared_data_bytes, std::string_view what = "framed buffer");

}  // namespace fedhub
