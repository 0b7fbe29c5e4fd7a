// Aggregation strategies behind one small interface (Flower's strategy/ layout:
// one class per strategy, chosen by name; shared arithmetic in aggregate.hpp).
//
// Everything works on flat float32 vectors (model/flat.hpp). A round: the hub makes
// (or keeps) an Aggregator for a model and gives it each accepted
// contribution's delta D = x_local - x_base with its sample count and its
// staleness factor from staleness_weight(), either whole with add(), or, for
// the strategies that can_fold_parts(), part by part as the upload streams in
// (fold_part, then count_folded; unfold_part / uncount_folded take it back
// out). Then the new version: apply() (x_t -> x_{t+1} in place), apply_to()
// (into another buffer) or apply_into_accumulator() (into the accumulator's
// own memory, handed over), each updating the model's ServerState
// (optimizer moments, round counter, DP clip norm), which the hub persists
// with the new version, and leaving the aggregator empty for the next round.
//
// Strategies (name -> formula; sources and defaults in docs/aggregation.md):
//   mean        x += lr * sum f_i D_i / sum f_i                   (the paper's plain mean; f = staleness factor)
//   fedavg      x += lr * sum n_i f_i D_i / sum n_i f_i           (McMahan et al. 2017, n = samples)
//   fedavgm     m = momentum m + Dbar;  x += lr m                 (Hsu et al. 2019, as Flower)
//   fedadam     Reddi et al. 2021 on Dbar (m, v in the state)
//   fedyogi     Reddi et al. 2021 on Dbar
//   fedadagrad  Reddi et al. 2021 on Dbar
//   median      x += lr * coordinate-wise median of f_i D_i
//   trimmed-mean x += lr * coordinate-wise beta-trimmed mean of f_i D_i
//   krum        x += lr * the Krum pick (multi_krum = m > 1: mean of the m best) among f_i D_i
// Dbar (the round's mean delta) is the fedavg/mean average above; with
// divide_by_count it is sum w_i D_i / K instead (FedBuff's normalisation).
//
// Memory: the mean-based strategies (mean, fedavg, fedavgm, fedadam, fedyogi,
// fedadagrad) fold every contribution into ONE accumulator at once (one model
// of floats whatever K; server-optimizer moments live in the ServerState);
// apply_into_accumulator() writes the new version there, so a merge holds the
// base version plus that one buffer. The robust ones (median, trimmed-mean,
// krum) keep every delta until apply (K models), plus one model-sized result
// during apply (apply_to() uses its output as that result).
//
// Overflow: weights and their sums are doubles; the accumulator is float32
// (max 3.4e38). With |delta_i| <= 2 B (values and base within the hub's
// per-model bound B, default 1e6) and weights <= 2^40 (the hub caps
// num_samples at 2^40; staleness factors are <= 1), |acc_i| <= K * 2^40 * 2e6
// ~ K * 2.2e18: finite for any realistic K (K = 1000: 2.2e21, tested), and
// the mean delta Dbar is within 2 B. With fresh contributions (base = x_t)
// and server_lr <= 1 a mean/FedAvg step is a convex combination of x_t and
// the values, so x_{t+1} stays within B; stale deltas, larger server
// learning rates and the adaptive steps (m / (sqrt(v) + tau), tau tiny) are
// not bounded that way: check every result with first_non_finite()
// (aggregate.hpp) before publishing it.
//
// Thread safety: an Aggregator is not thread-safe; its calls use OpenMP
// threads internally.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "federation/dp.hpp"
#include "model/aligned_floats.hpp"

namespace fedhub::federation {

struct AggregatorConfig {
  static constexpr double kDefault = std::numeric_limits<double>::quiet_NaN();

  // mean|fedavg|fedavgm|fedadam|fedyogi|fedadagrad|median|trimmed-mean|krum
  std::string name = "fedavg";
  // Server learning rate eta. NaN = the strategy's default (Flower's):
  // 1.0 for mean, fedavg, fedavgm and the robust ones; fedadam 0.1, fedyogi 0.01, fedadagrad 0.1.
  double server_lr = kDefault;
  // FedAvgM momentum beta. NaN = 0.9.
  double momentum = kDefault;
  // FedOpt beta1. NaN = 0.9 (fedadam, fedyogi); 0.0 for fedadagrad (Flower passes beta_1 = 0, so m = Dbar).
  double beta1 = kDefault;
  // FedOpt beta2. NaN = 0.99 (fedadam, fedyogi; unused by fedadagrad).
  double beta2 = kDefault;
  // FedOpt adaptivity tau. NaN = 1e-9 (fedadam, fedadagrad), 1e-3 (fedyogi).
  double tau = kDefault;
  // Weights of the mean-based strategies: "samples" (w = n f), "uniform"
  // (w = f) or "" = the strategy's default ("uniform" for mean and whenever
  // dp is enabled, "samples" otherwise).
  std::string weighting;
  // Divide sum w_i D_i by the number of contributions K instead of sum w_i
  // (FedBuff, Nguyen et al. 2022: with weighting "uniform" and the fedbuff
  // staleness policy, Dbar = sum f(s_i) D_i / K). Always on with dp.
  bool divide_by_count = false;
  // Trimmed mean: fraction trimmed from each end, in [0, 0.5).
  double trim_beta = 0.1;
  // Krum: f, the number of Byzantine contributions tolerated (needs n > 2f + 2).
  int64_t krum_byzantine = 0;
  // Krum: m, the number of best-scored deltas averaged (1 = Krum, > 1 = Multi-Krum).
  int64_t multi_krum = 1;
  // Central differential privacy (mean-based strategies only), see dp.hpp.
  DpConfig dp;

  // A copy with every NaN / empty field replaced by the strategy's default.
  // Throws std::invalid_argument naming an unknown strategy or an
  // out-of-range parameter.
  AggregatorConfig resolved() const;

  // JSON object with every field above ("dp" as a nested object); unset (NaN)
  // fields are written as null.
  std::string to_json() const;
  // Parses to_json's format; absent fields and nulls keep their defaults.
  // Throws std::invalid_argument naming an unknown key, a wrongly typed value
  // or malformed JSON.
  static AggregatorConfig from_json(const std::string& json);
};

// The server-side state of one model between rounds; the hub persists it with
// every version. Keys used: "m" (momentum / first moment), "v" (second
// moment), "dp.clip_norm" (one value: the current adaptive clip norm).
// Missing vectors are created (zero) on first use.
struct ServerState {
  int64_t rounds = 0;  // number of apply() calls so far
  std::map<std::string, std::vector<float>> vectors;

  bool operator==(const ServerState&) const = default;

  // Binary layout, all integers little-endian:
  //   "FHSS" (4 bytes) | u32 format version (1) | i64 rounds | u32 entry count |
  //   per entry, in name order: u32 name length | name bytes |
  //                             u64 value count | values (IEEE-754 float32, LE)
  std::string serialize() const;
  // Inverse of serialize. Throws std::invalid_argument naming what is wrong
  // (bad magic, unknown version, truncated at which field, trailing bytes).
  static ServerState deserialize(std::string_view bytes);
};

class Aggregator {
 public:
  virtual ~Aggregator();

  // Adds one contribution: delta = x_local - x_base (parameter_count() finite
  // values: check them first, see validation.hpp), its sample count
  // (>= 0; > 0 when weighting by samples) and its staleness factor from
  // staleness_weight() (> 0: a factor of 0 means the contribution was
  // rejected and must not be added). Mean-based strategies fold it into their
  // accumulator at once with the coefficient weight_of(num_samples,
  // staleness_factor) (the delta can be freed on return); robust ones copy
  // it. Throws std::invalid_argument naming a bad size or weight; nothing is
  // added then.
  virtual void add(std::span<const float> delta, double num_samples, double staleness_factor) = 0;

  // Several contributions at once, same contract as add() for each (all are
  // checked before any is added). Mean-based strategies do one fused pass:
  // each delta is read once and the accumulator written once (aggregate.hpp,
  // weighted_sum). The three spans must have the same length.
  virtual void add_many(std::span<const std::span<const float>> deltas, std::span<const double> num_samples,
                        std::span<const double> staleness_factors);

  // The coefficient add() applies to this contribution's delta. Mean-based:
  // its weight w = num_samples * staleness_factor (weighting "samples") or
  // staleness_factor (weighting "uniform"), which also enters the round's
  // weight sum; with dp add() further multiplies it by the clip factor
  // min(1, C / ||delta||) (dp.hpp). Robust: staleness_factor (the scale of the
  // copy they keep; sample counts are ignored). Throws std::invalid_argument
  // for what add() refuses besides the size: a non-finite or negative
  // num_samples, a staleness factor that is not finite and > 0, a
  // non-positive weight when weighting by samples, a factor > 1 with dp.
  virtual double weight_of(double num_samples, double staleness_factor) const = 0;

  // ---- Folding a contribution part by part (the hub's streaming upload).
  // A contribution's delta arrives as parts [offset, offset + n) of the flat
  // vector. Each part is folded at once: acc[offset + i] += coef * part[i]
  // with coef = weight_of(num_samples, staleness_factor) as a double (turned
  // into float32 like add()'s coefficients); after its last part,
  // count_folded(coef, num_samples) counts the contribution (count() + 1,
  // weight sum + coef). Folding every part of a delta gives the values add()
  // of the whole delta at the same point of the round gives (weighted_sum
  // computes each element from its own inputs only: bit-identical in this
  // build); when the parts of several uploads interleave, each element's sum
  // is taken in another order: equal up to rounding, within 2 K u sum_k
  // |c_k D_k[i]| for K contributions (u = 2^-24). An abandoned upload is
  // unfolded (the parts already folded subtracted with the same coef); a
  // counted contribution that must leave the round is unfolded and
  // uncount_folded(coef, num_samples). A round may mix add() and folded parts
  // in any order; parts folded but not yet counted are in the accumulator
  // but not in count().

  // True when fold_part and the calls below work: the mean-based strategies
  // without dp (dp clips by the whole delta's norm: use add()). Default false.
  virtual bool can_fold_parts() const;

  // acc[offset, offset + delta_part.size()) += coef * delta_part. Throws
  // std::invalid_argument (nothing modified) when offset < 0 or the range
  // ends past parameter_count(), or coef is not finite and > 0;
  // std::logic_error when !can_fold_parts() (the default, naming the
  // strategy). An empty part is a no-op.
  virtual void fold_part(int64_t offset, std::span<const float> delta_part, double coef);
  // The inverse: acc[offset, offset + n) -= coef * delta_part, with the same
  // float32 product as fold_part, so unfolding what was folded restores the
  // accumulator up to one rounding per element of each sum (see the tests:
  // |error| <= 2^-22 (|acc_before| + |coef * part|)). Same checks as
  // fold_part, and std::logic_error when nothing was folded or added this
  // round (the accumulator holds no data).
  virtual void unfold_part(int64_t offset, std::span<const float> delta_part, double coef);
  // Counts one contribution whose parts are (or will be) folded with coef:
  // count() + 1, weight sum + coef. num_samples is checked (finite, >= 0) and
  // not otherwise used (the coefficient already carries it). Throws
  // std::invalid_argument for a coef that is not finite and > 0 or a bad
  // num_samples, std::logic_error when !can_fold_parts(); nothing modified.
  virtual void count_folded(double coef, double num_samples);
  // The inverse of count_folded (or of an add() with weight_of() == coef):
  // count() - 1 and the weight sum exactly as it would be without that
  // contribution (weights are kept per contribution, not subtracted).
  // Throws std::logic_error when count() == 0 or !can_fold_parts(),
  // std::invalid_argument when no counted contribution has exactly this
  // coefficient; nothing modified.
  virtual void uncount_folded(double coef, double num_samples);

  // Contributions added (or count_folded) since the last apply (or reset).
  virtual int64_t count() const = 0;

  // x_t -> x_{t+1} in place (model has parameter_count() values), using and
  // updating `state` (server optimizers' vectors, DP clip norm; rounds + 1),
  // then empties the aggregator. Throws (nothing modified: model, state and
  // contributions as before) std::logic_error when there are no
  // contributions, std::invalid_argument on a size mismatch of the model or a
  // state vector, or when the strategy cannot run with this many
  // contributions (Krum: n > 2f + 2).
  //
  // The result can overflow float32 (a large server_lr or adaptive step on
  // large deltas): check it with first_non_finite() (aggregate.hpp) before
  // publishing it; the hub refuses to commit a non-finite version.
  virtual void apply(std::span<float> model, ServerState& state) = 0;

  // x_{t+1} into out, x unchanged: same computation and state update as
  // apply(). out has parameter_count() values and must share no memory with
  // x (std::invalid_argument otherwise). Throws like apply(); nothing is
  // modified then (the strategies here check everything before the first
  // write; the default implementation, copy x into out then apply(out), may
  // leave out holding a copy of x).
  virtual void apply_to(std::span<const float> x, std::span<float> out, ServerState& state);

  // The mean-based strategies: computes x_{t+1} from x (parameter_count()
  // values, unchanged) into the accumulator's own memory, element by element
  // (index i's accumulator value is read before x_{t+1}[i] is written there),
  // and hands that memory over: the result equals apply() on a copy of x.
  // The state is updated as by apply(); the aggregator is then empty and
  // allocates a new accumulator on its next add() or fold (so a merge needs
  // the model, the accumulator and no third model-sized buffer). Throws like
  // apply(); nothing modified then. Default (robust strategies, which have
  // no accumulator): returns std::nullopt and modifies nothing (use
  // apply_to).
  virtual std::optional<AlignedFloats> apply_into_accumulator(std::span<const float> x, ServerState& state);

  // Drops the contributions added (and the parts folded) since the last apply.
  virtual void reset() = 0;

  // Bytes held besides the model and the state (accumulator or kept deltas).
  virtual int64_t held_bytes() const = 0;

  // "one accumulator" (mean-based) or "all K deltas" (robust), with sizes.
  virtual std::string describe_memory() const;

  // The strategy name as configured ("fedavg", ...).
  virtual std::string name() const = 0;

  // ---- Replaying a merge's noise (central DP, dp.hpp).
  // A merge is a deterministic function of the base version, the state, the
  // contributions (and their order) and the seed its Gaussian noise was
  // drawn from; everything else is bit-identical whatever the number of
  // OpenMP threads. With dp.seed == 0 that seed is a fresh std::random_device
  // draw, so a merge that must be verifiable later records
  // noise_seed_used() with its result and the replay passes it back with
  // set_noise_seed() before its apply.

  // The seed the last successful apply(), apply_to() or
  // apply_into_accumulator() drew its noise from (the delta noise and, with
  // adaptive clipping, the count noise, which derives from the same seed):
  // round_seed(dp.seed, rounds), or the seed given to set_noise_seed(). Never
  // 0 when noise was added; 0 when the last apply added none (no dp, zero
  // noise, a strategy without noise) or before the first apply.
  uint64_t noise_seed_used() const { return noise_seed_used_; }

  // Makes the next successful apply (of any of the three forms) draw its
  // noise from exactly `seed` instead of round_seed(dp.seed, state.rounds);
  // that apply clears it (a failed apply, which modifies nothing, keeps it).
  // seed = 0 clears a pending seed. Strategies that add no noise ignore it.
  void set_noise_seed(uint64_t seed) { pending_noise_seed_ = seed; }

  int64_t parameter_count() const { return parameter_count_; }

 protected:
  explicit Aggregator(int64_t parameter_count);
  // For strategies that add noise: the seed of this apply's noise, the
  // pending set_noise_seed() one if any, else round_seed(configured_seed,
  // round) (a std::random_device draw when configured_seed == 0). Does not
  // clear the pending seed: end_noise() does, once the apply succeeds.
  uint64_t noise_seed_for(uint64_t configured_seed, int64_t round) const {
    return pending_noise_seed_ != 0 ? pending_noise_seed_ : round_seed(configured_seed, round);
  }
  // Call once an apply has succeeded: records its seed for noise_seed_used()
  // (0: no noise added) and clears the pending set_noise_seed() one.
  void end_noise(uint64_t seed_used) {
    noise_seed_used_ = seed_used;
    pending_noise_seed_ = 0;
  }
  // Throws std::invalid_argument unless delta has parameter_count() values,
  // num_samples is finite and >= 0 and staleness_factor finite and > 0.
  void check_contribution(std::span<const float> delta, double num_samples, double staleness_factor) const;
  // Throws std::invalid_argument unless num_samples is finite and >= 0 and
  // staleness_factor finite and > 0.
  static void check_weights(double num_samples, double staleness_factor);
  // Throws std::invalid_argument unless model has parameter_count() values.
  void check_model(std::span<const float> model) const;
  // Throws std::invalid_argument unless offset >= 0, offset + n <=
  // parameter_count() and coef is finite and > 0 (`what` names the call).
  void check_part_range(int64_t offset, size_t n, double coef, const char* what) const;
  // Throws std::invalid_argument unless out has parameter_count() values and
  // shares no memory with x.
  void check_apply_to(std::span<const float> x, std::span<const float> out) const;
  // The std::logic_error thrown by the folding calls of a strategy that
  // cannot fold.
  [[noreturn]] void cannot_fold(const char* what) const;

 private:
  int64_t parameter_count_;
  uint64_t noise_seed_used_ = 0;
  uint64_t pending_noise_seed_ = 0;  // from set_noise_seed(); 0 = none
};

// The strategy named by config.name, for vectors of parameter_count values,
// with its defaults resolved (AggregatorConfig::resolved). `state` is the
// model's persisted ServerState: strategies whose add() depends on it read it
// here (adaptive DP clipping: the current clip norm). Throws
// std::invalid_argument naming an unknown strategy, a bad parameter,
// parameter_count < 1, or dp on a robust strategy.
std::unique_ptr<Aggregator> make_aggregator(const AggregatorConfig& config, int64_t parameter_count,
                                            const ServerState& state = {});

// True for mean|fedavg|fedavgm|fedadam|fedyogi|fedadagrad (one accumulator).
bool is_mean_based(const std::string& strategy_name);

// True for the nine strategies above; others may be registered
// (federation/registry.hpp).
bool is_builtin_aggregator(const std::string& strategy_name);

// Throws std::invalid_argument (naming the key and both sizes) if `state`
// holds vector `key` with a size other than n. An absent key is fine.
void check_state_vector(const ServerState& state, const std::string& key, int64_t n);

// The state vector `key` of n values, created zero-filled if absent (call
// check_state_vector first to keep apply's all-or-nothing guarantee); throws
// like check_state_vector.
std::vector<float>& state_vector(ServerState& state, const std::string& key, int64_t n);

}  // namespace fedhub::federation
