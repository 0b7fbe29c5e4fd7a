// A target is reached when the mean of the last `window` versions is at or
// above it: a noisy curve's first crossing does not count with a window.
#include "sim/target.hpp"

#include <boost/test/unit_test.hpp>
#include <limits>

using namespace fedhub::sim;

namespace {

std::vector<VersionResult> curve(const std::vector<double>& accuracies) {
  std::vector<VersionResult> out;
  for (size_t i = 0; i < accuracies.size(); ++i) {
    VersionResult r;
    r.version = i;
    r.virtual_s = 10.0 * static_cast<double>(i);
    r.overall.accuracy = accuracies[i];
    out.push_back(r);
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(target)

BOOST_AUTO_TEST_CASE(a_window_of_one_is_the_first_crossing) {
  const auto c = curve({0.1, 0.3, 0.6, 0.2, 0.55});
  BOOST_TEST(*time_to_target(c, 0.55) == 20.0);
  BOOST_TEST(reached_target(c, 0.55));
  BOOST_TEST(!reached_target(c, 0.56));
  BOOST_TEST(!time_to_target(c, 0.7));
}

BOOST_AUTO_TEST_CASE(a_window_needs_the_mean_of_the_last_versions) {
  // A spike at 0.6 among 0.3s is no arrival; 0.5, 0.56, 0.6 (mean 0.553) is.
  const auto c = curve({0.1, 0.3, 0.6, 0.3, 0.5, 0.56, 0.6});
  BOOST_TEST(*time_to_target(c, 0.55, 3) == 60.0);
  BOOST_TEST(reached_target(c, 0.55, 3));
  BOOST_TEST(!reached_target(curve({0.1, 0.3, 0.6}), 0.55, 3));
  // Fewer results than the window: not reached by time_to_target, the mean
  // of all by reached_target.
  BOOST_TEST(!time_to_target(curve({0.9, 0.9}), 0.5, 3));
  BOOST_TEST(reached_target(curve({0.9, 0.9}), 0.5, 3));
}

BOOST_AUTO_TEST_CASE(no_target_no_results_and_bad_windows) {
  BOOST_TEST(!reached_target({}, 0.5));
  BOOST_TEST(!reached_target(curve({1.0}), std::numeric_limits<double>::quiet_NaN()));
  BOOST_CHECK_THROW(reached_target(curve({1.0}), 0.5, 0), std::invalid_argument);
  BOOST_CHECK_THROW(time_to_target(curve({1.0}), 0.5, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
