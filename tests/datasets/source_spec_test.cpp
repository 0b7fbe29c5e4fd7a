#include "datasets/source_spec.hpp"

#include <boost/test/unit_test.hpp>

using namespace fedhub::datasets;

BOOST_AUTO_TEST_SUITE(source_spec)

BOOST_AUTO_TEST_CASE(kind_path_and_classes) {
  auto s = parse_source_spec("idx:/usr/share/datasets/fashion-mnist/train");
  BOOST_TEST(s.kind == "idx");
  BOOST_TEST(s.path == "/usr/share/datasets/fashion-mnist/train");
  BOOST_TEST(s.classes.empty());

  s = parse_source_spec("folder:/data/train:cat, dog ,7");
  BOOST_TEST(s.kind == "folder");
  BOOST_TEST(s.path == "/data/train");
  BOOST_TEST((s.classes == std::vector<std::string>{"cat", "dog", "7"}));

  s = parse_source_spec("cifar:DIR/test_batch.bin:0");
  BOOST_TEST(s.path == "DIR/test_batch.bin");
  BOOST_TEST((s.classes == std::vector<std::string>{"0"}));
}

BOOST_AUTO_TEST_CASE(trailing_colon_keeps_colons_in_the_path) {
  const auto s = parse_source_spec("folder:/data/a:b/train:");
  BOOST_TEST(s.path == "/data/a:b/train");
  BOOST_TEST(s.classes.empty());
}

BOOST_AUTO_TEST_CASE(malformed_strings_are_errors) {
  BOOST_CHECK_THROW(parse_source_spec("/data/train"), std::runtime_error);
  BOOST_CHECK_THROW(parse_source_spec("zip:/data/train"), std::runtime_error);
  BOOST_CHECK_THROW(parse_source_spec("idx:"), std::runtime_error);
  BOOST_CHECK_THROW(parse_source_spec("idx::0"), std::runtime_error);
  BOOST_CHECK_THROW(parse_source_spec("idx:/x:0,,1"), std::runtime_error);
  try {
    parse_source_spec("zip:/data/train");
    BOOST_FAIL("no error");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).find("unknown kind 'zip'") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
