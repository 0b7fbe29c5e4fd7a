// Mean-based strategies and server optimizers against hand-computed values.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <stdexcept>

#include "federation/aggregate.hpp"
#include "federation/aggregator.hpp"
#include "test_util.hpp"

using namespace fedhub::federation;
using fedhub::federation::test::check_close;

namespace {

using Vec = std::vector<float>;

AggregatorConfig named(const std::string& name) {
  AggregatorConfig c;
  c.name = name;
  return c;
}

// One round: add every delta (one at a time) then apply to model.
void round(Aggregator& agg, Vec& model, ServerState& state, const std::vector<Vec>& deltas,
           const std::vector<double>& samples, const std::vector<double>& factors) {
  for (size_t k = 0; k < deltas.size(); ++k) agg.add(deltas[k], samples[k], factors[k]);
  BOOST_TEST(agg.count() == static_cast<int64_t>(deltas.size()));
  agg.apply(model, state);
  BOOST_TEST(agg.count() == 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mean_based)

BOOST_AUTO_TEST_CASE(fedavg_weights_by_samples_times_staleness) {
  auto agg = make_aggregator(named("fedavg"), 3);
  BOOST_TEST(agg->name() == "fedavg");
  Vec x = {1, 1, 1};
  ServerState st;
  // (1 * [1,2,3] + 3 * [3,6,-3]) / 4 = [2.5, 5, -1.5]
  round(*agg, x, st, {{1, 2, 3}, {3, 6, -3}}, {1, 3}, {1, 1});
  check_close(x, {3.5, 6, -0.5});
  BOOST_TEST(st.rounds == 1);
  // weights 1 * 1 and 3 * 0.5: (1 * [1,2,3] + 1.5 * [3,6,-3]) / 2.5 = [2.2, 4.4, -0.6]
  x = {0, 0, 0};
  round(*agg, x, st, {{1, 2, 3}, {3, 6, -3}}, {1, 3}, {1, 0.5});
  check_close(x, {2.2, 4.4, -0.6});
  BOOST_TEST(st.rounds == 2);
  BOOST_TEST(st.vectors.empty());
}

BOOST_AUTO_TEST_CASE(fedavg_needs_positive_sample_counts) {
  auto agg = make_aggregator(named("fedavg"), 2);
  const Vec d = {1, 1};
  BOOST_CHECK_THROW(agg->add(d, 0, 1), std::invalid_argument);
  BOOST_TEST(agg->count() == 0);
}

BOOST_AUTO_TEST_CASE(plain_mean_ignores_sample_counts) {
  auto agg = make_aggregator(named("mean"), 3);
  Vec x = {1, 1, 1};
  ServerState st;
  round(*agg, x, st, {{1, 2, 3}, {3, 6, -3}}, {1, 3}, {1, 1});
  check_close(x, {3, 5, 1});  // + [2, 4, 0]
  // staleness factors weight the plain mean: (1 * [1,2,3] + 0.5 * [3,6,-3]) / 1.5 = [5/3, 10/3, 1]
  x = {0, 0, 0};
  round(*agg, x, st, {{1, 2, 3}, {3, 6, -3}}, {100, 1}, {1, 0.5});
  check_close(x, {5.0 / 3, 10.0 / 3, 1});
}

BOOST_AUTO_TEST_CASE(server_lr_scales_the_step) {
  auto c = named("mean");
  c.server_lr = 0.5;
  auto agg = make_aggregator(c, 3);
  Vec x = {1, 1, 1};
  ServerState st;
  round(*agg, x, st, {{1, 2, 3}, {3, 6, -3}}, {1, 1}, {1, 1});
  check_close(x, {2, 3, 1});  // + 0.5 * [2, 4, 0]
}

BOOST_AUTO_TEST_CASE(fedbuff_divides_by_the_count) {
  // FedBuff (Nguyen et al.): x += eta * sum f(s_i) D_i / K.
  auto c = named("mean");
  c.divide_by_count = true;
  c.server_lr = 2;
  auto agg = make_aggregator(c, 3);
  Vec x = {0, 0, 0};
  ServerState st;
  round(*agg, x, st, {{1, 2, 3}, {3, 6, -3}}, {1, 1}, {1, 0.5});
  check_close(x, {2.5, 5, 1.5});  // 2 * ([1,2,3] + [1.5,3,-1.5]) / 2
}

BOOST_AUTO_TEST_CASE(fedavgm_two_rounds) {
  auto c = named("fedavgm");
  c.server_lr = 0.5;  // momentum defaults to 0.9
  auto agg = make_aggregator(c, 2);
  Vec x = {0, 0};
  ServerState st;
  // round 1: Dbar = [1, -2]; m = [1, -2]; x = 0.5 m = [0.5, -1]
  round(*agg, x, st, {{1, -2}}, {10}, {1});
  check_close(x, {0.5, -1});
  check_close(st.vectors.at("m"), {1, -2});
  // round 2: Dbar = ([0, 1] * 1 + [1, 0] * 1) / 2 = [0.5, 0.5]; m = 0.9 [1,-2] + [0.5,0.5] = [1.4, -1.3]
  round(*agg, x, st, {{0, 1}, {1, 0}}, {5, 5}, {1, 1});
  check_close(st.vectors.at("m"), {1.4, -1.3});
  check_close(x, {1.2, -1.65});
  BOOST_TEST(st.rounds == 2);
}

BOOST_AUTO_TEST_CASE(fedadam_one_and_two_rounds_with_state_carried) {
  // Flower's defaults: lr 0.1, b1 0.9, b2 0.99, tau 1e-9.
  Vec x = {0, 0};
  ServerState st;
  {
    auto agg = make_aggregator(named("fedadam"), 2, st);
    round(*agg, x, st, {{0.2f, -0.4f}}, {1}, {1});
  }
  // m = 0.1 D = [0.02, -0.04]; v = 0.01 D^2 = [4e-4, 1.6e-3]; x += 0.1 m / sqrt(v) = [0.1, -0.1]
  check_close(st.vectors.at("m"), {0.02, -0.04});
  check_close(st.vectors.at("v"), {4e-4, 1.6e-3});
  check_close(x, {0.1, -0.1}, 1e-5);
  // A fresh aggregator (as after a restart) continues from the persisted state.
  const ServerState restored = ServerState::deserialize(st.serialize());
  st = restored;
  auto agg = make_aggregator(named("fedadam"), 2, st);
  round(*agg, x, st, {{0.2f, 0.4f}}, {1}, {1});
  // m = 0.9 m + 0.1 [0.2, 0.4] = [0.038, 0.004]; v = 0.99 v + 0.01 D^2 = [7.96e-4, 3.184e-3]
  // x = [0.1 + 0.1 * 0.038 / sqrt(7.96e-4), -0.1 + 0.1 * 0.004 / sqrt(3.184e-3)] = [0.23468742, -0.09291119]
  check_close(st.vectors.at("m"), {0.038, 0.004}, 1e-5);
  check_close(st.vectors.at("v"), {7.96e-4, 3.184e-3}, 1e-5);
  check_close(x, {0.23468742, -0.09291119}, 1e-5);
  BOOST_TEST(st.rounds == 2);
}

BOOST_AUTO_TEST_CASE(fedyogi_one_and_two_rounds_with_state_carried) {
  // Flower's defaults: lr 0.01, b1 0.9, b2 0.99, tau 1e-3.
  auto agg = make_aggregator(named("fedyogi"), 2);
  Vec x = {0, 0};
  ServerState st;
  // v0 = 0: v = 0 - 0.01 D^2 sign(0 - D^2) = 0.01 D^2 = [4e-4, 1.6e-3]
  // x = 0.01 [0.02 / (0.02 + 1e-3), -0.04 / (0.04 + 1e-3)] = [0.00952381, -0.00975610]
  round(*agg, x, st, {{0.2f, -0.4f}}, {1}, {1});
  check_close(st.vectors.at("v"), {4e-4, 1.6e-3}, 1e-5);
  check_close(x, {0.00952381, -0.00975610}, 1e-5);
  // D = [0.2, 0.4]: v - D^2 < 0, so v grows by 0.01 D^2: [8e-4, 3.2e-3]; m = [0.038, 0.004]
  // x += 0.01 [0.038 / (sqrt(8e-4) + 1e-3), 0.004 / (sqrt(3.2e-3) + 1e-3)]
  round(*agg, x, st, {{0.2f, 0.4f}}, {1}, {1});
  check_close(st.vectors.at("v"), {8e-4, 3.2e-3}, 1e-5);
  check_close(x, {0.02250006, -0.00906127}, 1e-5);
}

BOOST_AUTO_TEST_CASE(fedyogi_shrinks_v_when_it_exceeds_the_squared_delta) {
  auto agg = make_aggregator(named("fedyogi"), 1);
  Vec x = {0};
  ServerState st;
  st.vectors["m"] = {0};
  st.vectors["v"] = {1};
  round(*agg, x, st, {{0.1f}}, {1}, {1});
  // v = 1 - 0.01 * 0.01 * sign(1 - 0.01) = 0.9999; m = 0.01; x = 0.01 * 0.01 / (sqrt(0.9999) + 1e-3)
  check_close(st.vectors.at("v"), {0.9999}, 1e-6);
  check_close(x, {0.01 * 0.01 / (std::sqrt(0.9999) + 1e-3)}, 1e-5);
}

BOOST_AUTO_TEST_CASE(fedadagrad_one_and_two_rounds) {
  // Flower's defaults: lr 0.1, tau 1e-9, beta1 0 (m = Dbar).
  auto agg = make_aggregator(named("fedadagrad"), 2);
  Vec x = {0, 0};
  ServerState st;
  round(*agg, x, st, {{0.2f, -0.4f}}, {1}, {1});
  check_close(st.vectors.at("v"), {0.04, 0.16}, 1e-6);
  check_close(x, {0.1, -0.1}, 1e-5);
  round(*agg, x, st, {{0.2f, 0.4f}}, {1}, {1});
  // v = [0.08, 0.32]; x += 0.1 [0.2 / sqrt(0.08), 0.4 / sqrt(0.32)] = 0.1 [0.70710678, 0.70710678]
  check_close(st.vectors.at("v"), {0.08, 0.32}, 1e-6);
  check_close(x, {0.17071068, -0.02928932}, 1e-5);
}

BOOST_AUTO_TEST_CASE(add_and_add_many_agree) {
  // Sizes that exercise the threaded, tiled path and a ragged last tile.
  const int64_t n = 100003;
  const int k = 7;
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<Vec> deltas(k, Vec(n));
  for (auto& d : deltas)
    for (auto& v : d) v = normal(rng);
  const std::vector<double> samples = {10, 20, 5, 7, 1, 3, 100};
  const std::vector<double> factors = {1, 0.5, 1, 0.25, 1, 1, 0.7};
  for (const std::string name : {"fedavg", "mean", "fedadam"}) {
    auto one = make_aggregator(named(name), n);
    auto many = make_aggregator(named(name), n);
    for (int i = 0; i < k; ++i) one->add(deltas[i], samples[i], factors[i]);
    std::vector<std::span<const float>> views(deltas.begin(), deltas.end());
    // Two batches: the second adds onto a non-empty accumulator.
    many->add_many(std::span(views).first(3), std::span(samples).first(3), std::span(factors).first(3));
    many->add_many(std::span(views).subspan(3), std::span(samples).subspan(3), std::span(factors).subspan(3));
    BOOST_TEST(one->count() == many->count());
    Vec x1(n, 0.5f), x2(n, 0.5f);
    ServerState s1, s2;
    one->apply(x1, s1);
    many->apply(x2, s2);
    double worst = 0;
    for (int64_t i = 0; i < n; ++i) worst = std::max(worst, static_cast<double>(std::abs(x1[i] - x2[i])));
    BOOST_TEST(worst < 1e-5, name << ": add vs add_many differ by " << worst);
  }
}

BOOST_AUTO_TEST_CASE(memory_is_one_accumulator_whatever_k) {
  const int64_t n = 1000;
  auto agg = make_aggregator(named("fedavg"), n);
  const Vec d(n, 1.0f);
  for (int i = 0; i < 50; ++i) {
    agg->add(d, 1, 1);
    BOOST_TEST(agg->held_bytes() == n * 4);
  }
  BOOST_TEST(agg->describe_memory().find("one accumulator") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(apply_errors_leave_everything_unchanged) {
  auto agg = make_aggregator(named("fedadam"), 2);
  Vec x = {1, 2};
  ServerState st;
  BOOST_CHECK_THROW(agg->apply(x, st), std::logic_error);  // no contributions
  agg->add(Vec{1, 1}, 1, 1);
  Vec wrong = {1, 2, 3};
  BOOST_CHECK_THROW(agg->apply(wrong, st), std::invalid_argument);
  st.vectors["v"] = {1, 2, 3};  // persisted for another model size
  BOOST_CHECK_THROW(agg->apply(x, st), std::invalid_argument);
  BOOST_TEST(agg->count() == 1);
  BOOST_TEST(st.rounds == 0);
  BOOST_TEST(!st.vectors.count("m"));
  check_close(x, {1, 2});
  st.vectors.erase("v");
  agg->apply(x, st);
  BOOST_TEST(st.rounds == 1);
}

BOOST_AUTO_TEST_CASE(contributions_are_checked) {
  auto agg = make_aggregator(named("mean"), 3);
  BOOST_CHECK_THROW(agg->add(Vec{1, 2}, 1, 1), std::invalid_argument);     // size
  BOOST_CHECK_THROW(agg->add(Vec{1, 2, 3}, 1, 0), std::invalid_argument);  // rejected (factor 0)
  BOOST_CHECK_THROW(agg->add(Vec{1, 2, 3}, -1, 1), std::invalid_argument);
  const std::vector<Vec> ds = {{1, 2, 3}, {1, 2}};
  std::vector<std::span<const float>> views(ds.begin(), ds.end());
  const std::vector<double> ones = {1, 1};
  BOOST_CHECK_THROW(agg->add_many(views, ones, ones), std::invalid_argument);
  BOOST_TEST(agg->count() == 0);  // all-or-nothing
}

BOOST_AUTO_TEST_CASE(unknown_strategy_is_named) {
  try {
    make_aggregator(named("fedprox"), 3);
    BOOST_FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("fedprox") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(fedasync_mixes) {
  Vec x = {1, 2};
  fedasync_mix(x, Vec{3, 6}, 0.25);  // 0.75 x + 0.25 x_new
  check_close(x, {1.5, 3});
  Vec y = {1, 2};
  fedasync_mix(y, Vec{2, 4}, Vec{1, 2}, 0.25);  // x_new = base + delta = [3, 6]
  check_close(y, {1.5, 3});
  BOOST_CHECK_THROW(fedasync_mix(x, Vec{1, 1}, 1.5), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(weighted_sum_overwrite_and_accumulate) {
  Vec acc = {100, 100};
  const std::vector<Vec> ds = {{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}};
  std::vector<std::span<const float>> views(ds.begin(), ds.end());
  const Vec c = {1, 1, 1, 1, 0.5};
  weighted_sum(acc, views, c, true);
  check_close(acc, {20.5, 25});
  weighted_sum(acc, std::span(views).first(1), std::span(c).first(1), false);
  check_close(acc, {21.5, 27});
}

BOOST_AUTO_TEST_CASE(weighted_sum_large_output_uses_streaming_stores_correctly) {
  // 16.8 MB of output: the overwrite pass writes it with non-temporal stores.
  const int64_t n = (int64_t{4} << 20) + 1000 + 3;
  std::vector<Vec> ds(6, Vec(n));
  for (size_t k = 0; k < ds.size(); ++k)
    for (int64_t i = 0; i < n; ++i) ds[k][i] = static_cast<float>((i * (k + 3)) % 17) - 8.0f;
  std::vector<std::span<const float>> views(ds.begin(), ds.end());
  const Vec c = {0.5f, 1, 2, -1, 0.25f, 3};
  // 64-byte aligned, as the aggregators allocate it (a std::vector's large
  // block is not, and would take the regular-store path).
  std::unique_ptr<float, void (*)(void*)> mem(static_cast<float*>(std::aligned_alloc(64, (n * 4 + 63) / 64 * 64)),
                                              &std::free);
  std::span<float> acc(mem.get(), n);
  std::fill(acc.begin(), acc.end(), 99.0f);
  weighted_sum(acc, views, c, true);
  for (int64_t i : {int64_t{0}, int64_t{16383}, int64_t{16384}, int64_t{2} << 20, n - 2, n - 1}) {
    float expect = 0;
    for (size_t k = 0; k < ds.size(); ++k) expect += c[k] * ds[k][i];
    BOOST_TEST(acc[i] == expect, boost::test_tools::tolerance(1e-5f));
  }
}

BOOST_AUTO_TEST_SUITE_END()
