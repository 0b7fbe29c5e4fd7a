// Aggregation strategies behind one small interface (Flower's strategy/ layout:
// one class per strategy, chosen by name; shared arithmetic in aggregate.hpp).
//
// Everything works on flat float32 vectors (model/flat.hpp). A round: the hub makes
// (or keeps) an Aggregator for a model, add()s each accepted contribution's
// delta D = x_local - x_base as it arrives (its sample count and its staleness
// factor from staleness_weight()), then apply()s: x_t -> x_{t+1} in place,
// updating the model's ServerState (optimizer moments, round counter, DP clip
// norm), which the hub persists with the new version. apply() leaves the
// aggregator empty and ready for the next round.
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
// of floats whatever K; server-optimizer moments live in the ServerState). The
// robust ones (median, trimmed-mean, krum) keep every delta until apply (K
// models), plus one model-sized result during apply.
//
// Thread safety: an Aggregator is not thread-safe; its calls use OpenMP
// threads internally.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "federation/dp.hpp"

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
  // values: validate it first, see validation.hpp), its sample count
  // (>= 0; > 0 when weighting by samples) and its staleness factor from
  // staleness_weight() (> 0: a factor of 0 means the contribution was
  // rejected and must not be added). Mean-based strategies fold it into their
  // accumulator at once (the delta can be freed on return); robust ones copy
  // it. Throws std::invalid_argument naming a bad size or weight; nothing is
  // added then.
  virtual void add(std::span<const float> delta, double num_samples, double staleness_factor) = 0;

  // Several contributions at once, same contract as add() for each (all are
  // checked before any is added). Mean-based strategies do one fused pass:
  // each delta is read once and the accumulator written once (aggregate.hpp,
  // weighted_sum). The three spans must have the same length.
  virtual void add_many(std::span<const std::span<const float>> deltas, std::span<const double> num_samples,
                        std::span<const double> staleness_factors);

  // Contributions added since the last apply (or reset).
  virtual int64_t count() const = 0;

  // x_t -> x_{t+1} in place (model has parameter_count() values), using and
  // updating `state` (server optimizers' vectors, DP clip norm; rounds + 1),
  // then empties the aggregator. Throws (nothing modified: model, state and
  // contributions as before) std::logic_error when there are no
  // contributions, std::invalid_argument on a size mismatch of the model or a
  // state vector, or when the strategy cannot run with this many
  // contributions (Krum: n > 2f + 2).
  virtual void apply(std::span<float> model, ServerState& state) = 0;

  // Drops the contributions added since the last apply.
  virtual void reset() = 0;

  // Bytes held besides the model and the state (accumulator or kept deltas).
  virtual int64_t held_bytes() const = 0;

  // "one accumulator" (mean-based) or "all K deltas" (robust), with sizes.
  virtual std::string describe_memory() const;

  // The strategy name as configured ("fedavg", ...).
  virtual std::string name() const = 0;

  int64_t parameter_count() const { return parameter_count_; }

 protected:
  explicit Aggregator(int64_t parameter_count);
  // Throws std::invalid_argument unless delta has parameter_count() values,
  // num_samples is finite and >= 0 and staleness_factor finite and > 0.
  void check_contribution(std::span<const float> delta, double num_samples, double staleness_factor) const;
  // Throws std::invalid_argument unless model has parameter_count() values.
  void check_model(std::span<const float> model) const;

 private:
  int64_t parameter_count_;
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

// Throws std::invalid_argument (naming the key and both sizes) if `state`
// holds vector `key` with a size other than n. An absent key is fine.
void check_state_vector(const ServerState& state, const std::string& key, int64_t n);

// The state vector `key` of n values, created zero-filled if absent (call
// check_state_vector first to keep apply's all-or-nothing guarantee); throws
// like check_state_vector.
std::vector<float>& state_vector(ServerState& state, const std::string& key, int64_t n);

}  // namespace fedhub::federation
