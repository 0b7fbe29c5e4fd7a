// Central DP (DP-FedAvg, McMahan et al. 2018) and adaptive clipping (Andrew et al. 2021).
#include "federation/dp.hpp"

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>

#include "federation/aggregator.hpp"
#include "test_util.hpp"

using namespace fedhub::federation;
using fedhub::federation::test::check_close;
using fedhub::federation::test::check_same_bits;
using fedhub::federation::test::ThreadCount;
using fedhub::federation::test::under_thread_counts;
namespace tt = boost::test_tools;

namespace {

using Vec = std::vector<float>;

AggregatorConfig dp_mean(double z, double clip, uint64_t seed = 7) {
  AggregatorConfig c;
  c.name = "fedavg";  // dp turns the weighting to uniform and divides by the count
  c.dp.enabled = true;
  c.dp.noise_multiplier = z;
  c.dp.clip_norm = clip;
  c.dp.seed = seed;
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dp)

BOOST_AUTO_TEST_CASE(clip_factor_guards_zero_norm) {
  BOOST_TEST(clip_factor(0.0, 1.0) == 1.0);
  BOOST_TEST(clip_factor(0.5, 1.0) == 1.0);
  BOOST_TEST(clip_factor(2.0, 1.0) == 0.5);
  BOOST_TEST(dp_noise_stddev(1.0, 0.5, 4) == 0.125);
}

BOOST_AUTO_TEST_CASE(deltas_are_clipped_and_averaged_over_m) {
  auto agg = make_aggregator(dp_mean(0.0, 0.1), 2);
  // norms 5 (clipped to [0.06, 0.08]), 0 (zero norm: unchanged), 0.05 (under C: unchanged).
  agg->add(Vec{3, 4}, 1000, 1);
  agg->add(Vec{0, 0}, 1, 1);
  agg->add(Vec{0.03f, 0.04f}, 50, 1);
  Vec x = {0, 0};
  ServerState st;
  agg->apply(x, st);
  // ([0.06, 0.08] + [0, 0] + [0.03, 0.04]) / 3, sample counts ignored
  check_close(x, {0.03, 0.04}, 1e-5);
  BOOST_TEST(!st.vectors.count("dp.clip_norm"));  // fixed clipping stores nothing
}

BOOST_AUTO_TEST_CASE(dp_refuses_sample_weighting) {
  auto c = dp_mean(1.0, 0.1);
  c.weighting = "samples";
  BOOST_CHECK_THROW(make_aggregator(c, 2), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(noise_has_sigma_z_c_over_m) {
  const int64_t n = 200000;
  const int m = 4;
  const double z = 1.0, clip = 0.5;  // sigma = z C / m = 0.125
  auto agg = make_aggregator(dp_mean(z, clip, 12345), n);
  const Vec zero(n, 0.0f);
  for (int i = 0; i < m; ++i) agg->add(zero, 1, 1);
  Vec x(n, 0.0f);
  ServerState st;
  agg->apply(x, st);
  double sum = 0, sq = 0;
  for (float v : x) {
    sum += v;
    sq += static_cast<double>(v) * v;
  }
  const double mean = sum / n;
  const double sd = std::sqrt(sq / n - mean * mean);
  BOOST_TEST(std::abs(mean) < 4 * 0.125 / std::sqrt(static_cast<double>(n)), "mean " << mean);
  BOOST_TEST(sd == 0.125, tt::tolerance(0.01));  // standard error of sd ~ 0.16% at n = 200000

  // Same seed and round: identical noise. Next round: different noise.
  auto again = make_aggregator(dp_mean(z, clip, 12345), n);
  for (int i = 0; i < m; ++i) again->add(zero, 1, 1);
  Vec y(n, 0.0f);
  ServerState st0;
  again->apply(y, st0);
  BOOST_TEST(x == y, tt::per_element());
  for (int i = 0; i < m; ++i) again->add(zero, 1, 1);
  Vec w(n, 0.0f);
  again->apply(w, st0);  // round 1
  BOOST_TEST(w[0] != x[0]);
}

BOOST_AUTO_TEST_CASE(adaptive_clipping_shrinks_when_most_updates_fit) {
  auto c = dp_mean(0.0, 0.1);
  c.dp.adaptive_clipping = true;  // gamma 0.5, eta_C 0.2
  auto agg = make_aggregator(c, 2);
  for (int i = 0; i < 4; ++i) agg->add(Vec{0.01f, 0}, 1, 1);  // all unclipped: b = 1
  Vec x = {0, 0};
  ServerState st;
  agg->apply(x, st);
  // C = 0.1 exp(-0.2 (1 - 0.5)) = 0.0904837
  BOOST_TEST(st.vectors.at("dp.clip_norm")[0] == 0.0904837, tt::tolerance(1e-5));
}

BOOST_AUTO_TEST_CASE(adaptive_clipping_grows_when_most_updates_are_clipped_and_persists) {
  auto c = dp_mean(0.0, 0.1);
  c.dp.adaptive_clipping = true;
  ServerState st;
  {
    auto agg = make_aggregator(c, 2, st);
    for (int i = 0; i < 4; ++i) agg->add(Vec{3, 4}, 1, 1);  // all clipped: b = 0
    Vec x = {0, 0};
    agg->apply(x, st);
    // C = 0.1 exp(-0.2 (0 - 0.5)) = 0.1105171
    BOOST_TEST(st.vectors.at("dp.clip_norm")[0] == 0.1105171, tt::tolerance(1e-5));
    check_close(x, {0.06, 0.08}, 1e-5);  // clipped to the round's C = 0.1
  }
  // A new aggregator (restart) clips to the persisted C.
  auto agg = make_aggregator(c, 2, st);
  BOOST_TEST(agg->count() == 0);
  agg->add(Vec{3, 4}, 1, 1);
  agg->add(Vec{0.01f, 0}, 1, 1);  // one clipped, one not: b = 0.5, C unchanged
  Vec x = {0, 0};
  agg->apply(x, st);
  // (0.1105171 [0.6, 0.8] + [0.01, 0]) / 2
  check_close(x, {(0.1105171 * 0.6 + 0.01) / 2, 0.1105171 * 0.8 / 2}, 1e-5);
  BOOST_TEST(st.vectors.at("dp.clip_norm")[0] == 0.1105171, tt::tolerance(1e-5));
}

BOOST_AUTO_TEST_CASE(adaptive_clipping_formulas) {
  BOOST_TEST(adaptive_clip_norm(0.1, 1.0, 0.5, 0.2) < 0.1);  // unclipped fraction above target: shrink
  BOOST_TEST(adaptive_clip_norm(0.1, 0.0, 0.5, 0.2) > 0.1);  // below: grow
  BOOST_TEST(adaptive_clip_norm(0.1, 0.5, 0.5, 0.2) == 0.1);
  BOOST_TEST(delta_noise_multiplier(1.0, 0.0) == 1.0);
  BOOST_TEST(delta_noise_multiplier(1.0, 1.0) == 1.1547005, tt::tolerance(1e-6));  // (1 - 1/4)^-1/2
  BOOST_CHECK_THROW(delta_noise_multiplier(1.0, 0.5), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(gaussian_noise_is_seeded_and_independent_of_threads) {
  Vec a(300000, 0.0f), b(300000, 0.0f);
  add_gaussian_noise(a, 1.0, 99);
  add_gaussian_noise(b, 1.0, 99);
  BOOST_TEST(a == b, tt::per_element());
  BOOST_TEST(round_seed(5, 1) != round_seed(5, 2));
  BOOST_TEST(round_seed(5, 1) == round_seed(5, 1));
}

namespace {

constexpr size_t kLarge = 300007;  // > the parallel threshold, not a multiple of a chunk

std::vector<Vec> random_deltas(size_t k, size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.01f);
  std::vector<Vec> deltas(k, Vec(n));
  for (auto& d : deltas)
    for (auto& x : d) x = normal(rng);
  return deltas;
}

struct Merge {
  Vec weights;
  ServerState state;
  uint64_t seed_used = 0;
};

// One DP merge of `deltas` onto x0 (adaptive clipping with count noise: both
// noises drawn), optionally replaying a recorded seed.
Merge dp_merge(const AggregatorConfig& c, const std::vector<Vec>& deltas, const Vec& x0, const ServerState& st0,
               uint64_t replay_seed = 0) {
  auto agg = make_aggregator(c, static_cast<int64_t>(x0.size()), st0);
  for (const auto& d : deltas) agg->add(d, 1, 1);
  if (replay_seed != 0) agg->set_noise_seed(replay_seed);
  Merge r{x0, st0, 0};
  agg->apply(r.weights, r.state);
  r.seed_used = agg->noise_seed_used();
  return r;
}

AggregatorConfig adaptive_dp(uint64_t seed) {
  auto c = dp_mean(1.0, 0.5, seed);
  c.name = "fedadam";  // the noise goes through a server optimizer step too
  c.dp.adaptive_clipping = true;
  c.dp.count_noise_stddev = 1.0;  // 2 sigma_b > z
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(dp_mean_with_a_fixed_seed_is_bit_identical_across_thread_counts) {
  // Norms of ~0.01 * sqrt(300007) ~ 5.5: every delta is clipped (clip factor from l2_norm).
  const auto deltas = random_deltas(4, kLarge, 1);
  const Vec x0(kLarge, 0.5f);
  ServerState st0;
  st0.rounds = 3;
  for (const auto& c : {dp_mean(1.0, 0.5, 42), adaptive_dp(42)}) {
    const auto merges = under_thread_counts([&] { return dp_merge(c, deltas, x0, st0); });
    std::vector<Vec> weights;
    for (const auto& m : merges) {
      weights.push_back(m.weights);
      BOOST_TEST((m.state == merges[0].state));
      BOOST_TEST(m.seed_used == round_seed(42, 3));  // the round's seed, reported
    }
    check_same_bits(weights, c.name.c_str());
    BOOST_TEST(!(weights[0] == x0));
  }
}

BOOST_AUTO_TEST_CASE(a_random_noise_seed_is_reported_and_replays_the_merge) {
  const auto deltas = random_deltas(3, kLarge, 2);
  const Vec x0(kLarge, -0.25f);
  ServerState st0;
  st0.rounds = 5;
  st0.vectors["dp.clip_norm"] = {0.4f};
  for (const auto& c : {dp_mean(1.0, 0.5, /*seed=*/0), adaptive_dp(/*seed=*/0)}) {
    Merge first;
    {
      ThreadCount threads(2);
      first = dp_merge(c, deltas, x0, st0);
    }
    BOOST_TEST_REQUIRE(first.seed_used != 0u);
    // Replayed with the recorded seed, on another thread count: the same bits.
    for (const int t : {1, 2, 3}) {
      ThreadCount threads(t);
      const Merge replay = dp_merge(c, deltas, x0, st0, first.seed_used);
      BOOST_TEST(replay.seed_used == first.seed_used);
      BOOST_TEST(fedhub::federation::test::same_bits(replay.weights, first.weights),
                 c.name << " replay on " << t << " threads");
      BOOST_TEST((replay.state == first.state));
    }
    // Without the recorded seed: a fresh draw, other noise.
    const Merge fresh = dp_merge(c, deltas, x0, st0);
    BOOST_TEST(fresh.seed_used != first.seed_used);
    BOOST_TEST(!(fresh.weights == first.weights));
  }
}

BOOST_AUTO_TEST_CASE(set_noise_seed_is_used_once_and_noise_free_merges_report_zero) {
  const auto deltas = random_deltas(3, 1000, 3);
  const Vec x0(1000, 0.0f);
  auto agg = make_aggregator(dp_mean(1.0, 0.5, 9), 1000);
  BOOST_TEST(agg->noise_seed_used() == 0u);  // before any apply
  ServerState st;
  Vec x = x0;
  for (const auto& d : deltas) agg->add(d, 1, 1);
  agg->set_noise_seed(12345);
  agg->apply(x, st);
  BOOST_TEST(agg->noise_seed_used() == 12345u);
  for (const auto& d : deltas) agg->add(d, 1, 1);
  agg->apply(x, st);  // the set seed was cleared by the previous apply
  BOOST_TEST(agg->noise_seed_used() == round_seed(9, 1));
  // A failed apply keeps a set seed.
  agg->set_noise_seed(777);
  BOOST_CHECK_THROW(agg->apply(x, st), std::logic_error);  // no contributions
  for (const auto& d : deltas) agg->add(d, 1, 1);
  agg->apply(x, st);
  BOOST_TEST(agg->noise_seed_used() == 777u);
  // No noise: z = 0 (dp without noise), or no dp at all.
  for (const auto& c : {dp_mean(0.0, 0.5, 9), AggregatorConfig{}}) {
    auto quiet = make_aggregator(c, 1000);
    for (const auto& d : deltas) quiet->add(d, 1, 1);
    quiet->set_noise_seed(5);
    Vec y = x0;
    ServerState s;
    quiet->apply(y, s);
    BOOST_TEST(quiet->noise_seed_used() == 0u);
  }
}

BOOST_AUTO_TEST_SUITE_END()
