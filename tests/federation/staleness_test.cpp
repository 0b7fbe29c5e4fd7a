#include "federation/staleness.hpp"

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <stdexcept>

using namespace fedhub::federation;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_SUITE(staleness)

BOOST_AUTO_TEST_CASE(drop_accepts_only_fresh_contributions) {
  StalenessPolicy p;  // default kind is drop
  BOOST_TEST(staleness_weight(p, 0) == 1.0);
  BOOST_TEST(staleness_weight(p, 1) == 0.0);
  p.max_staleness = 10;  // not used by drop
  BOOST_TEST(staleness_weight(p, 3) == 0.0);
}

BOOST_AUTO_TEST_CASE(constant_accepts_up_to_max_staleness) {
  StalenessPolicy p{StalenessKind::constant, 5};
  BOOST_TEST(staleness_weight(p, 0) == 1.0);
  BOOST_TEST(staleness_weight(p, 5) == 1.0);
  BOOST_TEST(staleness_weight(p, 6) == 0.0);
  p.max_staleness = -1;  // unbounded
  BOOST_TEST(staleness_weight(p, 1000) == 1.0);
}

BOOST_AUTO_TEST_CASE(polynomial_is_s_plus_one_to_the_minus_a) {
  StalenessPolicy p{StalenessKind::polynomial, 100, 0.5};
  BOOST_TEST(staleness_weight(p, 0) == 1.0, tt::tolerance(1e-12));
  BOOST_TEST(staleness_weight(p, 3) == 0.5, tt::tolerance(1e-12));        // 4^-0.5
  BOOST_TEST(staleness_weight(p, 8) == 1.0 / 3.0, tt::tolerance(1e-12));  // 9^-0.5
  p.a = 1.0;
  BOOST_TEST(staleness_weight(p, 4) == 0.2, tt::tolerance(1e-12));  // 5^-1
  BOOST_TEST(staleness_weight(p, 101) == 0.0);                      // over max_staleness
}

BOOST_AUTO_TEST_CASE(hinge_is_one_until_b_then_decays) {
  StalenessPolicy p{StalenessKind::hinge, 100, 10, 4};  // FedAsync's hinge setting a = 10, b = 4
  BOOST_TEST(staleness_weight(p, 0) == 1.0);
  BOOST_TEST(staleness_weight(p, 4) == 1.0);
  BOOST_TEST(staleness_weight(p, 5) == 1.0 / 11.0, tt::tolerance(1e-12));  // 1 / (10 * 1 + 1)
  BOOST_TEST(staleness_weight(p, 6) == 1.0 / 21.0, tt::tolerance(1e-12));  // 1 / (10 * 2 + 1)
}

BOOST_AUTO_TEST_CASE(fedbuff_is_nguyen_et_al_not_flare) {
  StalenessPolicy p{StalenessKind::fedbuff, -1};
  BOOST_TEST(staleness_weight(p, 0) == 1.0);
  BOOST_TEST(staleness_weight(p, 3) == 0.5, tt::tolerance(1e-12));                   // 1/sqrt(4)
  BOOST_TEST(staleness_weight(p, 8) == 1.0 / 3.0, tt::tolerance(1e-12));             // 1/sqrt(9)
  BOOST_TEST(staleness_weight(p, 4) == 1.0 / std::sqrt(5.0), tt::tolerance(1e-12));  // FLARE would give 1/3
  p.max_staleness = 2;
  BOOST_TEST(staleness_weight(p, 3) == 0.0);
}

BOOST_AUTO_TEST_CASE(negative_staleness_and_bad_parameters_throw) {
  StalenessPolicy p{StalenessKind::polynomial, 5};
  BOOST_CHECK_THROW(staleness_weight(p, -1), std::invalid_argument);
  p.a = -1;
  BOOST_CHECK_THROW(staleness_weight(p, 0), std::invalid_argument);
  BOOST_TEST(!check_policy(p).empty());
}

BOOST_AUTO_TEST_CASE(names_round_trip) {
  for (auto k : {StalenessKind::drop, StalenessKind::constant, StalenessKind::polynomial, StalenessKind::hinge,
                 StalenessKind::fedbuff})
    BOOST_TEST((parse_staleness_kind(to_string(k)) == k));
  BOOST_TEST(to_string(StalenessKind::fedbuff) == "fedbuff");
  try {
    parse_staleness_kind("exponential");
    BOOST_FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("exponential") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
