// Reads the frames of CAF's binary protocol (BASP, CAF 0.17) as a peer sends
// them, without buffering them, to refuse a connection before CAF's
// middleman trusts what it announces.
//
// Every BASP frame is a 32-byte header followed by `payload_len` bytes:
//
//   offset  size  field (integers big-endian)
//   0       1     operation: 0 server_handshake, 1 client_handshake,
//                 2 direct_message, 3 routed_message, 4 monitor_message,
//                 5 down_message, 6 heartbeat
//   1       2     padding
//   3       1     flags
//   4       4     payload_len
//   8       8     operation_data
//   16      8     source_actor
//   24      8     dest_actor
//
// (caf/io/basp/header.hpp; serialised by CAF's binary serializer in network
// byte order.) CAF 0.17 reserves and fills `payload_len` bytes for a frame
// before any check of who sent it; a scanner in front refuses a frame that
// announces more than the limit, any operation but the ones above, and a
// connection whose first frame is not the client's handshake:
//
//   BaspScanner scan({.max_payload = 64 << 20});
//   if (auto problem = scan.feed(bytes)) close_connection(*problem);
//   else forward(bytes);
//
// Depends on nothing but the standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace fedhub::guard {

constexpr size_t kBaspHeaderSize = 32;

struct BaspLimits {
  // The largest payload a frame may announce.
  uint64_t max_payload = 64ull << 20;
  // The largest payload of the client's handshake (its node id and
  // application identifiers: a few hundred bytes in practice).
  uint64_t max_handshake_payload = 64ull << 10;
};

// Why a stream was refused.
enum class BaspProblem {
  oversized_frame,  // a payload over the limit was announced
  bad_operation,    // an operation code BASP does not have
  not_a_handshake,  // the first frame is not a client handshake
};

// The name used in metrics and messages: "oversized_frame", ...
const char* name(BaspProblem problem);

class BaspScanner {
 public:
  explicit BaspScanner(BaspLimits limits = {});

  // Scans the next bytes of the stream (any split: a header may arrive in
  // pieces). Returns the first problem; once a problem is found every later
  // call returns it too. Bytes before the offending header were valid.
  std::optional<BaspProblem> feed(std::span<const char> bytes);

  // Whether the client's handshake frame has arrived whole.
  bool handshake_done() const { return frames_ > 0; }
  // Complete frames seen.
  uint64_t frames() const { return frames_; }
  // The payload length of the last header read (for messages).
  uint64_t last_announced() const { return last_announced_; }

 private:
  std::optional<BaspProblem> check_header();

  BaspLimits limits_;
  unsigned char header_[kBaspHeaderSize] = {};
  size_t header_have_ = 0;
  uint64_t payload_left_ = 0;
  bool in_payload_ = false;
  uint64_t frames_ = 0;
  uint64_t last_announced_ = 0;
  std::optional<BaspProblem> problem_;
};

}  // namespace fedhub::guard
