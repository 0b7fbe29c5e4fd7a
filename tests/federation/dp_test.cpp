// Central DP (DP-FedAvg, McMahan et al. 2018) and adaptive clipping (Andrew et al. 2021).
#include "federation/dp.hpp"

#include <boost/test/unit_test.hpp>
#include <cmath>

#include "federation/aggregator.hpp"
#include "test_util.hpp"

using namespace fedhub::federation;
using fedhub::federation::test::check_close;
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

BOOST_AUTO_TEST_SUITE_END()
