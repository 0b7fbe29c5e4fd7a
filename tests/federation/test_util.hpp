// Helpers shared by the federation tests.
#pragma once

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <initializer_list>
#include <span>
#include <vector>

namespace fedhub::federation::test {

// Checks |actual_i - expected_i| <= tol * max(1, |expected_i|) for every i.
inline void check_close(std::span<const float> actual, std::initializer_list<double> expected, double tol = 1e-6) {
  BOOST_TEST_REQUIRE(actual.size() == expected.size());
  size_t i = 0;
  for (double e : expected) {
    const double a = actual[i];
    BOOST_TEST(std::abs(a - e) <= tol * std::max(1.0, std::abs(e)),
               "index " << i << ": got " << a << ", expected " << e);
    ++i;
  }
}

}  // namespace fedhub::federation::test
