// Validation of one incoming update (a flat delta) before it is aggregated.
//
// Checks, in this order:
//   size        delta.size() != expected parameter count  -> code "size_mismatch"
//   finiteness  any NaN or +-Inf                           -> code "non_finite" (message names the first index)
//   norm bound  ||delta||_2 > norm_bound (when bound > 0)   -> code "norm_exceeded" (on_exceed = reject), or
//               the delta is scaled in place to norm_bound, code "ok", clipped = true (on_exceed = clip)
// An accepted update has code "ok". The result always carries the L2 norm
// measured before any clipping (0 for size_mismatch; NaN for non_finite).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace fedhub::federation {

struct UpdateLimits {
  double norm_bound = 0;  // maximum L2 norm of a delta; 0 = no bound
  enum OnExceed { reject, clip } on_exceed = reject;
};

inline constexpr std::string_view kUpdateOk = "ok";
inline constexpr std::string_view kUpdateSizeMismatch = "size_mismatch";
inline constexpr std::string_view kUpdateNonFinite = "non_finite";
inline constexpr std::string_view kUpdateNormExceeded = "norm_exceeded";

struct ValidationResult {
  std::string code;      // one of the kUpdate* codes above
  std::string message;   // one sentence for the contributor; empty when ok and not clipped
  double norm = 0;       // L2 norm before clipping
  bool clipped = false;  // the delta was scaled down to the bound

  bool ok() const { return code == kUpdateOk; }
};

// Validates (and with on_exceed = clip, clips in place) one delta of
// expected_count values. Never throws for bad data (only for a negative or
// non-finite norm_bound: std::invalid_argument).
ValidationResult validate_update(std::span<float> delta, int64_t expected_count, const UpdateLimits& limits);

// The same checks without modifying the delta: an over-bound delta with
// on_exceed = clip reports code "ok", clipped = true (it would be clipped).
ValidationResult check_update(std::span<const float> delta, int64_t expected_count, const UpdateLimits& limits);

}  // namespace fedhub::federation
