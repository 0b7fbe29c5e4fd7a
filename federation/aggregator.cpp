#include "federation/aggregator.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "federation/registry.hpp"
#include "federation/strategies.hpp"

namespace fedhub::federation {
namespace {

bool known_strategy(const std::string& n) { return is_builtin_aggregator(n) || is_registered_aggregator(n); }

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("aggregator config: " + what);
}

}  // namespace

bool is_builtin_aggregator(const std::string& n) {
  return is_mean_based(n) || n == "median" || n == "trimmed-mean" || n == "krum";
}

bool is_mean_based(const std::string& n) {
  return n == "mean" || n == "fedavg" || n == "fedavgm" || n == "fedadam" || n == "fedyogi" || n == "fedadagrad";
}

// ------------------------------------------------------------ AggregatorConfig

AggregatorConfig AggregatorConfig::resolved() const {
  AggregatorConfig c = *this;
  if (!known_strategy(c.name))
    throw std::invalid_argument("unknown aggregation strategy '" + c.name + "' (expected " + aggregator_names() + ")");
  const bool nan_lr = std::isnan(c.server_lr);
  if (nan_lr) {
    if (c.name == "fedadam" || c.name == "fedadagrad")
      c.server_lr = 0.1;
    else if (c.name == "fedyogi")
      c.server_lr = 0.01;
    else
      c.server_lr = 1.0;
  }
  if (std::isnan(c.momentum)) c.momentum = 0.9;
  if (std::isnan(c.beta1)) c.beta1 = c.name == "fedadagrad" ? 0.0 : 0.9;
  if (std::isnan(c.beta2)) c.beta2 = 0.99;
  if (std::isnan(c.tau)) c.tau = c.name == "fedyogi" ? 1e-3 : 1e-9;
  if (c.weighting.empty()) c.weighting = (c.name == "mean" || c.dp.enabled) ? "uniform" : "samples";

  require(std::isfinite(c.server_lr) && c.server_lr > 0, "server_lr must be finite and > 0, got " + num(c.server_lr));
  require(std::isfinite(c.momentum) && c.momentum >= 0 && c.momentum < 1,
          "momentum must be in [0, 1), got " + num(c.momentum));
  require(std::isfinite(c.beta1) && c.beta1 >= 0 && c.beta1 < 1, "beta1 must be in [0, 1), got " + num(c.beta1));
  require(std::isfinite(c.beta2) && c.beta2 >= 0 && c.beta2 < 1, "beta2 must be in [0, 1), got " + num(c.beta2));
  require(std::isfinite(c.tau) && c.tau > 0, "tau must be finite and > 0, got " + num(c.tau));
  require(c.weighting == "samples" || c.weighting == "uniform",
          "weighting must be samples|uniform, got '" + c.weighting + "'");
  require(c.trim_beta >= 0 && c.trim_beta < 0.5, "trim_beta must be in [0, 0.5), got " + num(c.trim_beta));
  require(c.krum_byzantine >= 0, "krum_byzantine (f) must be >= 0, got " + std::to_string(c.krum_byzantine));
  require(c.multi_krum >= 1, "multi_krum (m) must be >= 1, got " + std::to_string(c.multi_krum));
  if (c.dp.enabled) {
    require(is_mean_based(c.name), "dp needs a mean-based strategy, not '" + c.name + "'");
    require(c.weighting == "uniform",
            "dp needs weighting=uniform (a sample-weighted mean's sensitivity depends on the claimed counts)");
    if (auto err = check_dp_config(c.dp); !err.empty()) throw std::invalid_argument("aggregator config: " + err);
    c.divide_by_count = true;
  }
  return c;
}

std::string AggregatorConfig::to_json() const {
  nlohmann::json j;
  j["name"] = name;
  j["server_lr"] = server_lr;  // NaN -> null
  j["momentum"] = momentum;
  j["beta1"] = beta1;
  j["beta2"] = beta2;
  j["tau"] = tau;
  j["weighting"] = weighting;
  j["divide_by_count"] = divide_by_count;
  j["trim_beta"] = trim_beta;
  j["krum_byzantine"] = krum_byzantine;
  j["multi_krum"] = multi_krum;
  j["dp"] = {{"enabled", dp.enabled},
             {"noise_multiplier", dp.noise_multiplier},
             {"clip_norm", dp.clip_norm},
             {"adaptive_clipping", dp.adaptive_clipping},
             {"target_unclipped_quantile", dp.target_unclipped_quantile},
             {"clip_learning_rate", dp.clip_learning_rate},
             {"count_noise_stddev", dp.count_noise_stddev},
             {"seed", dp.seed}};
  return j.dump();
}

namespace {

double get_double(const nlohmann::json& v, const std::string& key) {
  if (v.is_null()) return AggregatorConfig::kDefault;
  if (!v.is_number()) throw std::invalid_argument("aggregator config: '" + key + "' must be a number or null");
  return v.get<double>();
}

int64_t get_int(const nlohmann::json& v, const std::string& key) {
  if (!v.is_number_integer()) throw std::invalid_argument("aggregator config: '" + key + "' must be an integer");
  return v.get<int64_t>();
}

bool get_bool(const nlohmann::json& v, const std::string& key) {
  if (!v.is_boolean()) throw std::invalid_argument("aggregator config: '" + key + "' must be true or false");
  return v.get<bool>();
}

std::string get_string(const nlohmann::json& v, const std::string& key) {
  if (!v.is_string()) throw std::invalid_argument("aggregator config: '" + key + "' must be a string");
  return v.get<std::string>();
}

DpConfig dp_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("aggregator config: 'dp' must be an object");
  DpConfig dp;
  for (const auto& [key, v] : j.items()) {
    const std::string k = "dp." + key;
    if (key == "enabled")
      dp.enabled = get_bool(v, k);
    else if (key == "noise_multiplier")
      dp.noise_multiplier = get_double(v, k);
    else if (key == "clip_norm")
      dp.clip_norm = get_double(v, k);
    else if (key == "adaptive_clipping")
      dp.adaptive_clipping = get_bool(v, k);
    else if (key == "target_unclipped_quantile")
      dp.target_unclipped_quantile = get_double(v, k);
    else if (key == "clip_learning_rate")
      dp.clip_learning_rate = get_double(v, k);
    else if (key == "count_noise_stddev")
      dp.count_noise_stddev = get_double(v, k);
    else if (key == "seed") {
      if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
        throw std::invalid_argument("aggregator config: 'dp.seed' must be a non-negative integer");
      dp.seed = v.get<uint64_t>();
    } else
      throw std::invalid_argument("aggregator config: unknown key '" + k + "'");
  }
  return dp;
}

}  // namespace

AggregatorConfig AggregatorConfig::from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw std::invalid_argument(std::string("aggregator config: malformed JSON: ") + e.what());
  }
  if (!j.is_object()) throw std::invalid_argument("aggregator config: expected a JSON object");
  AggregatorConfig c;
  for (const auto& [key, v] : j.items()) {
    if (key == "name")
      c.name = get_string(v, key);
    else if (key == "server_lr")
      c.server_lr = get_double(v, key);
    else if (key == "momentum")
      c.momentum = get_double(v, key);
    else if (key == "beta1")
      c.beta1 = get_double(v, key);
    else if (key == "beta2")
      c.beta2 = get_double(v, key);
    else if (key == "tau")
      c.tau = get_double(v, key);
    else if (key == "weighting")
      c.weighting = get_string(v, key);
    else if (key == "divide_by_count")
      c.divide_by_count = get_bool(v, key);
    else if (key == "trim_beta")
      c.trim_beta = get_double(v, key);
    else if (key == "krum_byzantine")
      c.krum_byzantine = get_int(v, key);
    else if (key == "multi_krum")
      c.multi_krum = get_int(v, key);
    else if (key == "dp")
      c.dp = dp_from_json(v);
    else
      throw std::invalid_argument("aggregator config: unknown key '" + key + "'");
  }
  return c;
}

// ------------------------------------------------------------ ServerState

namespace {

static_assert(std::endian::native == std::endian::little,
              "ServerState's byte layout is little-endian; add byte swapping for this platform");
constexpr char kMagic[4] = {'F', 'H', 'S', 'S'};
constexpr uint32_t kFormatVersion = 1;

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

struct Reader {
  std::string_view in;
  size_t pos = 0;
  void need(size_t n, const std::string& what) {
    if (in.size() - pos < n)
      throw std::invalid_argument("server state: truncated at " + what + " (offset " + std::to_string(pos) +
                                  ", needs " + std::to_string(n) + " bytes, " + std::to_string(in.size() - pos) +
                                  " left)");
  }
  template <class T>
  T get(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, in.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
};

}  // namespace

std::string ServerState::serialize() const {
  std::string out(kMagic, 4);
  put<uint32_t>(out, kFormatVersion);
  put<int64_t>(out, rounds);
  put<uint32_t>(out, static_cast<uint32_t>(vectors.size()));
  for (const auto& [name, values] : vectors) {
    put<uint32_t>(out, static_cast<uint32_t>(name.size()));
    out += name;
    put<uint64_t>(out, values.size());
    out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  }
  return out;
}

ServerState ServerState::deserialize(std::string_view bytes) {
  Reader r{bytes};
  r.need(4, "magic");
  if (std::memcmp(bytes.data(), kMagic, 4) != 0)
    throw std::invalid_argument("server state: bad magic (expected \"FHSS\")");
  r.pos = 4;
  const auto version = r.get<uint32_t>("format version");
  if (version != kFormatVersion)
    throw std::invalid_argument("server state: unknown format version " + std::to_string(version) + " (expected " +
                                std::to_string(kFormatVersion) + ")");
  ServerState s;
  s.rounds = r.get<int64_t>("rounds");
  const auto entries = r.get<uint32_t>("entry count");
  for (uint32_t e = 0; e < entries; ++e) {
    const std::string at = "entry " + std::to_string(e);
    const auto name_len = r.get<uint32_t>(at + " name length");
    r.need(name_len, at + " name");
    std::string name(bytes.substr(r.pos, name_len));
    r.pos += name_len;
    const auto count = r.get<uint64_t>(at + " ('" + name + "') value count");
    if (count > (bytes.size() - r.pos) / sizeof(float))
      throw std::invalid_argument("server state: truncated at " + at + " ('" + name +
                                  "') values: " + std::to_string(count) + " floats announced, " +
                                  std::to_string(bytes.size() - r.pos) + " bytes left");
    std::vector<float> values(static_cast<size_t>(count));
    if (!values.empty()) std::memcpy(values.data(), bytes.data() + r.pos, values.size() * sizeof(float));
    r.pos += values.size() * sizeof(float);
    if (!s.vectors.emplace(std::move(name), std::move(values)).second)
      throw std::invalid_argument("server state: " + at + " repeats a name");
  }
  if (r.pos != bytes.size())
    throw std::invalid_argument("server state: " + std::to_string(bytes.size() - r.pos) + " trailing bytes");
  return s;
}

void check_state_vector(const ServerState& state, const std::string& key, int64_t n) {
  auto it = state.vectors.find(key);
  if (it != state.vectors.end() && static_cast<int64_t>(it->second.size()) != n)
    throw std::invalid_argument("server state vector '" + key + "' has " + std::to_string(it->second.size()) +
                                " values, the model has " + std::to_string(n));
}

std::vector<float>& state_vector(ServerState& state, const std::string& key, int64_t n) {
  check_state_vector(state, key, n);
  auto [it, inserted] = state.vectors.try_emplace(key);
  if (inserted) it->second.assign(static_cast<size_t>(n), 0.0f);
  return it->second;
}

// ------------------------------------------------------------ Aggregator

Aggregator::Aggregator(int64_t parameter_count) : parameter_count_(parameter_count) {
  if (parameter_count < 1)
    throw std::invalid_argument("aggregator: parameter_count must be >= 1, got " + std::to_string(parameter_count));
}

Aggregator::~Aggregator() = default;

void Aggregator::add_many(std::span<const std::span<const float>> deltas, std::span<const double> num_samples,
                          std::span<const double> staleness_factors) {
  if (deltas.size() != num_samples.size() || deltas.size() != staleness_factors.size())
    throw std::invalid_argument("add_many: " + std::to_string(deltas.size()) + " deltas, " +
                                std::to_string(num_samples.size()) + " sample counts and " +
                                std::to_string(staleness_factors.size()) + " staleness factors");
  for (size_t k = 0; k < deltas.size(); ++k) check_contribution(deltas[k], num_samples[k], staleness_factors[k]);
  for (size_t k = 0; k < deltas.size(); ++k) add(deltas[k], num_samples[k], staleness_factors[k]);
}

std::string Aggregator::describe_memory() const { return std::to_string(held_bytes()) + " bytes"; }

void Aggregator::check_weights(double num_samples, double staleness_factor) {
  if (!(std::isfinite(num_samples) && num_samples >= 0))
    throw std::invalid_argument("contribution's sample count must be finite and >= 0, got " + num(num_samples));
  if (!(std::isfinite(staleness_factor) && staleness_factor > 0))
    throw std::invalid_argument("contribution's staleness factor must be finite and > 0 (0 means rejected), got " +
                                num(staleness_factor));
}

void Aggregator::check_contribution(std::span<const float> delta, double num_samples, double staleness_factor) const {
  if (static_cast<int64_t>(delta.size()) != parameter_count_)
    throw std::invalid_argument("contribution has " + std::to_string(delta.size()) + " values, the model has " +
                                std::to_string(parameter_count_));
  check_weights(num_samples, staleness_factor);
}

void Aggregator::check_model(std::span<const float> model) const {
  if (static_cast<int64_t>(model.size()) != parameter_count_)
    throw std::invalid_argument("apply: the model has " + std::to_string(model.size()) + " values, the aggregator " +
                                std::to_string(parameter_count_));
}

void Aggregator::check_part_range(int64_t offset, size_t n, double coef, const char* what) const {
  const auto len = static_cast<int64_t>(n);
  if (offset < 0 || offset > parameter_count_ || len > parameter_count_ - offset)
    throw std::invalid_argument(std::string(what) + ": part [" + std::to_string(offset) + ", " +
                                std::to_string(offset) + " + " + std::to_string(n) + ") is outside the model's " +
                                std::to_string(parameter_count_) + " values");
  if (!(std::isfinite(coef) && coef > 0))
    throw std::invalid_argument(std::string(what) + ": the coefficient must be finite and > 0, got " + num(coef));
}

void Aggregator::check_apply_to(std::span<const float> x, std::span<const float> out) const {
  check_model(x);
  if (static_cast<int64_t>(out.size()) != parameter_count_)
    throw std::invalid_argument("apply_to: the output has " + std::to_string(out.size()) + " values, the aggregator " +
                                std::to_string(parameter_count_));
  const std::less<const float*> lt;
  if (lt(out.data(), x.data() + x.size()) && lt(x.data(), out.data() + out.size()))
    throw std::invalid_argument("apply_to: the output overlaps the model (use apply to update it in place)");
}

void Aggregator::cannot_fold(const char* what) const {
  throw std::logic_error(std::string(what) + ": strategy '" + name() +
                         "' cannot fold a contribution part by part (can_fold_parts() is false: add() whole deltas)");
}

bool Aggregator::can_fold_parts() const { return false; }

void Aggregator::fold_part(int64_t, std::span<const float>, double) { cannot_fold("fold_part"); }

void Aggregator::unfold_part(int64_t, std::span<const float>, double) { cannot_fold("unfold_part"); }

void Aggregator::count_folded(double, double) { cannot_fold("count_folded"); }

void Aggregator::uncount_folded(double, double) { cannot_fold("uncount_folded"); }

void Aggregator::apply_to(std::span<const float> x, std::span<float> out, ServerState& state) {
  check_apply_to(x, out);
  std::copy(x.begin(), x.end(), out.begin());
  apply(out, state);
}

std::optional<AlignedFloats> Aggregator::apply_into_accumulator(std::span<const float>, ServerState&) {
  return std::nullopt;
}

std::unique_ptr<Aggregator> make_aggregator(const AggregatorConfig& config, int64_t parameter_count,
                                            const ServerState& state) {
  const AggregatorConfig c = config.resolved();
  if (parameter_count < 1)
    throw std::invalid_argument("make_aggregator: parameter_count must be >= 1, got " +
                                std::to_string(parameter_count));
  if (!is_builtin_aggregator(c.name)) {
    auto made = registered_aggregator(c.name)(c, parameter_count, state);
    if (!made || made->parameter_count() != parameter_count)
      throw std::invalid_argument("make_aggregator: the factory registered for '" + c.name +
                                  "' made no aggregator for " + std::to_string(parameter_count) + " parameters");
    return made;
  }
  if (c.name == "mean" || c.name == "fedavg") return detail::make_mean(c, parameter_count, state);
  if (c.name == "fedavgm") return detail::make_fedavgm(c, parameter_count, state);
  if (c.name == "fedadam") return detail::make_fedadam(c, parameter_count, state);
  if (c.name == "fedyogi") return detail::make_fedyogi(c, parameter_count, state);
  if (c.name == "fedadagrad") return detail::make_fedadagrad(c, parameter_count, state);
  if (c.name == "median") return detail::make_median(c, parameter_count);
  if (c.name == "trimmed-mean") return detail::make_trimmed_mean(c, parameter_count);
  return detail::make_krum(c, parameter_count);
}

}  // namespace fedhub::federation
