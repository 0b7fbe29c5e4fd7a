#include "sim/target.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fedhub::sim {
namespace {

bool reached_at(const std::vector<VersionResult>& results, size_t end, double target, int window) {
  if (end == 0 || std::isnan(target)) return false;
  const size_t n = std::min<size_t>(end, static_cast<size_t>(window));
  double sum = 0;
  for (size_t i = end - n; i < end; ++i) sum += results[i].overall.accuracy;
  return sum / static_cast<double>(n) >= target;
}

}  // namespace

bool reached_target(const std::vector<VersionResult>& results, double target, int window) {
  if (window < 1) throw std::invalid_argument("reached_target: window must be >= 1");
  return reached_at(results, results.size(), target, window);
}

std::optional<double> time_to_target(const std::vector<VersionResult>& results, double target, int window) {
  if (window < 1) throw std::invalid_argument("time_to_target: window must be >= 1");
  for (size_t end = static_cast<size_t>(window); end <= results.size(); ++end)
    if (reached_at(results, end, target, window)) return results[end - 1].virtual_s;
  return std::nullopt;
}

}  // namespace fedhub::sim
