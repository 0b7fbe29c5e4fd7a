#include "model/labels.hpp"

#include <boost/test/unit_test.hpp>

using namespace fedhub;

BOOST_AUTO_TEST_SUITE(labels)

BOOST_AUTO_TEST_CASE(parse_skips_blank_and_comments) {
  auto l = parse_labels("# classes\nAirplane\n\n  Ankle boot \r\nT-shirt\n");
  BOOST_TEST((l == std::vector<std::string>{"Airplane", "Ankle boot", "T-shirt"}));
  BOOST_CHECK_THROW(parse_labels("\n# nothing\n"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_labels("cat\nCat\n"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(matching_ignores_case_and_punctuation) {
  std::vector<std::string> model{"Airplane", "Ankle boot", "T-shirt"};
  BOOST_TEST(find_label(model, "T-shirt/top") == 2);
  BOOST_TEST(find_label(model, "airplane") == 0);
  BOOST_TEST(find_label(model, "ankle_boot") == 1);
  BOOST_TEST(find_label(model, "truck") == -1);
}

BOOST_AUTO_TEST_SUITE_END()
