#include "model/flat.hpp"

#include <boost/test/unit_test.hpp>
#include <stdexcept>

using namespace fedhub;

BOOST_AUTO_TEST_SUITE(flat)

BOOST_AUTO_TEST_CASE(flatten_concatenates_in_layout_order) {
  Weights w = {{"conv/kernel", {2, 2}, {1, 2, 3, 4}}, {"conv/bias", {2}, {5, 6}}, {"scale", {}, {7}}};
  const auto flat = flatten(w);
  BOOST_TEST(flat == (std::vector<float>{1, 2, 3, 4, 5, 6, 7}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unflatten_inverts_flatten) {
  Weights w = {{"a", {3}, {1, 2, 3}}, {"b", {1, 2}, {4, 5}}};
  const auto layout = layout_of(w);
  BOOST_TEST(layout_size(layout) == 5);
  const Weights back = unflatten(flatten(w), layout);
  BOOST_TEST_REQUIRE(back.size() == 2u);
  BOOST_TEST(back[0].name == "a");
  BOOST_TEST(back[1].name == "b");
  BOOST_TEST(back[1].shape == (std::vector<int64_t>{1, 2}), boost::test_tools::per_element());
  BOOST_TEST(back[0].values == w[0].values, boost::test_tools::per_element());
  BOOST_TEST(back[1].values == w[1].values, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unflatten_rejects_a_size_mismatch_naming_both_counts) {
  const std::vector<TensorSpec> layout = {{"a", {2, 3}}};
  const std::vector<float> flat(5, 0.0f);
  try {
    unflatten(flat, layout);
    BOOST_FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find('5') != std::string::npos);
    BOOST_TEST(msg.find('6') != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(flatten_into_checks_the_output_size) {
  Weights w = {{"a", {2}, {1, 2}}};
  std::vector<float> out(3);
  BOOST_CHECK_THROW(flatten_into(w, out), std::invalid_argument);
  out.resize(2);
  flatten_into(w, out);
  BOOST_TEST(out[1] == 2.0f);
}

BOOST_AUTO_TEST_SUITE_END()
