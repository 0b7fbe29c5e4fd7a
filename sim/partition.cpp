#include "sim/partition.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fedhub::sim {
namespace {

// Stream numbers: one generator per purpose, so that e.g. the caps do not
// shift the Dirichlet draws.
constexpr uint32_t kIidStream = 1;
constexpr uint32_t kDirichletStream = 2;  // with the class
constexpr uint32_t kCapStream = 3;        // with the participant

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("partition: " + what); }

// A generator fixed by (seed, stream, which); std::seed_seq and
// std::mt19937_64 are specified exactly by the standard.
std::mt19937_64 generator(uint64_t seed, uint32_t stream, uint64_t which) {
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), stream,
                    static_cast<uint32_t>(which), static_cast<uint32_t>(which >> 32)};
  return std::mt19937_64(seq);
}

// Uniform in [0, n), n > 0, without modulo bias; from the engine's raw output
// only, so the same on every platform (std::uniform_int_distribution is not).
uint64_t below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t threshold = (0 - n) % n;  // 2^64 mod n: the biased low values
  for (;;) {
    const uint64_t r = rng();
    if (r >= threshold) return r % n;
  }
}

// Fisher-Yates of the first k positions: v[0, k) becomes a uniformly random
// k-subset of v in random order.
void shuffle_prefix(std::vector<int64_t>& v, size_t k, std::mt19937_64& rng) {
  const size_t m = v.size();
  for (size_t i = 0; i < k && i + 1 < m; ++i) std::swap(v[i], v[i + below(rng, m - i)]);
}

// "0-4,7,9-11" for a sorted set of labels.
std::string ranges(const std::set<int32_t>& labels) {
  std::ostringstream out;
  for (auto it = labels.begin(); it != labels.end();) {
    const int32_t first = *it;
    int32_t last = first;
    while (++it != labels.end() && *it == last + 1) last = *it;
    if (first != *labels.begin()) out << ',';
    out << first;
    if (last != first) out << '-' << last;
  }
  return out.str();
}

void check(const datasets::Dataset& data, int participants, const PartitionSpec& spec) {
  if (participants < 1) fail("participants must be >= 1 (got " + std::to_string(participants) + ")");
  if (spec.kind == PartitionSpec::Kind::dirichlet && !(spec.alpha > 0 && std::isfinite(spec.alpha))) {
    std::ostringstream a;
    a << spec.alpha;
    fail("alpha must be finite and > 0 for a dirichlet partition (got " + a.str() + ")");
  }
  if (spec.samples < 0) fail("samples must be >= 0, 0 meaning all (got " + std::to_string(spec.samples) + ")");
  if (data.size() == 0) fail("data has no samples to partition");
  if (spec.kind != PartitionSpec::Kind::shared && spec.kind != PartitionSpec::Kind::iid &&
      spec.kind != PartitionSpec::Kind::dirichlet)
    fail("kind " + std::to_string(static_cast<int>(spec.kind)) + " is not shared, iid or dirichlet");
  const std::set<int32_t> present(data.labels.begin(), data.labels.end());
  std::set<int32_t> listed;
  for (const int32_t c : spec.classes) {
    if (c < 0) fail("classes: " + std::to_string(c) + " is not a label (labels are >= 0)");
    if (!listed.insert(c).second) fail("classes: " + std::to_string(c) + " is listed twice");
    if (!present.count(c))
      fail("classes: " + std::to_string(c) + " has no samples in the data (labels present: " + ranges(present) + ")");
  }
}

// The kept samples grouped by label: (label, its indices ascending), by label.
std::vector<std::pair<int32_t, std::vector<int64_t>>> kept_by_class(const datasets::Dataset& data,
                                                                    const std::vector<int32_t>& classes) {
  const std::set<int32_t> keep(classes.begin(), classes.end());
  std::vector<std::pair<int32_t, std::vector<int64_t>>> out;
  std::vector<int32_t> labels(data.labels.begin(), data.labels.end());
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  for (const int32_t l : labels)
    if (keep.empty() || keep.count(l)) out.push_back({l, {}});
  for (int64_t i = 0; i < data.size(); ++i) {
    const int32_t l = data.labels[static_cast<size_t>(i)];
    const auto it = std::lower_bound(out.begin(), out.end(), l, [](const auto& e, int32_t v) { return e.first < v; });
    if (it != out.end() && it->first == l) it->second.push_back(i);
  }
  return out;
}

// Proportions over n participants from a symmetric Dirichlet(alpha): n
// Gamma(alpha, 1) draws, normalised. With a very small alpha every draw may
// underflow to 0; the limit of Dirichlet(alpha) as alpha -> 0 puts all mass
// on one participant chosen uniformly, which is what such a class gets.
std::vector<double> dirichlet(double alpha, int n, std::mt19937_64& rng) {
  std::gamma_distribution<double> gamma(alpha, 1.0);
  std::vector<double> p(static_cast<size_t>(n));
  double sum = 0;
  for (double& g : p) sum += (g = gamma(rng));
  if (!(sum > 0) || !std::isfinite(sum)) {
    std::fill(p.begin(), p.end(), 0.0);
    p[below(rng, static_cast<uint64_t>(n))] = 1;
    return p;
  }
  for (double& g : p) g /= sum;
  return p;
}

// Splits m items by proportions p (summing to about 1): floor of each quota,
// then one more to the largest remainders (ties to the lower index), so the
// counts add up to m exactly.
std::vector<int64_t> largest_remainder(const std::vector<double>& p, int64_t m) {
  const size_t n = p.size();
  std::vector<int64_t> counts(n);
  std::vector<double> rest(n);
  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const double quota = p[i] * static_cast<double>(m);
    counts[i] = std::min<int64_t>(static_cast<int64_t>(std::floor(quota)), m);
    rest[i] = quota - static_cast<double>(counts[i]);
    total += counts[i];
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rest[a] > rest[b]; });
  for (size_t k = 0; total < m; k = (k + 1) % n, ++total) ++counts[order[k]];
  // Quotas add up to at most m (up to rounding), so this never runs in
  // practice; it keeps the sum exact whatever the rounding.
  for (; total > m; --total) --*std::max_element(counts.begin(), counts.end());
  return counts;
}

}  // namespace

std::vector<std::vector<int64_t>> partition(const datasets::Dataset& data, int participants, const PartitionSpec& spec,
                                            uint64_t seed) {
  check(data, participants, spec);
  const auto by_class = kept_by_class(data, spec.classes);
  const size_t n = static_cast<size_t>(participants);
  std::vector<std::vector<int64_t>> parts(n);

  switch (spec.kind) {
    case PartitionSpec::Kind::shared: {
      std::vector<int64_t> all;
      for (const auto& [label, indices] : by_class) all.insert(all.end(), indices.begin(), indices.end());
      std::sort(all.begin(), all.end());
      for (auto& part : parts) part = all;
      break;
    }
    case PartitionSpec::Kind::iid: {
      std::vector<int64_t> all;
      for (const auto& [label, indices] : by_class) all.insert(all.end(), indices.begin(), indices.end());
      std::sort(all.begin(), all.end());
      if (all.size() < n)
        fail("participants (" + std::to_string(n) + ") exceeds the " + std::to_string(all.size()) +
             " kept samples: iid needs at least one sample per participant");
      auto rng = generator(seed, kIidStream, 0);
      shuffle_prefix(all, all.size(), rng);
      const size_t base = all.size() / n, extra = all.size() % n;
      size_t at = 0;
      for (size_t p = 0; p < n; ++p) {
        const size_t size = base + (p < extra ? 1 : 0);
        parts[p].assign(all.begin() + static_cast<std::ptrdiff_t>(at),
                        all.begin() + static_cast<std::ptrdiff_t>(at + size));
        std::sort(parts[p].begin(), parts[p].end());
        at += size;
      }
      break;
    }
    case PartitionSpec::Kind::dirichlet: {
      int64_t kept = 0;
      for (const auto& [label, indices] : by_class) {
        auto rng = generator(seed, kDirichletStream, static_cast<uint64_t>(static_cast<uint32_t>(label)));
        const auto p = dirichlet(spec.alpha, participants, rng);
        auto shuffled = indices;
        shuffle_prefix(shuffled, shuffled.size(), rng);
        const auto counts = largest_remainder(p, static_cast<int64_t>(shuffled.size()));
        size_t at = 0;
        for (size_t i = 0; i < n; ++i) {
          const size_t c = static_cast<size_t>(counts[i]);
          parts[i].insert(parts[i].end(), shuffled.begin() + static_cast<std::ptrdiff_t>(at),
                          shuffled.begin() + static_cast<std::ptrdiff_t>(at + c));
          at += c;
        }
        kept += static_cast<int64_t>(shuffled.size());
      }
      for (size_t i = 0; i < n; ++i)
        if (parts[i].empty()) {
          std::ostringstream msg;
          msg << "participant " << i << " of " << n << " gets no samples from the dirichlet partition with alpha "
              << spec.alpha << " (" << kept << " kept samples in " << by_class.size()
              << " classes); a participant cannot train on nothing: use a larger alpha or fewer participants";
          fail(msg.str());
        }
      for (auto& part : parts) std::sort(part.begin(), part.end());
      break;
    }
  }

  if (spec.samples > 0)
    for (size_t p = 0; p < n; ++p) {
      auto& part = parts[p];
      const size_t cap = static_cast<size_t>(spec.samples);
      if (part.size() <= cap) continue;
      auto rng = generator(seed, kCapStream, p);
      shuffle_prefix(part, cap, rng);
      part.resize(cap);
      std::sort(part.begin(), part.end());
    }
  return parts;
}

std::vector<datasets::Dataset> partition_data(const datasets::Dataset& data, int participants,
                                              const PartitionSpec& spec, uint64_t seed) {
  const auto parts = partition(data, participants, spec, seed);
  std::vector<datasets::Dataset> out;
  out.reserve(parts.size());
  for (const auto& part : parts) out.push_back(datasets::subset(data, part));
  return out;
}

std::vector<std::vector<int64_t>> label_counts(const datasets::Dataset& data,
                                               const std::vector<std::vector<int64_t>>& parts, int64_t num_labels) {
  int64_t width = std::max<int64_t>(num_labels, 0);
  for (const int32_t l : data.labels) width = std::max<int64_t>(width, int64_t{l} + 1);
  std::vector<std::vector<int64_t>> out(parts.size(), std::vector<int64_t>(static_cast<size_t>(width), 0));
  for (size_t p = 0; p < parts.size(); ++p)
    for (const int64_t i : parts[p]) {
      if (i < 0 || i >= data.size())
        throw std::invalid_argument("label_counts: parts[" + std::to_string(p) + "] holds index " + std::to_string(i) +
                                    ", outside the data set of " + std::to_string(data.size()) + " samples");
      const int32_t l = data.labels[static_cast<size_t>(i)];
      if (l >= 0) ++out[p][static_cast<size_t>(l)];
    }
  return out;
}

}  // namespace fedhub::sim
