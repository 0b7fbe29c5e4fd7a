#include "federation/validation.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "federation/aggregate.hpp"

namespace fedhub::federation {
namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

ValidationResult check_impl(std::span<const float> delta, int64_t expected_count, const UpdateLimits& limits) {
  if (!(std::isfinite(limits.norm_bound) && limits.norm_bound >= 0))
    throw std::invalid_argument("UpdateLimits: norm_bound must be finite and >= 0, got " + fmt(limits.norm_bound));
  ValidationResult r;
  if (static_cast<int64_t>(delta.size()) != expected_count) {
    r.code = kUpdateSizeMismatch;
    r.message =
        "update has " + std::to_string(delta.size()) + " values, the model has " + std::to_string(expected_count);
    return r;
  }
  if (const int64_t bad = first_non_finite(delta); bad >= 0) {
    r.code = kUpdateNonFinite;
    r.norm = std::numeric_limits<double>::quiet_NaN();
    r.message = "update holds a non-finite value (" + fmt(delta[static_cast<size_t>(bad)]) + ") at index " +
                std::to_string(bad);
    return r;
  }
  r.norm = l2_norm(delta);
  r.code = kUpdateOk;
  if (limits.norm_bound > 0 && r.norm > limits.norm_bound) {
    if (limits.on_exceed == UpdateLimits::reject) {
      r.code = kUpdateNormExceeded;
      r.message = "update norm " + fmt(r.norm) + " exceeds the bound " + fmt(limits.norm_bound);
    } else {
      r.clipped = true;
      r.message = "update norm " + fmt(r.norm) + " clipped to the bound " + fmt(limits.norm_bound);
    }
  }
  return r;
}

}  // namespace

ValidationResult check_update(std::span<const float> delta, int64_t expected_count, const UpdateLimits& limits) {
  return check_impl(delta, expected_count, limits);
}

ValidationResult validate_update(std::span<float> delta, int64_t expected_count, const UpdateLimits& limits) {
  ValidationResult r = check_impl(delta, expected_count, limits);
  if (r.clipped) scale(delta, static_cast<float>(limits.norm_bound / r.norm));
  return r;
}

}  // namespace fedhub::federation
