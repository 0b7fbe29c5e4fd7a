#include "guard/basp_scanner.hpp"

#include <algorithm>

namespace fedhub::guard {

const char* name(BaspProblem problem) {
  switch (problem) {
    case BaspProblem::oversized_frame:
      return "oversized_frame";
    case BaspProblem::bad_operation:
      return "bad_operation";
    case BaspProblem::not_a_handshake:
      return "not_a_handshake";
  }
  return "unknown";
}

BaspScanner::BaspScanner(BaspLimits limits) : limits_(limits) {}

std::optional<BaspProblem> BaspScanner::check_header() {
  const unsigned operation = header_[0];
  last_announced_ =
      (uint64_t{header_[4]} << 24) | (uint64_t{header_[5]} << 16) | (uint64_t{header_[6]} << 8) | uint64_t{header_[7]};
  if (operation > 6) return BaspProblem::bad_operation;
  if (frames_ == 0) {
    if (operation != 1) return BaspProblem::not_a_handshake;
    if (last_announced_ > limits_.max_handshake_payload) return BaspProblem::oversized_frame;
  } else if (operation <= 1 && last_announced_ > limits_.max_handshake_payload) {
    return BaspProblem::oversized_frame;  // a later handshake frame is as small as the first
  }
  if (last_announced_ > limits_.max_payload) return BaspProblem::oversized_frame;
  return std::nullopt;
}

std::optional<BaspProblem> BaspScanner::feed(std::span<const char> bytes) {
  size_t at = 0;
  while (!problem_ && at < bytes.size()) {
    if (in_payload_) {
      const uint64_t take = std::min<uint64_t>(payload_left_, bytes.size() - at);
      payload_left_ -= take;
      at += take;
      if (payload_left_ == 0) {
        in_payload_ = false;
        ++frames_;
      }
      continue;
    }
    const size_t take = std::min(kBaspHeaderSize - header_have_, bytes.size() - at);
    std::copy_n(bytes.data() + at, take, reinterpret_cast<char*>(header_) + header_have_);
    header_have_ += take;
    at += take;
    if (header_have_ < kBaspHeaderSize) break;
    header_have_ = 0;
    problem_ = check_header();
    if (problem_) break;
    payload_left_ = last_announced_;
    if (payload_left_ == 0)
      ++frames_;
    else
      in_payload_ = true;
  }
  return problem_;
}

}  // namespace fedhub::guard
