// Part validation (check_part) and the norm decision (decide_norm).
#include "federation/validation.hpp"

#include <boost/test/unit_test.hpp>
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "test_util.hpp"

using namespace fedhub::federation;
using fedhub::federation::test::check_close;
using fedhub::federation::test::check_same_bits;
using fedhub::federation::test::under_thread_counts;

namespace {

using Vec = std::vector<float>;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Random values in [-1, 1] (large enough for the threaded, chunked path and a ragged last chunk).
Vec random_values(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Vec v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(validation)

BOOST_AUTO_TEST_CASE(check_part_computes_the_delta_and_its_squared_norm) {
  const Vec values = {4, 6, -1};
  const Vec base = {1, 2, -1};
  Vec delta(3, 99.0f);
  const auto r = check_part(values, base, 10, delta);
  BOOST_TEST(r.ok());
  BOOST_TEST(r.first_non_finite == -1);
  BOOST_TEST(r.first_over_bound == -1);
  check_close(delta, {3, 4, 0});
  BOOST_TEST(r.delta_squared == 25.0);
  // Without an output: the same checks and norm, nothing written.
  const auto r2 = check_part(values, base, 0, {});
  BOOST_TEST(r2.ok());
  BOOST_TEST(r2.delta_squared == 25.0);
}

BOOST_AUTO_TEST_CASE(check_part_on_a_large_part_matches_a_scalar_loop) {
  const size_t n = 300007;  // > the parallel threshold, not a multiple of the chunk
  const Vec values = random_values(n, 1);
  const Vec base = random_values(n, 2);
  Vec delta(n);
  const auto r = check_part(values, base, 1.0, delta);
  BOOST_TEST_REQUIRE(r.ok());
  double expect = 0;
  for (size_t i = 0; i < n; ++i) {
    const float d = values[i] - base[i];
    BOOST_TEST_REQUIRE(delta[i] == d);  // the float32 difference, exactly
    expect += static_cast<double>(d) * d;
  }
  // Double accumulation in another order: agrees to ~n * 2^-53 relative.
  BOOST_TEST(r.delta_squared == expect, boost::test_tools::tolerance(1e-10));
  // In place: delta_out is values.
  Vec in_place = values;
  const auto r2 = check_part(in_place, base, 1.0, in_place);
  BOOST_TEST(r2.ok());
  BOOST_TEST((in_place == delta));
}

BOOST_AUTO_TEST_CASE(check_part_delta_squared_is_bit_identical_across_thread_counts) {
  const size_t n = 300007;
  Vec values = random_values(n, 3);
  const Vec base = random_values(n, 4);
  for (size_t i = 0; i < n; i += 7) values[i] *= 1e-4f;  // mixed magnitudes: order-sensitive sums
  std::vector<Vec> deltas;
  const auto with_output = under_thread_counts([&] {
    Vec delta(n);
    const auto r = check_part(values, base, 1.0, delta);
    BOOST_TEST_REQUIRE(r.ok());
    deltas.push_back(std::move(delta));
    return r.delta_squared;
  });
  check_same_bits(with_output, "check_part delta_squared");
  check_same_bits(deltas, "check_part delta");
  check_same_bits(under_thread_counts([&] { return check_part(values, base, 1.0, {}).delta_squared; }),
                  "check_part delta_squared (no output)");
  BOOST_TEST(check_part(values, base, 1.0, {}).delta_squared == with_output[0]);
}

BOOST_AUTO_TEST_CASE(check_part_reports_the_first_non_finite_index) {
  const size_t n = 200000;
  const Vec base(n, 0.5f);
  for (float bad : {kNaN, kInf, -kInf}) {
    Vec values(n, 0.25f);
    values[123457] = bad;
    values[150000] = kNaN;  // later bad values do not matter
    values[199999] = 1e9f;
    Vec delta(n);
    const auto r = check_part(values, base, 1e6, delta);
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.first_non_finite == 123457);
    BOOST_TEST(r.first_over_bound == -1);
    // Without a bound too.
    const auto r2 = check_part(values, base, 0, {});
    BOOST_TEST(r2.first_non_finite == 123457);
  }
  // The first index of a small part, and index 0.
  const auto r3 = check_part(Vec{kNaN, 1}, Vec{0, 0}, 0, {});
  BOOST_TEST(r3.first_non_finite == 0);
}

BOOST_AUTO_TEST_CASE(check_part_reports_the_first_value_over_the_bound) {
  const size_t n = 200000;
  const Vec base(n, 0.0f);
  Vec values(n, 1.0f);
  values[70001] = -2.5f;
  values[90000] = kNaN;  // after the first bad value: not reported
  const auto r = check_part(values, base, 2.0, {});
  BOOST_TEST(r.first_over_bound == 70001);
  BOOST_TEST(r.first_non_finite == -1);
  // A bad value that comes first wins, whatever its kind.
  values[5] = kInf;
  const auto r2 = check_part(values, base, 2.0, {});
  BOOST_TEST(r2.first_non_finite == 5);
  BOOST_TEST(r2.first_over_bound == -1);
  // The bound itself is allowed; compared exactly (0.1 is not a float32).
  BOOST_TEST(check_part(Vec{2.0f, -2.0f}, Vec{0, 0}, 2.0, {}).ok());
  static_assert(static_cast<double>(0.1f) > 0.1);
  BOOST_TEST(check_part(Vec{0.1f}, Vec{0}, 0.1, {}).first_over_bound == 0);
  BOOST_TEST(check_part(Vec{std::nextafter(0.1f, 0.0f)}, Vec{0}, 0.1, {}).ok());
  // No bound (<= 0): large finite values pass.
  BOOST_TEST(check_part(Vec{3e38f}, Vec{0}, 0, {}).ok());
  BOOST_TEST(check_part(Vec{3e38f}, Vec{0}, -1, {}).ok());
}

BOOST_AUTO_TEST_CASE(check_part_reports_a_delta_that_overflows) {
  // Finite values, no bound, but value - base overflows float32.
  const auto r = check_part(Vec{1, 3e38f}, Vec{0, -3e38f}, 0, {});
  BOOST_TEST(r.first_non_finite == 1);
  BOOST_TEST(r.first_over_bound == -1);
  // A non-finite base value is caught too.
  const auto r2 = check_part(Vec{1, 1}, Vec{0, kNaN}, 0, {});
  BOOST_TEST(r2.first_non_finite == 1);
}

BOOST_AUTO_TEST_CASE(check_part_sizes_are_checked) {
  Vec delta(2);
  BOOST_CHECK_THROW(check_part(Vec{1, 2}, Vec{1}, 0, {}), std::invalid_argument);
  Vec small(1);
  BOOST_CHECK_THROW(check_part(Vec{1, 2}, Vec{1, 2}, 0, small), std::invalid_argument);
  BOOST_CHECK_THROW(check_part(Vec{1, 2}, Vec{1, 2}, std::nan(""), delta), std::invalid_argument);
  // A partially overlapping output.
  Vec buf = {1, 2, 3};
  BOOST_CHECK_THROW(check_part(std::span<const float>(buf).first(2), Vec{0, 0}, 0, std::span<float>(buf).subspan(1)),
                    std::invalid_argument);
  check_close(buf, {1, 2, 3});
  // An empty part is fine.
  const auto r = check_part({}, {}, 1, {});
  BOOST_TEST(r.ok());
  BOOST_TEST(r.delta_squared == 0.0);
}

BOOST_AUTO_TEST_CASE(decide_norm_accepts_within_the_bound) {
  const auto d = decide_norm(25.0, {10});
  BOOST_TEST(!d.reject);
  BOOST_TEST(!d.clip);
  BOOST_TEST(d.scale == 1.0f);
  BOOST_TEST(d.norm == 5.0);
  const auto at = decide_norm(25.0, {5});  // exactly at the bound
  BOOST_TEST(!at.reject);
  BOOST_TEST(!at.clip);
  const auto unbounded = decide_norm(1e30, {});
  BOOST_TEST(!unbounded.reject);
  BOOST_TEST(!unbounded.clip);
  BOOST_TEST(unbounded.norm == 1e15);
}

BOOST_AUTO_TEST_CASE(decide_norm_rejects_over_the_bound) {
  const auto d = decide_norm(25.0, {4.0, UpdateLimits::reject});
  BOOST_TEST(d.reject);
  BOOST_TEST(!d.clip);
  BOOST_TEST(d.scale == 1.0f);
  BOOST_TEST(d.norm == 5.0);
}

BOOST_AUTO_TEST_CASE(decide_norm_clips_to_the_bound) {
  const auto d = decide_norm(25.0, {2.5, UpdateLimits::clip});
  BOOST_TEST(!d.reject);
  BOOST_TEST(d.clip);
  BOOST_TEST(d.scale == 0.5f);
  BOOST_TEST(d.norm == 5.0);  // before clipping
  // bound / norm = 1/3 is not a float32: the scale is rounded down.
  const auto third = decide_norm(9.0, {1.0, UpdateLimits::clip});
  BOOST_TEST(third.clip);
  BOOST_TEST(static_cast<double>(third.scale) <= 1.0 / 3.0);
  BOOST_TEST(static_cast<double>(third.scale) > 1.0 / 3.0 * (1 - 1e-7));
}

BOOST_AUTO_TEST_CASE(decide_norm_bad_input_throws) {
  BOOST_CHECK_THROW(decide_norm(1, {-1}), std::invalid_argument);
  BOOST_CHECK_THROW(decide_norm(1, {std::numeric_limits<double>::infinity()}), std::invalid_argument);
  BOOST_CHECK_THROW(decide_norm(-1, {}), std::invalid_argument);
  BOOST_CHECK_THROW(decide_norm(std::nan(""), {1}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(parts_compose_into_the_whole_delta) {
  // The hub's use: check each part, sum delta_squared, decide on the whole.
  const size_t n = 100003;
  const Vec values = random_values(n, 3);
  const Vec base = random_values(n, 4);
  Vec whole(n), parts(n);
  const auto all = check_part(values, base, 1, whole);
  double sum = 0;
  for (size_t lo = 0; lo < n; lo += 30000) {
    const size_t len = std::min<size_t>(30000, n - lo);
    const auto r = check_part(std::span(values).subspan(lo, len), std::span(base).subspan(lo, len), 1,
                              std::span(parts).subspan(lo, len));
    BOOST_TEST_REQUIRE(r.ok());
    sum += r.delta_squared;
  }
  BOOST_TEST((parts == whole));
  BOOST_TEST(sum == all.delta_squared, boost::test_tools::tolerance(1e-10));
  const auto d = decide_norm(sum, {1.0, UpdateLimits::clip});
  BOOST_TEST(d.clip);  // the norm of ~1e5 differences of U(-1, 1) values is ~258
  BOOST_TEST(d.norm == std::sqrt(sum));
}

BOOST_AUTO_TEST_SUITE_END()
