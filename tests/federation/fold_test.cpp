// Folding contributions part by part, unfolding them, and computing the new
// version into another buffer (apply_to) or into the accumulator itself
// (apply_into_accumulator).
//
// Tolerances (u = 2^-24, float32's unit roundoff):
// - Folding the parts of K deltas vs add() of the whole deltas: each
//   accumulator element is a float32 sum of the same K terms c_k * d_k[i]
//   (the product rounded the same way: both go through weighted_sum's
//   elementwise kernel), possibly in another order when uploads interleave.
//   Each computation is within gamma_K * S_i of the exact sum (S_i =
//   sum_k |c_k d_k[i]|, gamma_K ~ K u), so they differ by at most 2 K u S_i.
//   In the same order they are bit-identical in this build (every element
//   sees the same operations wherever the part boundaries fall); the test
//   asserts the bound, not the identity, so a compiler that contracts a
//   kernel's scalar tail differently from its vector body still passes.
// - Unfolding: acc' = fl(fl(a + p) - p) with the same float32 product p, so
//   |acc' - a| <= u |a + p| + u |a'| <= 2u (|a| + |p|) + O(u^2); asserted as
//   2^-22 (|a| + |p|) per element. Counts and weight sums are restored
//   exactly (weights are kept per contribution).
// - apply_into_accumulator / apply_to vs apply: the same step kernel on the
//   same data, only the destination differs: bit-identical in this build;
//   asserted to 2^-20 (|x| + |x_new - x|) per element (room for one
//   differently contracted multiply-add in each of the step's few operations).
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "federation/aggregate.hpp"
#include "federation/aggregator.hpp"
#include "federation/mean.hpp"
#include "test_util.hpp"

using namespace fedhub::federation;
using fedhub::AlignedFloats;
using fedhub::federation::test::check_close;

namespace {

using Vec = std::vector<float>;
constexpr double kU = 1.0 / (1 << 24);

AggregatorConfig named(const std::string& name) {
  AggregatorConfig c;
  c.name = name;
  return c;
}

MeanAggregator& mean_of(Aggregator& a) {
  auto* m = dynamic_cast<MeanAggregator*>(&a);
  BOOST_TEST_REQUIRE(m != nullptr);
  return *m;
}

Vec random_vec(int64_t n, std::mt19937& rng, float stddev = 1.0f) {
  std::normal_distribution<float> normal(0.0f, stddev);
  Vec v(static_cast<size_t>(n));
  for (auto& x : v) x = normal(rng);
  return v;
}

// Random part boundaries over [0, n): sizes from 1 to 40000 with some tiny
// parts, as (offset, size) pairs in order.
std::vector<std::pair<int64_t, int64_t>> random_split(int64_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int64_t> big(1, 40000), small(1, 9), pick(0, 3);
  std::vector<std::pair<int64_t, int64_t>> parts;
  for (int64_t lo = 0; lo < n;) {
    const int64_t len = std::min(n - lo, pick(rng) == 0 ? small(rng) : big(rng));
    parts.emplace_back(lo, len);
    lo += len;
  }
  return parts;
}

void fold_whole(Aggregator& a, const Vec& delta, double coef, const std::vector<std::pair<int64_t, int64_t>>& parts,
                bool unfold = false) {
  for (auto [lo, len] : parts) {
    const auto part = std::span<const float>(delta).subspan(static_cast<size_t>(lo), static_cast<size_t>(len));
    if (unfold)
      a.unfold_part(lo, part, coef);
    else
      a.fold_part(lo, part, coef);
  }
}

// S_i = sum_k |c_k d_k[i]| over the given contributions.
Vec magnitude(const std::vector<Vec>& deltas, const std::vector<double>& coefs) {
  Vec s(deltas[0].size(), 0.0f);
  for (size_t k = 0; k < deltas.size(); ++k)
    for (size_t i = 0; i < s.size(); ++i) s[i] += std::abs(static_cast<float>(coefs[k]) * deltas[k][i]);
  return s;
}

// Largest |a_i - b_i| / bound_i (<= 1 passes); bound_i = rel * scale_i (plus the smallest normal).
double worst_ratio(std::span<const float> a, std::span<const float> b, std::span<const float> scale, double rel) {
  BOOST_TEST_REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double bound = rel * scale[i] + std::numeric_limits<float>::min();
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) / bound);
  }
  return worst;
}

// The bound of apply_into / apply_to vs apply: 2^-20 (|x| + |x_new - x|).
double step_ratio(std::span<const float> got, std::span<const float> expected, std::span<const float> x) {
  Vec scale(x.size());
  for (size_t i = 0; i < x.size(); ++i) scale[i] = std::abs(x[i]) + std::abs(expected[i] - x[i]);
  return worst_ratio(got, expected, scale, 16 * kU);
}

double state_ratio(const ServerState& a, const ServerState& b) {
  BOOST_TEST_REQUIRE(a.vectors.size() == b.vectors.size());
  double worst = 0;
  for (const auto& [key, v] : b.vectors) {
    const auto& w = a.vectors.at(key);
    Vec scale(v.size());
    for (size_t i = 0; i < v.size(); ++i) scale[i] = std::abs(v[i]);
    worst = std::max(worst, worst_ratio(w, v, scale, 16 * kU));
  }
  return worst;
}

const char* const kMeanBased[] = {"fedavg", "mean", "fedavgm", "fedadam", "fedyogi", "fedadagrad"};

}  // namespace

BOOST_AUTO_TEST_SUITE(folding)

BOOST_AUTO_TEST_CASE(who_can_fold) {
  for (const char* name : kMeanBased) BOOST_TEST(make_aggregator(named(name), 4)->can_fold_parts(), name);
  for (const char* name : {"median", "trimmed-mean", "krum"})
    BOOST_TEST(!make_aggregator(named(name), 4)->can_fold_parts(), name);
  auto dp = named("fedavg");
  dp.dp.enabled = true;
  BOOST_TEST(!make_aggregator(dp, 4)->can_fold_parts());
}

BOOST_AUTO_TEST_CASE(weight_of_is_the_coefficient_add_uses) {
  BOOST_TEST(make_aggregator(named("fedavg"), 2)->weight_of(10, 0.5) == 5.0);
  BOOST_TEST(make_aggregator(named("fedadam"), 2)->weight_of(4, 0.25) == 1.0);
  BOOST_TEST(make_aggregator(named("mean"), 2)->weight_of(10, 0.5) == 0.5);  // uniform
  auto fedbuff = named("mean");
  fedbuff.divide_by_count = true;
  BOOST_TEST(make_aggregator(fedbuff, 2)->weight_of(10, 0.5) == 0.5);
  auto uniform = named("fedyogi");
  uniform.weighting = "uniform";
  BOOST_TEST(make_aggregator(uniform, 2)->weight_of(7, 0.75) == 0.75);
  for (const char* name : {"median", "trimmed-mean", "krum"})  // the scale of the copy they keep
    BOOST_TEST(make_aggregator(named(name), 2)->weight_of(1000, 0.3) == 0.3, name);
  // Invalid input throws, as add() would.
  auto fedavg = make_aggregator(named("fedavg"), 2);
  BOOST_CHECK_THROW(fedavg->weight_of(0, 1), std::invalid_argument);  // samples weighting needs > 0
  BOOST_CHECK_THROW(fedavg->weight_of(-1, 1), std::invalid_argument);
  BOOST_CHECK_THROW(fedavg->weight_of(std::nan(""), 1), std::invalid_argument);
  BOOST_CHECK_THROW(fedavg->weight_of(1, 0), std::invalid_argument);  // rejected contribution
  BOOST_CHECK_THROW(fedavg->weight_of(1, std::numeric_limits<double>::infinity()), std::invalid_argument);
  BOOST_CHECK_THROW(make_aggregator(named("median"), 2)->weight_of(1, -1), std::invalid_argument);
  auto dp = named("mean");
  dp.dp.enabled = true;
  BOOST_CHECK_THROW(make_aggregator(dp, 2)->weight_of(1, 1.5), std::invalid_argument);  // factor <= 1 with dp
  // The weight a sample-weighted add() applies: one contribution's mean is the delta itself.
  auto agg = make_aggregator(named("fedavg"), 2);
  agg->add(Vec{2, 4}, 3, 0.5);
  BOOST_TEST(mean_of(*agg).weight_sum() == agg->weight_of(3, 0.5));
}

BOOST_AUTO_TEST_CASE(fold_parts_over_random_splits_equal_add_of_the_whole_deltas) {
  const int64_t n = 100003;  // threaded kernels, ragged last tile
  std::mt19937 rng(7);
  const std::vector<double> samples = {10, 20, 5, 7, 1};
  const std::vector<double> factors = {1, 0.5, 1, 0.25, 0.7};
  std::vector<Vec> deltas;
  for (size_t k = 0; k < samples.size(); ++k) deltas.push_back(random_vec(n, rng));
  for (const std::string name : {"fedavg", "mean", "fedadam"}) {
    auto added = make_aggregator(named(name), n);
    auto folded = make_aggregator(named(name), n);
    auto interleaved = make_aggregator(named(name), n);
    std::vector<double> coefs;
    for (size_t k = 0; k < deltas.size(); ++k) {
      added->add(deltas[k], samples[k], factors[k]);
      const double coef = folded->weight_of(samples[k], factors[k]);
      coefs.push_back(coef);
      fold_whole(*folded, deltas[k], coef, random_split(n, rng));
      folded->count_folded(coef, samples[k]);
    }
    // Interleaved uploads: every contribution's parts in turn, in its own split.
    std::vector<std::vector<std::pair<int64_t, int64_t>>> splits;
    for (size_t k = 0; k < deltas.size(); ++k) splits.push_back(random_split(n, rng));
    for (size_t step = 0;; ++step) {
      bool any = false;
      for (size_t k = 0; k < deltas.size(); ++k)
        if (step < splits[k].size()) {
          any = true;
          fold_whole(*interleaved, deltas[k], coefs[k], {splits[k][step]});
        }
      if (!any) break;
    }
    for (size_t k = 0; k < deltas.size(); ++k) interleaved->count_folded(coefs[k], samples[k]);

    BOOST_TEST(folded->count() == added->count());
    BOOST_TEST(interleaved->count() == added->count());
    BOOST_TEST(mean_of(*folded).weight_sum() == mean_of(*added).weight_sum());
    const Vec s = magnitude(deltas, coefs);
    const double rel = 2.0 * static_cast<double>(deltas.size()) * kU;
    const auto a = mean_of(*added).accumulated();
    BOOST_TEST(worst_ratio(mean_of(*folded).accumulated(), a, s, rel) <= 1.0, name);
    BOOST_TEST(worst_ratio(mean_of(*interleaved).accumulated(), a, s, rel) <= 1.0, name);

    // And the merged versions agree accordingly.
    Vec x1(n, 0.5f), x2(n, 0.5f);
    ServerState s1, s2;
    added->apply(x1, s1);
    folded->apply(x2, s2);
    double worst = 0;
    for (int64_t i = 0; i < n; ++i) worst = std::max(worst, static_cast<double>(std::abs(x1[i] - x2[i])));
    BOOST_TEST(worst < 1e-5, name << ": add vs fold differ by " << worst);
  }
}

BOOST_AUTO_TEST_CASE(one_folded_delta_equals_one_added_delta_in_every_split) {
  // A single contribution: each element is c * d[i] (onto zero, or
  // overwritten); the bound of the header reduces to 2u |c d[i]|.
  const int64_t n = 70001;
  std::mt19937 rng(11);
  const Vec d = random_vec(n, rng, 3.0f);
  auto added = make_aggregator(named("fedavg"), n);
  added->add(d, 3, 0.5);
  const Vec s = magnitude({d}, {1.5});
  for (int trial = 0; trial < 3; ++trial) {
    auto folded = make_aggregator(named("fedavg"), n);
    fold_whole(*folded, d, 1.5, random_split(n, rng));
    folded->count_folded(1.5, 3);
    BOOST_TEST(worst_ratio(mean_of(*folded).accumulated(), mean_of(*added).accumulated(), s, 2 * kU) <= 1.0);
  }
}

BOOST_AUTO_TEST_CASE(unfold_restores_the_previous_accumulator_and_exact_sums) {
  const int64_t n = 100003;
  std::mt19937 rng(3);
  for (const std::string name : {"fedavg", "mean"}) {
    auto agg = make_aggregator(named(name), n);
    auto& m = mean_of(*agg);
    // Round state before: one add, one folded contribution (weights 0.1 and
    // 0.7 with "mean": (0.1 + 0.7) - 0.7 != 0.1 in double).
    const Vec a = random_vec(n, rng), b = random_vec(n, rng), c = random_vec(n, rng, 10.0f);
    agg->add(a, 1, 0.1);
    const double wb = agg->weight_of(2, 0.7);
    fold_whole(*agg, b, wb, random_split(n, rng));
    agg->count_folded(wb, 2);
    const Vec before(m.accumulated().begin(), m.accumulated().end());
    const double sum_before = m.weight_sum();
    const int64_t count_before = agg->count();

    // Contribution c is folded and counted, then must leave the round:
    // unfolded (in another split: elementwise, it does not matter) and uncounted.
    const double wc = agg->weight_of(5, 0.3);
    fold_whole(*agg, c, wc, random_split(n, rng));
    agg->count_folded(wc, 5);
    BOOST_TEST(agg->count() == count_before + 1);
    fold_whole(*agg, c, wc, random_split(n, rng), /*unfold=*/true);
    agg->uncount_folded(wc, 5);
    BOOST_TEST(agg->count() == count_before);
    BOOST_TEST(m.weight_sum() == sum_before);  // exactly
    Vec scale(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) scale[i] = std::abs(before[i]) + std::abs(static_cast<float>(wc) * c[i]);
    BOOST_TEST(worst_ratio(m.accumulated(), before, scale, 4 * kU) <= 1.0, name);

    // An abandoned upload: some parts folded, never counted, then unfolded.
    const auto split = random_split(n, rng);
    const std::vector<std::pair<int64_t, int64_t>> first_half(split.begin(), split.begin() + split.size() / 2);
    fold_whole(*agg, c, wc, first_half);
    fold_whole(*agg, c, wc, first_half, /*unfold=*/true);
    BOOST_TEST(agg->count() == count_before);
    BOOST_TEST(m.weight_sum() == sum_before);
    BOOST_TEST(worst_ratio(m.accumulated(), before, scale, 8 * kU) <= 1.0, name);

    // Uncounting the first contribution (the added one) leaves b alone.
    agg->unfold_part(0, a, agg->weight_of(1, 0.1));
    agg->uncount_folded(agg->weight_of(1, 0.1), 1);
    BOOST_TEST(agg->count() == 1);
    BOOST_TEST(m.weight_sum() == wb);  // exactly, though 0.1 + 0.7 - 0.1 would not be
  }
}

BOOST_AUTO_TEST_CASE(add_and_folded_parts_mix_in_any_order) {
  const int64_t n = 50021;
  std::mt19937 rng(5);
  const Vec a = random_vec(n, rng), b = random_vec(n, rng), c = random_vec(n, rng);
  auto reference = make_aggregator(named("fedavg"), n);
  reference->add(a, 2, 1);
  reference->add(b, 3, 1);
  reference->add(c, 4, 1);
  const Vec s = magnitude({a, b, c}, {2, 3, 4});

  // Parts of a first, then add(b) (must not overwrite them), then the rest of a, then c folded.
  auto agg = make_aggregator(named("fedavg"), n);
  const auto split = random_split(n, rng);
  const std::vector<std::pair<int64_t, int64_t>> head(split.begin(), split.begin() + split.size() / 2);
  const std::vector<std::pair<int64_t, int64_t>> tail(split.begin() + split.size() / 2, split.end());
  fold_whole(*agg, a, 2, head);
  agg->add(b, 3, 1);
  fold_whole(*agg, a, 2, tail);
  agg->count_folded(2, 2);
  fold_whole(*agg, c, 4, random_split(n, rng));
  agg->count_folded(4, 4);
  BOOST_TEST(agg->count() == 3);
  BOOST_TEST(mean_of(*agg).weight_sum() == 9.0);
  BOOST_TEST(worst_ratio(mean_of(*agg).accumulated(), mean_of(*reference).accumulated(), s, 6 * kU) <= 1.0);

  // A round's first add after a reset (or an apply) overwrites again; a
  // count_folded without folded parts counts a zero delta.
  agg->reset();
  BOOST_TEST(mean_of(*agg).accumulated().empty());
  agg->add(b, 3, 1);
  auto only_b = make_aggregator(named("fedavg"), n);
  only_b->add(b, 3, 1);
  BOOST_TEST(worst_ratio(mean_of(*agg).accumulated(), mean_of(*only_b).accumulated(), s, 0) <= 1.0);
  auto zero = make_aggregator(named("mean"), 3);
  zero->count_folded(1, 0);
  Vec x = {1, 2, 3};
  ServerState st;
  zero->apply(x, st);
  check_close(x, {1, 2, 3});
}

BOOST_AUTO_TEST_CASE(folding_errors_modify_nothing) {
  auto agg = make_aggregator(named("fedavg"), 10);
  const Vec part(4, 1.0f);
  BOOST_CHECK_THROW(agg->unfold_part(0, part, 1), std::logic_error);  // nothing folded yet
  BOOST_CHECK_THROW(agg->uncount_folded(1, 1), std::logic_error);     // nothing counted
  agg->fold_part(2, part, 2);
  const Vec before(mean_of(*agg).accumulated().begin(), mean_of(*agg).accumulated().end());
  check_close(before, {0, 0, 2, 2, 2, 2, 0, 0, 0, 0});
  for (auto [offset, len] : std::vector<std::pair<int64_t, size_t>>{
           {-1, 4}, {7, 4}, {10, 1}, {11, 0}, {std::numeric_limits<int64_t>::max(), 4}}) {
    const Vec p(len, 1.0f);
    BOOST_CHECK_THROW(agg->fold_part(offset, p, 1), std::invalid_argument);
    BOOST_CHECK_THROW(agg->unfold_part(offset, p, 1), std::invalid_argument);
  }
  for (double coef : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    BOOST_CHECK_THROW(agg->fold_part(0, part, coef), std::invalid_argument);
    BOOST_CHECK_THROW(agg->unfold_part(0, part, coef), std::invalid_argument);
    BOOST_CHECK_THROW(agg->count_folded(coef, 1), std::invalid_argument);
  }
  BOOST_CHECK_THROW(agg->count_folded(1, -1), std::invalid_argument);
  BOOST_CHECK_THROW(agg->count_folded(1, std::nan("")), std::invalid_argument);
  agg->fold_part(10, {}, 1);  // an empty part at the end: a no-op
  agg->fold_part(6, std::span(part).first(4), 1);
  agg->unfold_part(6, std::span(part).first(4), 1);
  check_close(mean_of(*agg).accumulated(), {0, 0, 2, 2, 2, 2, 0, 0, 0, 0});
  BOOST_TEST(agg->count() == 0);
  agg->count_folded(2, 1);
  BOOST_CHECK_THROW(agg->uncount_folded(3, 1), std::invalid_argument);  // no contribution with that coefficient
  BOOST_CHECK_THROW(agg->uncount_folded(2, -1), std::invalid_argument);
  BOOST_TEST(agg->count() == 1);
  BOOST_TEST(mean_of(*agg).weight_sum() == 2.0);

  // Strategies that cannot fold name themselves.
  for (const char* name : {"median", "trimmed-mean", "krum"}) {
    auto robust = make_aggregator(named(name), 10);
    try {
      robust->fold_part(0, part, 1);
      BOOST_FAIL("expected std::logic_error");
    } catch (const std::logic_error& e) {
      BOOST_TEST(std::string(e.what()).find(name) != std::string::npos, e.what());
    }
    BOOST_CHECK_THROW(robust->unfold_part(0, part, 1), std::logic_error);
    BOOST_CHECK_THROW(robust->count_folded(1, 1), std::logic_error);
    BOOST_CHECK_THROW(robust->uncount_folded(1, 1), std::logic_error);
    BOOST_TEST(robust->count() == 0);
  }
  auto dp = named("mean");
  dp.dp.enabled = true;
  auto with_dp = make_aggregator(dp, 10);
  BOOST_CHECK_THROW(with_dp->fold_part(0, part, 1), std::logic_error);
  BOOST_CHECK_THROW(with_dp->count_folded(1, 1), std::logic_error);
}

BOOST_AUTO_TEST_CASE(apply_into_accumulator_equals_apply_on_a_copy_for_every_mean_based_strategy) {
  const int64_t n = 100003;
  std::mt19937 rng(13);
  const Vec x0 = random_vec(n, rng);
  for (const char* name : kMeanBased) {
    auto reference = make_aggregator(named(name), n);
    auto into = make_aggregator(named(name), n);
    auto to = make_aggregator(named(name), n);
    Vec x_ref = x0;
    ServerState s_ref, s_into, s_to;
    std::vector<float> x_into = x0;
    // Three rounds: the state (m, v) carries over, the accumulator is handed
    // over each time and a fresh one is allocated for the next round.
    for (int round = 0; round < 3; ++round) {
      for (int k = 0; k < 3; ++k) {
        const Vec d = random_vec(n, rng, 0.1f);
        const double samples = 1 + k, factor = k == 2 ? 0.5 : 1.0;
        reference->add(d, samples, factor);
        to->add(d, samples, factor);
        // Half of the contributions folded part by part.
        if (k == 1) {
          const double coef = into->weight_of(samples, factor);
          fold_whole(*into, d, coef, random_split(n, rng));
          into->count_folded(coef, samples);
        } else {
          into->add(d, samples, factor);
        }
      }
      const Vec x_before = x_ref;
      reference->apply(x_ref, s_ref);

      const Vec base = x_into;
      std::optional<AlignedFloats> next = into->apply_into_accumulator(base, s_into);
      BOOST_TEST_REQUIRE(next.has_value());
      BOOST_TEST(next->size() == static_cast<size_t>(n));
      BOOST_TEST(reinterpret_cast<std::uintptr_t>(next->data()) % 64 == 0);
      BOOST_TEST((base == x_into), name << ": x must be unchanged");
      BOOST_TEST(into->count() == 0);
      BOOST_TEST(into->held_bytes() == 0);  // the accumulator was handed over
      BOOST_TEST(mean_of(*into).accumulated().empty());
      BOOST_TEST(step_ratio(next->span(), x_ref, x_before) <= 1.0, name << " round " << round);
      BOOST_TEST(state_ratio(s_into, s_ref) <= 1.0, name << " round " << round);
      BOOST_TEST(s_into.rounds == round + 1);
      x_into.assign(next->data(), next->data() + n);

      Vec out(static_cast<size_t>(n), -7.0f);
      const Vec x_to = x_before;
      to->apply_to(x_to, out, s_to);
      BOOST_TEST((x_to == x_before));
      BOOST_TEST(step_ratio(out, x_ref, x_before) <= 1.0, name << " apply_to round " << round);
      BOOST_TEST(state_ratio(s_to, s_ref) <= 1.0, name);
    }
    // The next round allocates a new accumulator.
    into->add(Vec(static_cast<size_t>(n), 1.0f), 1, 1);
    BOOST_TEST(into->held_bytes() == n * 4);
  }
}

BOOST_AUTO_TEST_CASE(apply_into_accumulator_with_fedbuff_and_dp) {
  const int64_t n = 20000;
  std::mt19937 rng(17);
  auto fedbuff = named("mean");
  fedbuff.divide_by_count = true;
  fedbuff.server_lr = 2;
  auto dp = named("fedadam");
  dp.dp.enabled = true;
  dp.dp.seed = 42;
  dp.dp.adaptive_clipping = true;
  dp.dp.clip_norm = 5;
  for (const auto& config : {fedbuff, dp}) {
    auto a = make_aggregator(config, n), b = make_aggregator(config, n);
    for (int k = 0; k < 4; ++k) {
      const Vec d = random_vec(n, rng, 0.05f);
      a->add(d, 1, 0.5);
      b->add(d, 1, 0.5);
    }
    Vec x = random_vec(n, rng);
    const Vec x0 = x;
    ServerState sa, sb;
    a->apply(x, sa);
    auto next = b->apply_into_accumulator(x0, sb);
    BOOST_TEST_REQUIRE(next.has_value());
    BOOST_TEST(step_ratio(next->span(), x, x0) <= 1.0, config.name);
    BOOST_TEST(state_ratio(sb, sa) <= 1.0, config.name);  // includes dp.clip_norm
  }
}

BOOST_AUTO_TEST_CASE(apply_into_accumulator_errors_modify_nothing) {
  auto agg = make_aggregator(named("fedadam"), 3);
  const Vec x = {1, 2, 3};
  ServerState st;
  BOOST_CHECK_THROW(agg->apply_into_accumulator(x, st), std::logic_error);  // no contributions
  agg->add(Vec{1, 1, 1}, 1, 1);
  BOOST_CHECK_THROW(agg->apply_into_accumulator(Vec{1, 2}, st), std::invalid_argument);
  st.vectors["m"] = {1, 2};  // persisted for another model size
  BOOST_CHECK_THROW(agg->apply_into_accumulator(x, st), std::invalid_argument);
  BOOST_TEST(agg->count() == 1);
  BOOST_TEST(st.rounds == 0);
  check_close(mean_of(*agg).accumulated(), {1, 1, 1});
  // apply_to: size and aliasing of the output.
  Vec out(3);
  BOOST_CHECK_THROW(agg->apply_to(x, std::span(out).first(2), st), std::invalid_argument);
  Vec both = {1, 2, 3, 4};
  BOOST_CHECK_THROW(agg->apply_to(std::span<const float>(both).first(3), std::span(both).subspan(1), st),
                    std::invalid_argument);
  BOOST_CHECK_THROW(agg->apply_to(both, both, st), std::invalid_argument);  // sizes first, then aliasing
  st.vectors.erase("m");
  const auto next = agg->apply_into_accumulator(x, st);
  BOOST_TEST_REQUIRE(next.has_value());
  BOOST_TEST(st.rounds == 1);
}

BOOST_AUTO_TEST_CASE(apply_to_equals_apply_for_robust_strategies) {
  const int64_t n = 30011;
  std::mt19937 rng(19);
  const Vec x0 = random_vec(n, rng);
  auto krum = named("krum");
  krum.krum_byzantine = 1;
  krum.multi_krum = 2;
  auto trimmed = named("trimmed-mean");
  trimmed.trim_beta = 0.2;
  trimmed.server_lr = 0.5;
  for (const auto& config : {named("median"), trimmed, krum}) {
    auto a = make_aggregator(config, n), b = make_aggregator(config, n);
    for (int k = 0; k < 5; ++k) {
      const Vec d = random_vec(n, rng, 0.1f);
      a->add(d, 1, k == 3 ? 0.5 : 1.0);
      b->add(d, 1, k == 3 ? 0.5 : 1.0);
    }
    ServerState sa, sb;
    BOOST_TEST(!b->apply_into_accumulator(x0, sb).has_value(), config.name);  // no accumulator: nothing done
    BOOST_TEST(b->count() == 5);
    BOOST_TEST(sb.rounds == 0);
    Vec x = x0;
    a->apply(x, sa);
    Vec out(static_cast<size_t>(n), 0.0f);
    b->apply_to(x0, out, sb);
    BOOST_TEST(step_ratio(out, x, x0) <= 1.0, config.name);
    BOOST_TEST(sb.rounds == 1);
    BOOST_TEST(b->count() == 0);
  }
  // Krum with too few contributions: apply_to throws, out untouched, contributions kept.
  auto a = make_aggregator(krum, 2);
  a->add(Vec{1, 1}, 1, 1);
  Vec out = {5, 5};
  ServerState st;
  BOOST_CHECK_THROW(a->apply_to(Vec{0, 0}, out, st), std::invalid_argument);
  check_close(out, {5, 5});
  BOOST_TEST(a->count() == 1);
  BOOST_TEST(st.rounds == 0);
}

BOOST_AUTO_TEST_CASE(step_kernels_write_into_the_accumulator) {
  const int64_t n = 70003;
  std::mt19937 rng(23);
  const Vec x = random_vec(n, rng), acc = random_vec(n, rng), m0 = random_vec(n, rng, 0.1f);
  Vec v0 = random_vec(n, rng, 0.1f);
  for (auto& e : v0) e = std::abs(e);
  // In place on x vs into acc's own memory.
  {
    Vec xi = x, a = acc;
    sgd_step(xi, acc, 0.25f, 0.5f);
    sgd_step_into(a, x, a, 0.25f, 0.5f);
    BOOST_TEST(step_ratio(a, xi, x) <= 1.0);
  }
  {
    Vec xi = x, a = acc, m1 = m0, m2 = m0;
    fedavgm_step(xi, m1, acc, 0.25f, 0.5f, 0.9f);
    fedavgm_step_into(a, x, m2, a, 0.25f, 0.5f, 0.9f);
    BOOST_TEST(step_ratio(a, xi, x) <= 1.0);
  }
  {
    Vec xi = x, a = acc, m1 = m0, m2 = m0, v1 = v0, v2 = v0;
    fedyogi_step(xi, m1, v1, acc, 0.25f, 0.01f, 0.9f, 0.99f, 1e-3f);
    fedyogi_step_into(a, x, m2, v2, a, 0.25f, 0.01f, 0.9f, 0.99f, 1e-3f);
    BOOST_TEST(step_ratio(a, xi, x) <= 1.0);
  }
  // Partial overlaps are refused before anything is written.
  Vec buf(8, 1.0f);
  const Vec small(7, 1.0f);
  BOOST_CHECK_THROW(sgd_step_into(std::span(buf).first(7), small, std::span<const float>(buf).subspan(1), 1, 1),
                    std::invalid_argument);
  Vec m(7, 0.0f);
  BOOST_CHECK_THROW(fedavgm_step_into(std::span(buf).first(7), small, std::span(buf).subspan(1), small, 1, 1, 0.9f),
                    std::invalid_argument);
  check_close(std::span<const float>(buf).first(2), {1, 1});
}

// The hub caps num_samples at 2^40 and |value| at a per-model bound (default
// 1e6): K = 1000 such contributions keep the float32 accumulator finite
// (|acc_i| <= K * 2^40 * 2e6 ~ 2.2e21) and the weight sum exact in double.
BOOST_AUTO_TEST_CASE(accumulator_stays_finite_at_the_hub_bounds) {
  const int64_t n = 4099;
  const double max_samples = std::ldexp(1.0, 40);
  const float bound = 1e6f;
  const Vec base(static_cast<size_t>(n), -bound);
  // value = +bound everywhere but a few coordinates, so delta = +2e6 (the worst case).
  Vec up(static_cast<size_t>(n), 2 * bound), mixed(static_cast<size_t>(n), 2 * bound);
  for (int64_t i = 0; i < n; i += 3) mixed[i] = -2 * bound;  // value -bound vs base +bound would be the same magnitude
  auto agg = make_aggregator(named("fedavg"), n);
  const double coef = agg->weight_of(max_samples, 1.0);
  BOOST_TEST(coef == max_samples);
  for (int k = 0; k < 1000; ++k) {
    const Vec& d = k % 2 ? up : mixed;
    if (k % 3 == 0) {
      agg->add(d, max_samples, 1.0);
    } else {
      agg->fold_part(0, std::span(d).first(2000), coef);
      agg->fold_part(2000, std::span(d).subspan(2000), coef);
      agg->count_folded(coef, max_samples);
    }
  }
  BOOST_TEST(agg->count() == 1000);
  BOOST_TEST(mean_of(*agg).weight_sum() == 1000 * max_samples);  // exact: integers below 2^53
  const auto acc = mean_of(*agg).accumulated();
  BOOST_TEST(first_non_finite(acc) == -1);
  BOOST_TEST(static_cast<double>(acc[1]) == 1000 * max_samples * 2e6, boost::test_tools::tolerance(1e-4));
  ServerState st;
  const auto next = agg->apply_into_accumulator(base, st);
  BOOST_TEST_REQUIRE(next.has_value());
  BOOST_TEST(first_non_finite(next->span()) == -1);
  // x_{t+1} = -1e6 + 2e6 on coordinates where every delta is +2e6; where half
  // of them (mixed, 500 of 1000) are -2e6: -1e6 + 0.
  BOOST_TEST((*next).data()[1] == 1e6f, boost::test_tools::tolerance(1e-4f));
  BOOST_TEST((*next).data()[0] == -1e6f, boost::test_tools::tolerance(1e-4f));
}

BOOST_AUTO_TEST_CASE(a_non_finite_merge_result_is_detectable) {
  // A server learning rate large enough to overflow float32: the hub checks
  // the result with first_non_finite before committing (and refuses).
  auto c = named("fedavg");
  c.server_lr = 1e30;
  for (int path = 0; path < 3; ++path) {
    auto agg = make_aggregator(c, 5);
    agg->add(Vec{0, 1, 1e10f, 1, -1e10f}, 1, 1);
    const Vec x = {0, 0, 0, 0, 0};
    ServerState st;
    Vec out(5);
    if (path == 0) {
      out = x;
      agg->apply(out, st);
    } else if (path == 1) {
      agg->apply_to(x, out, st);
    } else {
      const auto next = agg->apply_into_accumulator(x, st);
      out.assign(next->data(), next->data() + 5);
    }
    BOOST_TEST(first_non_finite(out) == 2, "path " << path);
    BOOST_TEST(std::isinf(out[4]));
    BOOST_TEST(std::isfinite(out[1]));
  }
  // FedAdam on a finite result stays finite; the check finds nothing.
  auto adam = make_aggregator(named("fedadam"), 3);
  adam->add(Vec{1e6f, -1e6f, 0}, 1, 1);
  ServerState st;
  const auto next = adam->apply_into_accumulator(Vec{0, 0, 0}, st);
  BOOST_TEST(first_non_finite(next->span()) == -1);
}

BOOST_AUTO_TEST_SUITE_END()
