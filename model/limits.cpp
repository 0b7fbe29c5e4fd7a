#include "model/limits.hpp"

namespace fedhub {

namespace {

std::optional<uint64_t> times(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<uint64_t> plus(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// One tensor's element count; nullopt on overflow or a negative dimension.
std::optional<uint64_t> elements(const std::vector<int64_t>& shape) {
  std::optional<uint64_t> n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    n = times(*n, static_cast<uint64_t>(d));
    if (!n) return std::nullopt;
  }
  return n;
}

}  // namespace

std::optional<uint64_t> count_parameters(const Architecture& arch) {
  std::optional<uint64_t> total = 0;
  for (const auto& layer : arch.layers)
    for (const auto& t : layer.parameters()) {
      const auto n = elements(t.shape);
      if (!n) return std::nullopt;
      total = plus(*total, *n);
      if (!total) return std::nullopt;
    }
  return total;
}

std::string check_model_limits(const ModelSpec& spec, const ModelLimits& limits, const std::string& where) {
  const auto parameters = count_parameters(spec.architecture);
  if (!parameters)
    return "the architecture has more than 2^64 parameters; " + where + " allows at most " +
           std::to_string(limits.max_parameters) + " (max_parameters)";
  if (*parameters > limits.max_parameters)
    return "the architecture has " + std::to_string(*parameters) + " parameters; " + where + " allows at most " +
           std::to_string(limits.max_parameters) + " (max_parameters)";
  const auto bytes = times(*parameters, sizeof(float));
  if (!bytes || *bytes > limits.max_model_bytes)
    return "the architecture's weights take " + (bytes ? std::to_string(*bytes) : std::string("more than 2^64")) +
           " bytes (" + std::to_string(*parameters) + " parameters); " + where + " allows at most " +
           std::to_string(limits.max_model_bytes) + " bytes (max_model_bytes)";
  const auto& r = spec.recipe;
  if (r.steps < 0 || static_cast<uint64_t>(r.steps) > limits.max_steps)
    return "the recipe asks for " + std::to_string(r.steps) + " steps per round; " + where + " allows at most " +
           std::to_string(limits.max_steps) + " (max_steps)";
  if (r.batch_size < 0 || static_cast<uint64_t>(r.batch_size) > limits.max_batch_size)
    return "the recipe's batch size is " + std::to_string(r.batch_size) + "; " + where + " allows at most " +
           std::to_string(limits.max_batch_size) + " (max_batch_size)";
  return {};
}

}  // namespace fedhub
