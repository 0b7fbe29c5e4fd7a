// Median, trimmed mean, Krum and Multi-Krum against hand-computed values.
#include <boost/test/unit_test.hpp>
#include <random>
#include <stdexcept>

#include "federation/aggregate.hpp"
#include "federation/aggregator.hpp"
#include "test_util.hpp"

using namespace fedhub::federation;
using fedhub::federation::test::check_close;
using fedhub::federation::test::check_same_bits;
using fedhub::federation::test::under_thread_counts;

namespace {

using Vec = std::vector<float>;

Vec run(const AggregatorConfig& c, const std::vector<Vec>& deltas, Vec x, const std::vector<double>& factors = {}) {
  auto agg = make_aggregator(c, static_cast<int64_t>(x.size()));
  for (size_t k = 0; k < deltas.size(); ++k) agg->add(deltas[k], 1000.0 * (k + 1), factors.empty() ? 1 : factors[k]);
  BOOST_TEST(agg->held_bytes() == static_cast<int64_t>(deltas.size() * x.size() * 4));
  ServerState st;
  agg->apply(x, st);
  BOOST_TEST(st.rounds == 1);
  return x;
}

AggregatorConfig named(const std::string& name) {
  AggregatorConfig c;
  c.name = name;
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(robust)

BOOST_AUTO_TEST_CASE(median_odd_k) {
  // coordinate 0: {1, 2, 10} -> 2; coordinate 1: {5, -1, 0} -> 0. Sample counts are ignored.
  check_close(run(named("median"), {{1, 5}, {2, -1}, {10, 0}}, {0, 0}), {2, 0});
}

BOOST_AUTO_TEST_CASE(median_even_k_averages_the_middle_two) {
  // coordinate 0: {1, 2, 4, 10} -> 3; coordinate 1: {-1, 0, 3, 5} -> 1.5
  check_close(run(named("median"), {{1, 5}, {2, -1}, {10, 0}, {4, 3}}, {1, 1}), {4, 2.5});
}

BOOST_AUTO_TEST_CASE(median_scales_by_staleness_factor) {
  // f * D with factors {1, 1, 0.5}: coordinate 0 {1, 2, 5} -> 2; coordinate 1 {4, 6, 4} -> 4
  check_close(run(named("median"), {{1, 4}, {2, 6}, {10, 8}}, {0, 0}, {1, 1, 0.5}), {2, 4});
}

BOOST_AUTO_TEST_CASE(median_on_a_large_vector_matches_the_per_coordinate_definition) {
  const int64_t n = 70001;
  std::vector<Vec> ds(4, Vec(n));
  for (int64_t i = 0; i < n; ++i) {
    ds[0][i] = static_cast<float>(i % 7);
    ds[1][i] = static_cast<float>(i % 5);
    ds[2][i] = static_cast<float>(i % 3);
    ds[3][i] = -1.0f;
  }
  std::vector<std::span<const float>> views(ds.begin(), ds.end());
  Vec out(n);
  coordinate_median(out, views);
  for (int64_t i : {int64_t{0}, int64_t{4}, int64_t{34}, int64_t{69999}, n - 1}) {
    std::vector<float> v = {ds[0][i], ds[1][i], ds[2][i], -1.0f};
    std::sort(v.begin(), v.end());
    BOOST_TEST(out[i] == 0.5f * v[1] + 0.5f * v[2], "coordinate " << i);
  }
}

BOOST_AUTO_TEST_CASE(trimmed_mean_drops_extremes) {
  auto c = named("trimmed-mean");
  c.trim_beta = 0.2;  // K = 5: floor(0.2 * 5) = 1 from each end
  // coordinate 0: {1, 2, 3, 4, 100} -> mean(2, 3, 4) = 3; coordinate 1: {-50, 0, 1, 2, 3} -> mean(0, 1, 2) = 1
  check_close(run(c, {{100, 0}, {1, -50}, {3, 1}, {2, 3}, {4, 2}}, {0, 0}), {3, 1});
  BOOST_TEST(trim_count(5, 0.2) == 1);
  BOOST_TEST(trim_count(5, 0.1) == 0);
  BOOST_TEST(trim_count(10, 0.1) == 1);
}

BOOST_AUTO_TEST_CASE(trimmed_mean_with_nothing_to_trim_is_the_mean) {
  auto c = named("trimmed-mean");  // default beta 0.1: K = 5 trims floor(0.5) = 0
  check_close(run(c, {{100, 0}, {1, -50}, {3, 1}, {2, 3}, {4, 2}}, {0, 0}), {22, -8.8});
}

BOOST_AUTO_TEST_CASE(trimmed_mean_rejects_beta_out_of_range) {
  auto c = named("trimmed-mean");
  c.trim_beta = 0.5;
  BOOST_CHECK_THROW(make_aggregator(c, 2), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(krum_picks_the_honest_one_with_an_outlier) {
  auto c = named("krum");
  c.krum_byzantine = 1;  // n = 5 > 2f + 2 = 4
  // Scores (n - f - 2 = 2 nearest): [1.05, 1.0] has 0.0025 + 0.0125 = 0.015, the lowest; the outlier 399.1.
  const std::vector<Vec> ds = {{1, 1}, {1.1f, 0.9f}, {0.9f, 1.1f}, {1.05f, 1.0f}, {10, -10}};
  check_close(run(c, ds, {0, 0}), {1.05, 1.0});
  std::vector<std::span<const float>> views(ds.begin(), ds.end());
  const auto scores = krum_scores(pairwise_squared_distances(views), 5, 1);
  BOOST_TEST(scores[3] == 0.015, boost::test_tools::tolerance(1e-5));
  BOOST_TEST(scores[0] == 0.0225, boost::test_tools::tolerance(1e-5));
  BOOST_TEST(scores[4] > 399.0);
}

BOOST_AUTO_TEST_CASE(multi_krum_averages_the_m_best) {
  auto c = named("krum");
  c.krum_byzantine = 1;
  c.multi_krum = 3;  // best three: indices 3, 0, 1 -> mean([1.05,1], [1,1], [1.1,0.9]) = [1.05, 0.9666667]
  const std::vector<Vec> ds = {{1, 1}, {1.1f, 0.9f}, {0.9f, 1.1f}, {1.05f, 1.0f}, {10, -10}};
  check_close(run(c, ds, {0, 0}), {1.05, 0.96666667}, 1e-5);
  std::vector<std::span<const float>> views(ds.begin(), ds.end());
  BOOST_TEST(krum_select(views, 1, 3) == (std::vector<int64_t>{3, 0, 1}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(krum_needs_more_than_2f_plus_2) {
  auto c = named("krum");
  c.krum_byzantine = 1;
  auto agg = make_aggregator(c, 2);
  for (int i = 0; i < 4; ++i) agg->add(Vec{1, static_cast<float>(i)}, 1, 1);
  Vec x = {0, 0};
  ServerState st;
  try {
    agg->apply(x, st);
    BOOST_FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find("2f + 2") != std::string::npos, msg);
    BOOST_TEST(msg.find("n = 4") != std::string::npos, msg);
  }
  BOOST_TEST(agg->count() == 4);  // kept: one more contribution makes it work
  agg->add(Vec{1, 1.5f}, 1, 1);
  agg->apply(x, st);
  BOOST_TEST(st.rounds == 1);
}

BOOST_AUTO_TEST_CASE(robust_strategies_hold_all_deltas_and_refuse_non_finite) {
  auto agg = make_aggregator(named("median"), 2);
  agg->add(Vec{1, 2}, 1, 1);
  agg->add(Vec{1, 2}, 1, 1);
  BOOST_TEST(agg->held_bytes() == 16);
  BOOST_TEST(agg->describe_memory().find("all K deltas") != std::string::npos);
  BOOST_CHECK_THROW(agg->add(Vec{1, std::numeric_limits<float>::quiet_NaN()}, 1, 1), std::invalid_argument);
  BOOST_TEST(agg->count() == 2);
  const std::vector<Vec> batch = {{1, 1}, {2, std::numeric_limits<float>::infinity()}};
  std::vector<std::span<const float>> views(batch.begin(), batch.end());
  const std::vector<double> ones = {1, 1};
  BOOST_CHECK_THROW(agg->add_many(views, ones, ones), std::invalid_argument);
  BOOST_TEST(agg->count() == 2);  // all-or-nothing
}

BOOST_AUTO_TEST_CASE(robust_strategies_refuse_dp) {
  auto c = named("median");
  c.dp.enabled = true;
  BOOST_CHECK_THROW(make_aggregator(c, 2), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

// Sums, distances and Krum do not depend on the OpenMP thread count, bit for
// bit (a later `verify` re-runs a merge and compares digests).
namespace {

// kLarge > the parallel threshold (65536) and not a multiple of any chunk or tile.
constexpr size_t kLarge = 300007;

// Values of mixed magnitudes (so that a change of summation order changes the last bits).
Vec mixed_values(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-12, 12);
  Vec v(n);
  for (auto& x : v) x = std::ldexp(normal(rng), exponent(rng));
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(thread_determinism)

BOOST_AUTO_TEST_CASE(l2_norm_and_squared_distance_are_bit_identical_across_thread_counts) {
  const Vec a = mixed_values(kLarge, 1);
  const Vec b = mixed_values(kLarge, 2);
  check_same_bits(under_thread_counts([&] { return l2_norm(a); }), "l2_norm");
  check_same_bits(under_thread_counts([&] { return squared_distance(a, b); }), "squared_distance");
  // And they are the sums they claim to be (double accumulation, another order).
  double ss = 0, sd = 0;
  for (size_t i = 0; i < kLarge; ++i) {
    ss += static_cast<double>(a[i]) * a[i];
    const double d = static_cast<double>(a[i]) - b[i];
    sd += d * d;
  }
  BOOST_TEST(l2_norm(a) == std::sqrt(ss), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(squared_distance(a, b) == sd, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(pairwise_squared_distances_are_bit_identical_across_thread_counts) {
  std::vector<Vec> deltas;
  for (unsigned k = 0; k < 5; ++k) deltas.push_back(mixed_values(kLarge, 10 + k));
  const std::vector<std::span<const float>> views(deltas.begin(), deltas.end());
  const auto results = under_thread_counts([&] { return pairwise_squared_distances(views); });
  check_same_bits(results, "pairwise_squared_distances");
  // Each entry is the pair's squared distance (the same sum in another order).
  for (size_t i = 0; i < 5; ++i)
    for (size_t j = 0; j < 5; ++j)
      BOOST_TEST(results[0][i * 5 + j] == (i == j ? 0.0 : squared_distance(deltas[i], deltas[j])),
                 boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(krum_aggregate_is_bit_identical_across_thread_counts) {
  std::vector<Vec> deltas;
  for (unsigned k = 0; k < 7; ++k) deltas.push_back(mixed_values(kLarge, 20 + k));
  const Vec x0 = mixed_values(kLarge, 30);
  for (const int64_t m : {1, 3}) {  // Krum and Multi-Krum
    auto c = named("krum");
    c.krum_byzantine = 2;  // n = 7 > 2f + 2
    c.multi_krum = m;
    const auto results = under_thread_counts([&] {
      auto agg = make_aggregator(c, static_cast<int64_t>(kLarge));
      for (const auto& d : deltas) agg->add(d, 1, 1);
      Vec x = x0;
      ServerState st;
      agg->apply(x, st);
      BOOST_TEST(agg->noise_seed_used() == 0u);  // no noise
      return x;
    });
    check_same_bits(results, m == 1 ? "krum" : "multi-krum");
    BOOST_TEST(!(results[0] == x0));
  }
}

BOOST_AUTO_TEST_SUITE_END()
