#include "federation/validation.hpp"

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>

#include "test_util.hpp"

using namespace fedhub::federation;
using fedhub::federation::test::check_close;

BOOST_AUTO_TEST_SUITE(validation)

BOOST_AUTO_TEST_CASE(a_finite_update_within_bound_is_ok) {
  std::vector<float> d = {3, 4};
  const auto r = validate_update(d, 2, {10});
  BOOST_TEST(r.ok());
  BOOST_TEST(r.code == "ok");
  BOOST_TEST(r.norm == 5.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(!r.clipped);
  const auto unbounded = validate_update(d, 2, {});
  BOOST_TEST(unbounded.ok());
}

BOOST_AUTO_TEST_CASE(size_mismatch) {
  std::vector<float> d = {3, 4};
  const auto r = validate_update(d, 3, {});
  BOOST_TEST(r.code == "size_mismatch");
  BOOST_TEST(!r.ok());
}

BOOST_AUTO_TEST_CASE(non_finite_names_the_index) {
  std::vector<float> d(100000, 0.0f);
  d[70001] = std::numeric_limits<float>::infinity();
  d[99999] = std::numeric_limits<float>::quiet_NaN();
  const auto r = validate_update(d, 100000, {});
  BOOST_TEST(r.code == "non_finite");
  BOOST_TEST(r.message.find("70001") != std::string::npos, r.message);
  std::vector<float> e = {1, std::numeric_limits<float>::quiet_NaN()};
  const auto r2 = check_update(e, 2, {});
  BOOST_TEST(r2.code == "non_finite");
  BOOST_TEST(r2.message.find("index 1") != std::string::npos, r2.message);
}

BOOST_AUTO_TEST_CASE(norm_over_bound_is_rejected) {
  std::vector<float> d = {3, 4};
  const auto r = validate_update(d, 2, {4.0, UpdateLimits::reject});
  BOOST_TEST(r.code == "norm_exceeded");
  BOOST_TEST(r.norm == 5.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(r.message.find("exceeds") != std::string::npos);
  check_close(d, {3, 4});  // untouched
}

BOOST_AUTO_TEST_CASE(norm_over_bound_is_clipped_in_place) {
  std::vector<float> d = {3, 4};
  const auto r = validate_update(d, 2, {2.5, UpdateLimits::clip});
  BOOST_TEST(r.ok());
  BOOST_TEST(r.clipped);
  BOOST_TEST(r.norm == 5.0, boost::test_tools::tolerance(1e-12));  // before clipping
  check_close(d, {1.5, 2});
  std::vector<float> e = {3, 4};
  const auto c = check_update(e, 2, {2.5, UpdateLimits::clip});
  BOOST_TEST(c.clipped);
  check_close(e, {3, 4});  // check_update never modifies
}

BOOST_AUTO_TEST_CASE(bad_limits_throw) {
  std::vector<float> d = {1};
  BOOST_CHECK_THROW(validate_update(d, 1, {-1}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
