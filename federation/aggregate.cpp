#include "federation/aggregate.hpp"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace fedhub::federation {
namespace {

using ArrayMap = Eigen::Map<Eigen::ArrayXf>;
using ConstArrayMap = Eigen::Map<const Eigen::ArrayXf>;

// Tile of weighted_sum: 16384 floats = 64 KiB, stays in L2 (and mostly L1)
// while every delta's slice streams through it. Measured on the 2-core Zen
// machine (10 x 10M and 100 x 1M): 2 Ki floats 54-71 GB/s, 4 Ki 64-69,
// 8 Ki 66-78, 16 Ki 67-81; groups of 8 deltas were slower than 4.
constexpr int64_t kTile = 16384;
// Chunk of the element-wise kernels (Eigen expressions evaluated per chunk, so
// a multi-statement update runs on L1/L2-resident data).
constexpr int64_t kChunk = 8192;
// Below this many elements a kernel runs on the calling thread only.
constexpr int64_t kParallelMin = 1 << 16;
// Chunk of the floating-point reductions (l2_norm, squared_distance): each
// chunk's sum is computed by one thread and written to its slot, then the
// slots are added on the calling thread in chunk order, so the result is
// bit-identical whatever the thread count and scheduling (one double of
// scratch per 64 Ki values).
constexpr int64_t kSumChunk = 1 << 16;
// weighted_sum writes acc with non-temporal stores from this size on (larger
// than a share of L3: the result would be evicted before it is read again).
constexpr int64_t kStreamMinBytes = int64_t{16} << 20;

void check_same_size(size_t a, size_t b, const char* what) {
  if (a != b)
    throw std::invalid_argument(std::string(what) + ": size mismatch, " + std::to_string(a) + " vs " +
                                std::to_string(b) + " values");
}

// Runs fn(lo, len) over [0, n) in chunks of `chunk`, on all threads when n is large.
template <class Fn>
void for_chunks(int64_t n, int64_t chunk, Fn&& fn) {
  const int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t lo = c * chunk;
    fn(lo, std::min(chunk, n - lo));
  }
}

// dst[i] = (base ? base[i] : 0) + sum_g c[g] * p[g][lo + i] for G deltas,
// i in [0, len). dst may be base (in place); the deltas alias neither.
template <int G>
inline void fused(float* dst, const float* base, const float* const* p, const float* c, int64_t lo, int64_t len) {
  const float* __restrict p0 = p[0] + lo;
  const float* __restrict p1 = p[G > 1 ? 1 : 0] + lo;
  const float* __restrict p2 = p[G > 2 ? 2 : 0] + lo;
  const float* __restrict p3 = p[G > 3 ? 3 : 0] + lo;
  const float c0 = c[0], c1 = G > 1 ? c[1] : 0.0f, c2 = G > 2 ? c[2] : 0.0f, c3 = G > 3 ? c[3] : 0.0f;
  auto term = [&](int64_t i) {
    if constexpr (G == 1) return c0 * p0[i];
    if constexpr (G == 2) return c0 * p0[i] + c1 * p1[i];
    if constexpr (G == 3) return c0 * p0[i] + c1 * p1[i] + c2 * p2[i];
    if constexpr (G == 4) return (c0 * p0[i] + c1 * p1[i]) + (c2 * p2[i] + c3 * p3[i]);
  };
  if (base) {
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) dst[i] = base[i] + term(i);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) dst[i] = term(i);
  }
}

inline void fused_group(int64_t g, float* dst, const float* base, const float* const* p, const float* c, int64_t lo,
                        int64_t len) {
  switch (g) {
    case 1:
      fused<1>(dst, base, p, c, lo, len);
      break;
    case 2:
      fused<2>(dst, base, p, c, lo, len);
      break;
    case 3:
      fused<3>(dst, base, p, c, lo, len);
      break;
    default:
      fused<4>(dst, base, p, c, lo, len);
      break;
  }
}

// dst[0, len) = src[0, len); dst 64-byte aligned. Non-temporal where possible.
inline void stream_copy(float* dst, const float* src, int64_t len) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= len; i += 16) _mm512_stream_ps(dst + i, _mm512_load_ps(src + i));
#elif defined(__AVX__)
  for (; i + 8 <= len; i += 8) _mm256_stream_ps(dst + i, _mm256_load_ps(src + i));
#elif defined(__SSE2__)
  for (; i + 4 <= len; i += 4) _mm_stream_ps(dst + i, _mm_load_ps(src + i));
#endif
  for (; i < len; ++i) dst[i] = src[i];
}

inline void stream_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

bool aligned64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

// Sum of squares of x[0, len) in double (float partial sums per 16-wide lane
// block are not used: the accumulation is double throughout).
double sum_squares(const float* x, int64_t len) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < len; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return s;
}

// sum_i (a_i - b_i)^2 over [0, len) in double.
double sum_squared_diff(const float* a, const float* b, int64_t len) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < len; ++i) {
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    s += d * d;
  }
  return s;
}

// sum over the chunks [lo, lo + len) of [0, n) (kSumChunk values each) of
// partial(lo, len), in a fixed order: the chunks' partial sums are computed
// in parallel into one slot each, then added sequentially in chunk order
// (the same operations whatever the thread count).
template <class Fn>
double chunked_sum(int64_t n, Fn&& partial) {
  const int64_t chunks = (n + kSumChunk - 1) / kSumChunk;
  std::vector<double> part(static_cast<size_t>(chunks));
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t lo = c * kSumChunk;
    part[static_cast<size_t>(c)] = partial(lo, std::min(kSumChunk, n - lo));
  }
  double s = 0.0;
  for (const double p : part) s += p;
  return s;
}

void check_deltas(std::span<const std::span<const float>> deltas, size_t n, const char* what) {
  for (size_t k = 0; k < deltas.size(); ++k)
    if (deltas[k].size() != n)
      throw std::invalid_argument(std::string(what) + ": delta " + std::to_string(k) + " has " +
                                  std::to_string(deltas[k].size()) + " values, expected " + std::to_string(n));
}

// For each coordinate of [0, n): gathers the K values into a contiguous row
// and calls fn(row, K) -> float, writing the result to out. Tiles of 256
// coordinates keep the K x 256 gather buffer in L1/L2.
template <class Fn>
void per_coordinate(std::span<float> out, std::span<const std::span<const float>> deltas, Fn&& fn) {
  const int64_t n = static_cast<int64_t>(out.size());
  const int64_t k = static_cast<int64_t>(deltas.size());
  constexpr int64_t kCoordTile = 256;
  const int64_t tiles = (n + kCoordTile - 1) / kCoordTile;
#pragma omp parallel if (n * k >= kParallelMin)
  {
    std::vector<float> buf(static_cast<size_t>(kCoordTile * k));
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t lo = t * kCoordTile;
      const int64_t len = std::min(kCoordTile, n - lo);
      for (int64_t j = 0; j < k; ++j) {
        const float* src = deltas[static_cast<size_t>(j)].data() + lo;
        for (int64_t i = 0; i < len; ++i) buf[static_cast<size_t>(i * k + j)] = src[i];
      }
      for (int64_t i = 0; i < len; ++i) out[static_cast<size_t>(lo + i)] = fn(buf.data() + i * k, k);
    }
  }
}

}  // namespace

// ---------------------------------------------------------------- mean-based

void weighted_sum(std::span<float> acc, std::span<const std::span<const float>> deltas, std::span<const float> coefs,
                  bool overwrite) {
  if (deltas.size() != coefs.size())
    throw std::invalid_argument("weighted_sum: " + std::to_string(deltas.size()) + " deltas but " +
                                std::to_string(coefs.size()) + " coefficients");
  check_deltas(deltas, acc.size(), "weighted_sum");
  const int64_t n = static_cast<int64_t>(acc.size());
  const int64_t k_total = static_cast<int64_t>(deltas.size());
  if (k_total == 0) {
    if (overwrite) std::fill(acc.begin(), acc.end(), 0.0f);
    return;
  }
  std::vector<const float*> ptrs(deltas.size());
  for (size_t k = 0; k < deltas.size(); ++k) ptrs[k] = deltas[k].data();
  const float* c = coefs.data();
  const bool stream = overwrite && n * 4 >= kStreamMinBytes && aligned64(acc.data());
  const int64_t tiles = (n + kTile - 1) / kTile;
  const int64_t groups = (k_total + 3) / 4;
  float* out = acc.data();
  // One tile buffer per thread, 64-byte aligned for the streaming copy,
  // allocated here (an exception cannot leave the parallel region).
  const bool parallel = n >= kParallelMin;
  const int threads = parallel ? omp_get_max_threads() : 1;
  const std::unique_ptr<float, void (*)(void*)> tiles_mem(
      static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(threads) * kTile * sizeof(float))), &std::free);
  if (!tiles_mem) throw std::bad_alloc();
#pragma omp parallel if (parallel) num_threads(threads)
  {
    float* buf = tiles_mem.get() + static_cast<size_t>(omp_get_thread_num()) * kTile;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t lo = t * kTile;
      const int64_t len = std::min(kTile, n - lo);
      // Groups of four deltas; the first starts from acc (or zero), the
      // others from the tile buffer, and the last writes acc directly unless
      // the result goes out through non-temporal stores. One group (add() of
      // a single delta) is thus a single in-place pass without the buffer.
      float* const direct = out + lo;
      for (int64_t gi = 0; gi < groups; ++gi) {
        const int64_t k = gi * 4;
        const float* base = gi == 0 ? (overwrite ? nullptr : direct) : buf;
        float* dst = (gi == groups - 1 && !stream) ? direct : buf;
        fused_group(std::min<int64_t>(4, k_total - k), dst, base, ptrs.data() + k, c + k, lo, len);
      }
      if (stream) stream_copy(direct, buf, len);
    }
    if (stream) stream_fence();
  }
}

void axpy(std::span<float> y, float a, std::span<const float> x) {
  check_same_size(y.size(), x.size(), "axpy");
  for_chunks(static_cast<int64_t>(y.size()), kChunk,
             [&](int64_t lo, int64_t len) { ArrayMap(y.data() + lo, len) += a * ConstArrayMap(x.data() + lo, len); });
}

void scale(std::span<float> x, float a) {
  for_chunks(static_cast<int64_t>(x.size()), kChunk,
             [&](int64_t lo, int64_t len) { ArrayMap(x.data() + lo, len) *= a; });
}

void fill(std::span<float> x, float value) {
  for_chunks(static_cast<int64_t>(x.size()), kChunk,
             [&](int64_t lo, int64_t len) { std::fill_n(x.data() + lo, len, value); });
}

double l2_norm(std::span<const float> x) {
  const float* p = x.data();
  return std::sqrt(
      chunked_sum(static_cast<int64_t>(x.size()), [p](int64_t lo, int64_t len) { return sum_squares(p + lo, len); }));
}

double squared_distance(std::span<const float> a, std::span<const float> b) {
  check_same_size(a.size(), b.size(), "squared_distance");
  const float* pa = a.data();
  const float* pb = b.data();
  return chunked_sum(static_cast<int64_t>(a.size()),
                     [pa, pb](int64_t lo, int64_t len) { return sum_squared_diff(pa + lo, pb + lo, len); });
}

int64_t first_non_finite(std::span<const float> x) {
  const int64_t n = static_cast<int64_t>(x.size());
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  int64_t first = n;
#pragma omp parallel for schedule(static) reduction(min : first) if (n >= kParallelMin)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t lo = c * kChunk;
    const int64_t len = std::min(kChunk, n - lo);
    // Cheap vectorised test first: x - x is 0 for finite x, NaN otherwise.
    float probe = 0.0f;
#pragma omp simd reduction(+ : probe)
    for (int64_t i = 0; i < len; ++i) probe += x[static_cast<size_t>(lo + i)] - x[static_cast<size_t>(lo + i)];
    if (probe == 0.0f) continue;
    for (int64_t i = 0; i < len; ++i)
      if (!std::isfinite(x[static_cast<size_t>(lo + i)])) {
        first = std::min(first, lo + i);
        break;
      }
  }
  return first == n ? -1 : first;
}

// ------------------------------------------------- server optimizer steps

namespace {

bool overlaps(std::span<const float> a, std::span<const float> b) {
  if (a.empty() || b.empty()) return false;
  const std::less<const float*> lt;
  return lt(a.data(), b.data() + b.size()) && lt(b.data(), a.data() + a.size());
}

// out may be exactly `in` (same data pointer) or disjoint from it.
void check_out_alias(std::span<const float> out, std::span<const float> in, const char* what, const char* in_name) {
  if (out.data() != in.data() && overlaps(out, in))
    throw std::invalid_argument(std::string(what) + ": the output partially overlaps " + in_name);
}

// A state vector must share no memory with the output or the inputs.
void check_state_alias(std::span<const float> state, std::span<const float> out, std::span<const float> x,
                       std::span<const float> acc, const char* what, const char* name) {
  if (overlaps(state, out) || overlaps(state, x) || overlaps(state, acc))
    throw std::invalid_argument(std::string(what) + ": state vector " + name + " overlaps the model or accumulator");
}

void check_step(std::span<const float> out, std::span<const float> x, std::span<const float> acc, const char* what) {
  check_same_size(x.size(), out.size(), what);
  check_same_size(x.size(), acc.size(), what);
  check_out_alias(out, x, what, "the model");
  check_out_alias(out, acc, what, "the accumulator");
}

}  // namespace

void sgd_step_into(std::span<float> out, std::span<const float> x, std::span<const float> acc, float scale, float lr) {
  check_step(out, x, acc, "sgd_step");
  const float a = lr * scale;
  // Plain loops without __restrict: out may be x or acc (element i is read
  // before it is written; omp simd vectorises without runtime alias checks).
  for_chunks(static_cast<int64_t>(x.size()), kChunk, [&](int64_t lo, int64_t len) {
    float* po = out.data() + lo;
    const float* px = x.data() + lo;
    const float* pa = acc.data() + lo;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) po[i] = px[i] + a * pa[i];
  });
}

void sgd_step(std::span<float> x, std::span<const float> acc, float scale, float lr) {
  sgd_step_into(x, x, acc, scale, lr);
}

void fedavgm_step_into(std::span<float> out, std::span<const float> x, std::span<float> m, std::span<const float> acc,
                       float scale, float lr, float momentum) {
  check_step(out, x, acc, "fedavgm_step");
  check_same_size(x.size(), m.size(), "fedavgm_step (model vs momentum)");
  check_state_alias(m, out, x, acc, "fedavgm_step", "m");
  for_chunks(static_cast<int64_t>(x.size()), kChunk, [&](int64_t lo, int64_t len) {
    float* po = out.data() + lo;
    const float* px = x.data() + lo;
    float* pm = m.data() + lo;
    const float* pa = acc.data() + lo;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) {
      const float mi = momentum * pm[i] + scale * pa[i];
      pm[i] = mi;
      po[i] = px[i] + lr * mi;
    }
  });
}

void fedavgm_step(std::span<float> x, std::span<float> m, std::span<const float> acc, float scale, float lr,
                  float momentum) {
  fedavgm_step_into(x, x, m, acc, scale, lr, momentum);
}

namespace {
enum class SecondMoment { adam, yogi, adagrad };

template <SecondMoment kKind>
void fedopt_step(std::span<float> out, std::span<const float> x, std::span<float> m, std::span<float> v,
                 std::span<const float> acc, float scale, float lr, float beta1, float beta2, float tau,
                 const char* what) {
  check_step(out, x, acc, what);
  check_same_size(x.size(), m.size(), what);
  check_same_size(x.size(), v.size(), what);
  check_state_alias(m, out, x, acc, what, "m");
  check_state_alias(v, out, x, acc, what, "v");
  if (overlaps(m, v)) throw std::invalid_argument(std::string(what) + ": state vectors m and v overlap");
  // Plain loops (IEEE sqrt; Eigen's AVX-512 sqrt is a refined reciprocal
  // estimate), without __restrict: out may be x or acc.
  for_chunks(static_cast<int64_t>(x.size()), kChunk, [&](int64_t lo, int64_t len) {
    float* po = out.data() + lo;
    const float* px = x.data() + lo;
    float* pm = m.data() + lo;
    float* pv = v.data() + lo;
    const float* pa = acc.data() + lo;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) {
      const float d = scale * pa[i];
      const float d2 = d * d;
      const float mi = beta1 * pm[i] + (1.0f - beta1) * d;
      float vi = pv[i];
      if constexpr (kKind == SecondMoment::adam) {
        vi = beta2 * vi + (1.0f - beta2) * d2;
      } else if constexpr (kKind == SecondMoment::yogi) {
        const float diff = vi - d2;
        const float sign = diff > 0.0f ? 1.0f : (diff < 0.0f ? -1.0f : 0.0f);
        vi = vi - (1.0f - beta2) * d2 * sign;
      } else {
        vi = vi + d2;
      }
      pm[i] = mi;
      pv[i] = vi;
      po[i] = px[i] + lr * mi / (std::sqrt(vi) + tau);
    }
  });
}
}  // namespace

void fedadam_step_into(std::span<float> out, std::span<const float> x, std::span<float> m, std::span<float> v,
                       std::span<const float> acc, float scale, float lr, float beta1, float beta2, float tau) {
  fedopt_step<SecondMoment::adam>(out, x, m, v, acc, scale, lr, beta1, beta2, tau, "fedadam_step");
}

void fedadam_step(std::span<float> x, std::span<float> m, std::span<float> v, std::span<const float> acc, float scale,
                  float lr, float beta1, float beta2, float tau) {
  fedadam_step_into(x, x, m, v, acc, scale, lr, beta1, beta2, tau);
}

void fedyogi_step_into(std::span<float> out, std::span<const float> x, std::span<float> m, std::span<float> v,
                       std::span<const float> acc, float scale, float lr, float beta1, float beta2, float tau) {
  fedopt_step<SecondMoment::yogi>(out, x, m, v, acc, scale, lr, beta1, beta2, tau, "fedyogi_step");
}

void fedyogi_step(std::span<float> x, std::span<float> m, std::span<float> v, std::span<const float> acc, float scale,
                  float lr, float beta1, float beta2, float tau) {
  fedyogi_step_into(x, x, m, v, acc, scale, lr, beta1, beta2, tau);
}

void fedadagrad_step_into(std::span<float> out, std::span<const float> x, std::span<float> m, std::span<float> v,
                          std::span<const float> acc, float scale, float lr, float beta1, float tau) {
  fedopt_step<SecondMoment::adagrad>(out, x, m, v, acc, scale, lr, beta1, 0.0f, tau, "fedadagrad_step");
}

void fedadagrad_step(std::span<float> x, std::span<float> m, std::span<float> v, std::span<const float> acc,
                     float scale, float lr, float beta1, float tau) {
  fedadagrad_step_into(x, x, m, v, acc, scale, lr, beta1, tau);
}

// ---------------------------------------------------------------- robust

void coordinate_median(std::span<float> out, std::span<const std::span<const float>> deltas) {
  if (deltas.empty()) throw std::invalid_argument("coordinate_median: no deltas");
  check_deltas(deltas, out.size(), "coordinate_median");
  per_coordinate(out, deltas, [](float* row, int64_t k) {
    const int64_t mid = k / 2;
    std::nth_element(row, row + mid, row + k);
    const float upper = row[mid];
    if (k % 2 == 1) return upper;
    const float lower = *std::max_element(row, row + mid);
    return 0.5f * lower + 0.5f * upper;
  });
}

int64_t trim_count(int64_t k, double beta) {
  if (!(beta >= 0.0 && beta < 0.5))
    throw std::invalid_argument("trimmed mean: beta must be in [0, 0.5), got " + std::to_string(beta));
  return static_cast<int64_t>(std::floor(beta * static_cast<double>(k)));
}

void trimmed_mean(std::span<float> out, std::span<const std::span<const float>> deltas, double beta) {
  if (deltas.empty()) throw std::invalid_argument("trimmed_mean: no deltas");
  check_deltas(deltas, out.size(), "trimmed_mean");
  const int64_t cut = trim_count(static_cast<int64_t>(deltas.size()), beta);
  per_coordinate(out, deltas, [cut](float* row, int64_t k) {
    if (cut > 0) {
      std::nth_element(row, row + cut, row + k);              // row[0, cut) are the cut smallest
      std::nth_element(row + cut, row + (k - cut), row + k);  // row[k-cut, k) the cut largest
    }
    double s = 0.0;
    for (int64_t i = cut; i < k - cut; ++i) s += row[i];
    return static_cast<float>(s / static_cast<double>(k - 2 * cut));
  });
}

std::vector<double> pairwise_squared_distances(std::span<const std::span<const float>> deltas) {
  const int64_t k = static_cast<int64_t>(deltas.size());
  if (k == 0) return {};
  const size_t n_values = deltas[0].size();
  check_deltas(deltas, n_values, "pairwise_squared_distances");
  const int64_t n = static_cast<int64_t>(n_values);
  const int64_t pairs = k * (k - 1) / 2;
  // Coordinates are processed in tiles of kCoordTile (every pair of one tile
  // while the K slices are in L2), tiles in blocks of kPairBlock coordinates,
  // blocks in groups of kPairGroup. A thread sums one block's tiles in tile
  // order into that block's row of partials; after each group the rows are
  // added to the totals in block order. Each total is thus the same sequence
  // of additions whatever the thread count (bit-identical results), with a
  // scratch of kPairGroup x pairs doubles whatever the model size.
  constexpr int64_t kCoordTile = 1024;
  constexpr int64_t kPairBlock = 16 * kCoordTile;
  constexpr int64_t kPairGroup = 64;
  const int64_t blocks = (n + kPairBlock - 1) / kPairBlock;
  std::vector<double> total(static_cast<size_t>(pairs), 0.0);
  std::vector<double> part(static_cast<size_t>(std::min(blocks, kPairGroup) * pairs));
#pragma omp parallel if (n * pairs >= kParallelMin)
  for (int64_t g0 = 0; g0 < blocks; g0 += kPairGroup) {  // every thread runs every group
    const int64_t gn = std::min(kPairGroup, blocks - g0);
#pragma omp for schedule(static)
    for (int64_t bi = 0; bi < gn; ++bi) {
      double* local = part.data() + bi * pairs;
      std::fill(local, local + pairs, 0.0);
      const int64_t block_lo = (g0 + bi) * kPairBlock;
      const int64_t block_hi = std::min(n, block_lo + kPairBlock);
      for (int64_t lo = block_lo; lo < block_hi; lo += kCoordTile) {
        const int64_t len = std::min(kCoordTile, block_hi - lo);
        int64_t p = 0;
        for (int64_t i = 0; i < k; ++i) {
          const float* a = deltas[static_cast<size_t>(i)].data() + lo;
          for (int64_t j = i + 1; j < k; ++j, ++p)
            local[p] += sum_squared_diff(a, deltas[static_cast<size_t>(j)].data() + lo, len);
        }
      }
    }
    // (implicit barrier: the group's rows are complete)
#pragma omp for schedule(static)
    for (int64_t p = 0; p < pairs; ++p) {
      double s = total[static_cast<size_t>(p)];
      for (int64_t bi = 0; bi < gn; ++bi) s += part[static_cast<size_t>(bi * pairs + p)];
      total[static_cast<size_t>(p)] = s;
    }
    // (implicit barrier: the rows may be overwritten by the next group)
  }
  std::vector<double> d(static_cast<size_t>(k * k), 0.0);
  int64_t p = 0;
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = i + 1; j < k; ++j, ++p) {
      d[static_cast<size_t>(i * k + j)] = total[static_cast<size_t>(p)];
      d[static_cast<size_t>(j * k + i)] = total[static_cast<size_t>(p)];
    }
  return d;
}

namespace {
void check_krum(int64_t n, int64_t f) {
  if (f < 0)
    throw std::invalid_argument("krum: the number of Byzantine contributions f must be >= 0, got " + std::to_string(f));
  if (n <= 2 * f + 2)
    throw std::invalid_argument("krum needs n > 2f + 2 contributions: n = " + std::to_string(n) +
                                ", f = " + std::to_string(f) + " (needs at least " + std::to_string(2 * f + 3) + ")");
}
}  // namespace

std::vector<double> krum_scores(std::span<const double> sq, int64_t n, int64_t f) {
  check_krum(n, f);
  if (static_cast<int64_t>(sq.size()) != n * n)
    throw std::invalid_argument("krum_scores: distance matrix has " + std::to_string(sq.size()) +
                                " entries, expected " + std::to_string(n * n));
  const int64_t closest = n - f - 2;
  std::vector<double> scores(static_cast<size_t>(n));
  std::vector<double> row;
  for (int64_t i = 0; i < n; ++i) {
    row.clear();
    for (int64_t j = 0; j < n; ++j)
      if (j != i) row.push_back(sq[static_cast<size_t>(i * n + j)]);
    std::partial_sort(row.begin(), row.begin() + closest, row.end());
    scores[static_cast<size_t>(i)] = std::accumulate(row.begin(), row.begin() + closest, 0.0);
  }
  return scores;
}

std::vector<int64_t> krum_select(std::span<const std::span<const float>> deltas, int64_t f, int64_t m) {
  const int64_t n = static_cast<int64_t>(deltas.size());
  check_krum(n, f);
  if (m < 1 || m > n)
    throw std::invalid_argument("multi-krum: m must be in [1, n = " + std::to_string(n) + "], got " +
                                std::to_string(m));
  const auto scores = krum_scores(pairwise_squared_distances(deltas), n, f);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return scores[static_cast<size_t>(a)] < scores[static_cast<size_t>(b)];
  });
  order.resize(static_cast<size_t>(m));
  return order;
}

void mean_of(std::span<float> out, std::span<const std::span<const float>> deltas, std::span<const int64_t> indices) {
  if (indices.empty()) throw std::invalid_argument("mean_of: no indices");
  std::vector<std::span<const float>> chosen;
  std::vector<float> coefs(indices.size(), 1.0f / static_cast<float>(indices.size()));
  for (int64_t i : indices) {
    if (i < 0 || i >= static_cast<int64_t>(deltas.size()))
      throw std::invalid_argument("mean_of: index " + std::to_string(i) + " out of range [0, " +
                                  std::to_string(deltas.size()) + ")");
    chosen.push_back(deltas[static_cast<size_t>(i)]);
  }
  weighted_sum(out, chosen, coefs, /*overwrite=*/true);
}

// ---------------------------------------------------------------- FedAsync

namespace {
void check_alpha(double alpha_t) {
  if (!(alpha_t >= 0.0 && alpha_t <= 1.0))
    throw std::invalid_argument("fedasync_mix: alpha_t must be in [0, 1], got " + std::to_string(alpha_t));
}
}  // namespace

void fedasync_mix(std::span<float> model, std::span<const float> x_new, double alpha_t) {
  check_alpha(alpha_t);
  check_same_size(model.size(), x_new.size(), "fedasync_mix");
  const float a = static_cast<float>(alpha_t);
  for_chunks(static_cast<int64_t>(model.size()), kChunk, [&](int64_t lo, int64_t len) {
    ArrayMap X(model.data() + lo, len);
    X = (1.0f - a) * X + a * ConstArrayMap(x_new.data() + lo, len);
  });
}

void fedasync_mix(std::span<float> model, std::span<const float> base, std::span<const float> delta, double alpha_t) {
  check_alpha(alpha_t);
  check_same_size(model.size(), base.size(), "fedasync_mix (model vs base)");
  check_same_size(model.size(), delta.size(), "fedasync_mix (model vs delta)");
  const float a = static_cast<float>(alpha_t);
  for_chunks(static_cast<int64_t>(model.size()), kChunk, [&](int64_t lo, int64_t len) {
    ArrayMap X(model.data() + lo, len);
    X = (1.0f - a) * X + a * (ConstArrayMap(base.data() + lo, len) + ConstArrayMap(delta.data() + lo, len));
  });
}

}  // namespace fedhub::federation
