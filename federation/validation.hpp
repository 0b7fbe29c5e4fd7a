// Validation of an incoming contribution, part by part, as its upload streams
// in (the hub receives a contribution's flat float32 values in parts of a few
// MiB, in layout order).
//
// For each part: check_part() checks the values (finite, |value| <= the
// model's bound), computes delta = value - base (the base version's weights
// at the same positions) and the delta's squared L2 norm, in one pass. The
// caller sums delta_squared over the parts; when the last part has arrived,
// decide_norm() turns the whole delta's squared norm into accept / clip /
// reject under the model's UpdateLimits. A clipped delta is scaled by
// NormDecision::scale before it is added (it must be assembled whole first:
// clipping needs the norm of every part).
#pragma once

#include <cstdint>
#include <span>

namespace fedhub::federation {

struct UpdateLimits {
  double norm_bound = 0;  // maximum L2 norm of a delta; 0 = no bound
  enum OnExceed { reject, clip } on_exceed = reject;
};

// What check_part found. At most one of the two indices is set (>= 0): the
// first bad value stops the scan, and it is reported as the first reason
// that applies, in this order: a non-finite value, a value over the bound,
// a non-finite delta (a finite in-bound value whose difference with the base
// overflows float32, or a non-finite base value: first_non_finite).
struct PartCheck {
  int64_t first_non_finite = -1;  // index in the part of the first NaN / +-Inf, or -1
  int64_t first_over_bound = -1;  // index in the part of the first |value| > max_abs, or -1
  double delta_squared = 0;       // sum_i (values[i] - base[i])^2 in double; undefined when an index is set

  bool ok() const { return first_non_finite < 0 && first_over_bound < 0; }
};

// One pass over a part: for each i, checks that values[i] is finite and
// |values[i]| <= max_abs (max_abs <= 0: no bound; compared exactly, in
// double), writes delta_out[i] = values[i] - base[i] (float32) unless
// delta_out is empty, and accumulates delta_out[i]^2 in double. Stops at the
// first bad value (see PartCheck); delta_out's contents are then unspecified.
// delta_out may be exactly values or exactly base (same data pointer: the
// delta computed in place). Large parts are processed by all OpenMP threads
// in chunks of 8192 values whose sums are added in chunk order: delta_squared
// is bit-identical whatever the thread count (for the same part and build).
// Throws std::invalid_argument when base's size differs from values', a
// non-empty delta_out's size differs, delta_out partially overlaps values or
// base, or max_abs is NaN; nothing is written then.
PartCheck check_part(std::span<const float> values, std::span<const float> base, double max_abs,
                     std::span<float> delta_out);

// The norm decision for a whole delta of squared L2 norm delta_squared (the
// sum of its parts' PartCheck::delta_squared).
struct NormDecision {
  bool reject = false;  // norm > bound with on_exceed = reject: refuse the contribution (norm_exceeded)
  bool clip = false;    // norm > bound with on_exceed = clip: scale the delta by `scale` before adding it
  float scale = 1;      // bound / norm rounded down to float32 (so the scaled norm does not exceed the bound); else 1
  double norm = 0;      // sqrt(delta_squared), before any clipping
};

// norm = sqrt(delta_squared); with limits.norm_bound > 0 and norm >
// norm_bound: reject or clip (per limits.on_exceed); otherwise accepted
// as is. Throws std::invalid_argument for a negative or NaN delta_squared or
// a norm_bound that is negative or not finite.
NormDecision decide_norm(double delta_squared, const UpdateLimits& limits);

}  // namespace fedhub::federation
