// The shared arithmetic of every aggregation strategy, as pure functions over
// flat float32 vectors (see model/flat.hpp). Strategy classes (mean.cpp, fedadam.cpp,
// median.cpp, ...) only decide which of these to call.
//
// Common contract: spans that must have the model's length are checked and a
// size mismatch throws std::invalid_argument naming both sizes. Large inputs
// are processed by all OpenMP threads (omp_get_max_threads(); the build's
// default is one per core) in cache-sized chunks; results are bit-identical
// whatever the thread count and scheduling (for the same inputs and build):
// floating-point sums (norms, distances) are taken over fixed-size chunks whose
// partial sums are added in chunk order, never in thread order.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace fedhub::federation {

// ---------------------------------------------------------------- mean-based

// acc = (overwrite ? 0 : acc) + sum_k coefs[k] * deltas[k], in one pass over
// memory: the output is processed tile by tile (16384 floats, L2-sized), and
// for each tile every delta's slice is streamed in, four deltas at a time, so
// each delta is read once and acc is read (unless overwrite) and written once,
// whatever K is. With overwrite on a large, 64-byte aligned acc the tiles are
// written with non-temporal stores (no read-for-ownership). Threads split the
// tiles. Requires deltas.size() == coefs.size() and every delta of acc's size.
// Each output element is computed from that element's inputs only, by the
// same operations in the same order wherever it lies in a tile, so acc may be
// any sub-range of a larger accumulator (MeanAggregator::fold_part): summing
// the parts of a delta one range at a time gives the values add() of the
// whole delta gives.
void weighted_sum(std::span<float> acc, std::span<const std::span<const float>> deltas, std::span<const float> coefs,
                  bool overwrite);

// y += a * x.
void axpy(std::span<float> y, float a, std::span<const float> x);

// x *= a.
void scale(std::span<float> x, float a);

// x[i] = value for every i, on all threads when x is large (a fresh
// accumulator's zeroing: the page faults of a new block are spread over the
// threads too).
void fill(std::span<float> x, float value);

// Euclidean norm, accumulated in double.
double l2_norm(std::span<const float> x);

// sum_i (a_i - b_i)^2, accumulated in double.
double squared_distance(std::span<const float> a, std::span<const float> b);

// Index of the first NaN or infinity in x, or -1 if every value is finite.
// The hub checks every merge result with it before committing a version
// (a server step can overflow float32: see "Overflow" in aggregator.hpp).
int64_t first_non_finite(std::span<const float> x);

// ------------------------------------------------- server optimizer steps
// Each applies one server step given the round's mean delta d = scale * acc
// (acc being the accumulator of weighted_sum, scale typically 1 / sum of
// weights). Formulas from Reddi et al., ICLR 2021 ("Adaptive Federated
// Optimization") and, for FedAvgM, Hsu et al. 2019 as implemented by Flower.
//
// The *_into forms write x_{t+1} to `out` and leave x unchanged; the others
// update x in place (they are the _into forms with out = x). Every step is
// elementwise: index i reads x[i], acc[i] (and the state's m[i], v[i]) before
// it writes out[i], so `out` may be exactly x or exactly acc (same data
// pointer: the merge computes x_{t+1} into the accumulator's own memory);
// any other overlap of out with x or acc, and any overlap of a state vector
// with out, x or acc, throws std::invalid_argument. State vectors are updated
// in place; all spans have x's length (std::invalid_argument naming both
// sizes otherwise). Nothing is written when a check fails.

// FedAvg / FedBuff server step: out = x + lr * d.
void sgd_step_into(std::span<float> out, std::span<const float> x, std::span<const float> acc, float scale, float lr);
void sgd_step(std::span<float> x, std::span<const float> acc, float scale, float lr);

// FedAvgM: m = momentum * m + d;  out = x + lr * m.
void fedavgm_step_into(std::span<float> out, std::span<const float> x, std::span<float> m, std::span<const float> acc,
                       float scale, float lr, float momentum);
void fedavgm_step(std::span<float> x, std::span<float> m, std::span<const float> acc, float scale, float lr,
                  float momentum);

// FedAdam: m = b1 m + (1-b1) d;  v = b2 v + (1-b2) d^2;  out = x + lr m / (sqrt(v) + tau).
void fedadam_step_into(std::span<float> out, std::span<const float> x, std::span<float> m, std::span<float> v,
                       std::span<const float> acc, float scale, float lr, float beta1, float beta2, float tau);
void fedadam_step(std::span<float> x, std::span<float> m, std::span<float> v, std::span<const float> acc, float scale,
                  float lr, float beta1, float beta2, float tau);

// FedYogi: m as FedAdam;  v = v - (1-b2) d^2 sign(v - d^2);  out = x + lr m / (sqrt(v) + tau).
void fedyogi_step_into(std::span<float> out, std::span<const float> x, std::span<float> m, std::span<float> v,
                       std::span<const float> acc, float scale, float lr, float beta1, float beta2, float tau);
void fedyogi_step(std::span<float> x, std::span<float> m, std::span<float> v, std::span<const float> acc, float scale,
                  float lr, float beta1, float beta2, float tau);

// FedAdagrad: m as FedAdam;  v = v + d^2;  out = x + lr m / (sqrt(v) + tau).
void fedadagrad_step_into(std::span<float> out, std::span<const float> x, std::span<float> m, std::span<float> v,
                          std::span<const float> acc, float scale, float lr, float beta1, float tau);
void fedadagrad_step(std::span<float> x, std::span<float> m, std::span<float> v, std::span<const float> acc,
                     float scale, float lr, float beta1, float tau);

// ---------------------------------------------------------------- robust
// These need every contribution at once (K deltas in memory).

// out_i = median of deltas[k]_i over k; for even K the mean of the two middle
// values (numpy.median's convention). Requires K >= 1.
void coordinate_median(std::span<float> out, std::span<const std::span<const float>> deltas);

// Number of values trimmed from EACH end of K values for proportion beta:
// floor(beta * K) (scipy.stats.trim_mean's convention). Requires 0 <= beta < 0.5.
int64_t trim_count(int64_t k, double beta);

// out_i = mean of deltas[k]_i over k after dropping the trim_count(K, beta)
// smallest and as many largest values. Requires K >= 1, 0 <= beta < 0.5
// (std::invalid_argument otherwise, naming beta).
void trimmed_mean(std::span<float> out, std::span<const std::span<const float>> deltas, double beta);

// The K x K matrix (row-major) of squared Euclidean distances between deltas,
// accumulated in double, each pair computed directly (no Gram-matrix
// cancellation), in a fixed order of coordinate tiles (bit-identical whatever
// the thread count). Scratch: at most 64 x K (K - 1) / 2 doubles.
std::vector<double> pairwise_squared_distances(std::span<const std::span<const float>> deltas);

// Krum scores (Blanchard et al., NeurIPS 2017): score_i = the sum of the
// squared distances from delta i to its n - f - 2 nearest other deltas.
// Requires n > 2f + 2 (std::invalid_argument otherwise, naming n and f).
std::vector<double> krum_scores(std::span<const double> squared_distances, int64_t n, int64_t f);

// Indices of the m lowest Krum scores, best first (ties: lower index first).
// m = 1 is Krum; m > 1 is Multi-Krum. Requires 1 <= m <= n and n > 2f + 2.
std::vector<int64_t> krum_select(std::span<const std::span<const float>> deltas, int64_t f, int64_t m);

// out = plain mean of deltas[i] for i in indices (non-empty).
void mean_of(std::span<float> out, std::span<const std::span<const float>> deltas, std::span<const int64_t> indices);

// ---------------------------------------------------------------- FedAsync
// FedAsync mixing (Xie et al. 2019): model = (1 - alpha_t) model + alpha_t x_new,
// with alpha_t = alpha * staleness_weight(policy, s) in [0, 1] (checked).
void fedasync_mix(std::span<float> model, std::span<const float> x_new, double alpha_t);

// The same with the contribution given as its base and delta
// (x_new = base + delta), without materialising x_new.
void fedasync_mix(std::span<float> model, std::span<const float> base, std::span<const float> delta, double alpha_t);

}  // namespace fedhub::federation
