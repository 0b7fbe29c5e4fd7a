// Virtual time: deliveries leave by time (ties in scheduling order), compute
// time follows speed and jitter, and every draw is fixed by its four inputs.
#include "sim/virtual_clock.hpp"

#include <boost/test/unit_test.hpp>
#include <stdexcept>

using namespace fedhub::sim;

BOOST_AUTO_TEST_SUITE(virtual_clock)

BOOST_AUTO_TEST_CASE(deliveries_leave_by_time_then_scheduling_order) {
  DeliveryQueue q;
  q.schedule(5.0, 1);
  q.schedule(2.0, 2);
  q.schedule(5.0, 3);
  q.schedule(0.5, 4);
  BOOST_TEST(q.size() == 4u);
  BOOST_TEST(q.pop().participant == 4u);
  BOOST_TEST(q.pop().participant == 2u);
  BOOST_TEST(q.next().participant == 1u);  // 5.0 twice: the one scheduled first
  BOOST_TEST(q.pop().participant == 1u);
  BOOST_TEST(q.pop().participant == 3u);
  BOOST_TEST(q.empty());
  BOOST_CHECK_THROW(q.pop(), std::logic_error);
  BOOST_CHECK_THROW(q.schedule(std::numeric_limits<double>::infinity(), 1), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(compute_time_is_steps_times_speed_with_jitter) {
  BOOST_TEST(compute_seconds(200, 0.05, {1, 0}, 0.3) == 10.0);
  BOOST_TEST(compute_seconds(200, 0.05, {10, 0}, 0.9) == 100.0);  // 10x slower
  BOOST_TEST(compute_seconds(100, 0.1, {1, 0.5}, 0.0) == 5.0);    // the lowest draw: 1 - jitter
  BOOST_TEST(compute_seconds(100, 0.1, {1, 0.5}, 0.5) == 10.0);
  BOOST_TEST(compute_seconds(100, 0.1, {1, 0.5}, 1.0) == 15.0);
  BOOST_CHECK_THROW(compute_seconds(1, 0.1, {0, 0}, 0.5), std::invalid_argument);
  BOOST_CHECK_THROW(compute_seconds(1, 0.1, {1, 1.0}, 0.5), std::invalid_argument);
  BOOST_CHECK_THROW(compute_seconds(-1, 0.1, {1, 0}, 0.5), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(draws_are_fixed_by_their_inputs_and_spread_over_0_1) {
  BOOST_TEST(draw(7, 3, 2, 1) == draw(7, 3, 2, 1));
  BOOST_TEST(draw(7, 3, 2, 1) != draw(8, 3, 2, 1));
  BOOST_TEST(draw(7, 3, 2, 1) != draw(7, 4, 2, 1));
  BOOST_TEST(draw(7, 3, 2, 1) != draw(7, 3, 3, 1));
  BOOST_TEST(draw(7, 3, 2, 1) != draw(7, 3, 2, 2));
  double sum = 0;
  int below_tenth = 0;
  for (uint64_t i = 0; i < 10000; ++i) {
    const double d = draw(1, i, 0, 0);
    BOOST_REQUIRE(d >= 0.0);
    BOOST_REQUIRE(d < 1.0);
    sum += d;
    below_tenth += d < 0.1;
  }
  BOOST_TEST(std::abs(sum / 10000 - 0.5) < 0.02);
  BOOST_TEST(std::abs(below_tenth - 1000) < 150);
}

BOOST_AUTO_TEST_SUITE_END()
