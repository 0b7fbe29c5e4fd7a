#include "federation/validation.hpp"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace fedhub::federation {
namespace {

// As aggregate.cpp: chunks of 8192 values (32 KiB per input, L1/L2-sized),
// all threads from 65536 values on.
constexpr int64_t kChunk = 8192;
constexpr int64_t kParallelMin = 1 << 16;

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

bool overlaps(std::span<const float> a, std::span<const float> b) {
  if (a.empty() || b.empty()) return false;
  const std::less<const float*> lt;
  return lt(a.data(), b.data() + b.size()) && lt(b.data(), a.data() + a.size());
}

// The largest float32 <= max_abs (FLT_MAX for no bound), so that for every
// float v, |v| <= limit exactly when |v| <= max_abs; NaN and +-Inf fail the
// test too.
float float_limit(double max_abs) {
  if (max_abs <= 0 || max_abs >= static_cast<double>(FLT_MAX)) return FLT_MAX;
  float f = static_cast<float>(max_abs);
  if (static_cast<double>(f) > max_abs) f = std::nextafter(f, 0.0f);
  return f;
}

// One chunk: returns true when every value is within the limit and every
// delta finite; s = the sum of the squared deltas (meaningless otherwise).
// Plain loop without __restrict: out may be v or b.
template <bool kWrite>
bool scan(const float* v, const float* b, float* out, int64_t len, float limit, double& s) {
  int bad = 0;
  double sum = 0;
#pragma omp simd reduction(+ : sum) reduction(| : bad)
  for (int64_t i = 0; i < len; ++i) {
    const float vi = v[i];
    const float d = vi - b[i];
    bad |= static_cast<int>(!(std::fabs(vi) <= limit)) | static_cast<int>(!(std::fabs(d) <= FLT_MAX));
    if constexpr (kWrite) out[i] = d;
    sum += static_cast<double>(d) * static_cast<double>(d);
  }
  s = sum;
  return bad == 0;
}

}  // namespace

PartCheck check_part(std::span<const float> values, std::span<const float> base, double max_abs,
                     std::span<float> delta_out) {
  if (base.size() != values.size())
    throw std::invalid_argument("check_part: " + std::to_string(values.size()) + " values but " +
                                std::to_string(base.size()) + " base values");
  const bool write = !delta_out.empty();
  if (write && delta_out.size() != values.size())
    throw std::invalid_argument("check_part: " + std::to_string(values.size()) + " values but room for " +
                                std::to_string(delta_out.size()) + " deltas");
  if (write && ((delta_out.data() != values.data() && overlaps(delta_out, values)) ||
                (delta_out.data() != base.data() && overlaps(delta_out, base))))
    throw std::invalid_argument("check_part: the delta output partially overlaps the values or the base");
  if (std::isnan(max_abs)) throw std::invalid_argument("check_part: max_abs is NaN");
  const float limit = float_limit(max_abs);
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  const float* v = values.data();
  const float* b = base.data();
  float* out = delta_out.data();
  // The first chunk known to hold a bad value: later chunks are skipped.
  std::atomic<int64_t> bad_chunk{chunks};
  // Each chunk's sum of squared deltas, added in chunk order once all are in:
  // delta_squared is bit-identical whatever the thread count and scheduling
  // (one double per 8192 values of scratch).
  std::vector<double> partial(static_cast<size_t>(chunks));
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t c = 0; c < chunks; ++c) {
    if (c > bad_chunk.load(std::memory_order_relaxed)) continue;
    const int64_t lo = c * kChunk;
    const int64_t len = std::min(kChunk, n - lo);
    double s = 0;
    const bool good = write ? scan<true>(v + lo, b + lo, out + lo, len, limit, s)
                            : scan<false>(v + lo, b + lo, nullptr, len, limit, s);
    if (good) {
      partial[static_cast<size_t>(c)] = s;
      continue;
    }
    int64_t seen = bad_chunk.load(std::memory_order_relaxed);
    while (c < seen && !bad_chunk.compare_exchange_weak(seen, c, std::memory_order_relaxed)) {
    }
  }
  PartCheck r;
  const int64_t bc = bad_chunk.load();
  if (bc == chunks) {
    double total = 0;
    for (const double s : partial) total += s;
    r.delta_squared = total;
    return r;
  }
  // Every chunk before bc was scanned and is clean: find the first bad index in bc.
  const int64_t lo = bc * kChunk;
  const int64_t hi = std::min(n, lo + kChunk);
  for (int64_t i = lo; i < hi; ++i) {
    const float vi = v[i];
    if (!std::isfinite(vi)) {
      r.first_non_finite = i;
      return r;
    }
    if (!(std::fabs(vi) <= limit)) {
      r.first_over_bound = i;
      return r;
    }
    if (!std::isfinite(vi - b[i])) {
      r.first_non_finite = i;
      return r;
    }
  }
  r.first_non_finite = lo;  // not reached: the chunk's scan found a bad value
  return r;
}

NormDecision decide_norm(double delta_squared, const UpdateLimits& limits) {
  if (!(std::isfinite(limits.norm_bound) && limits.norm_bound >= 0))
    throw std::invalid_argument("UpdateLimits: norm_bound must be finite and >= 0, got " + fmt(limits.norm_bound));
  if (!(delta_squared >= 0))
    throw std::invalid_argument("decide_norm: the squared norm must be >= 0, got " + fmt(delta_squared));
  NormDecision d;
  d.norm = std::sqrt(delta_squared);
  if (limits.norm_bound > 0 && d.norm > limits.norm_bound) {
    if (limits.on_exceed == UpdateLimits::reject) {
      d.reject = true;
    } else {
      d.clip = true;
      const double s = limits.norm_bound / d.norm;  // in [0, 1)
      float f = static_cast<float>(s);
      if (static_cast<double>(f) > s) f = std::nextafter(f, 0.0f);
      d.scale = f;
    }
  }
  return d;
}

}  // namespace fedhub::federation
