#include "model/recipe.hpp"

#include <boost/test/unit_test.hpp>

using namespace fedhub;

BOOST_AUTO_TEST_SUITE(recipe)

BOOST_AUTO_TEST_CASE(defaults_follow_keras) {
  auto r = parse_recipe("{}");
  BOOST_TEST(r.optimizer.name == "adam");
  BOOST_TEST(r.optimizer.learning_rate == 1e-3);
  BOOST_TEST(r.optimizer.epsilon == 1e-7);
  BOOST_TEST(r.batch_size == 32);
  BOOST_TEST(r.steps == 200);
  BOOST_TEST(r.samples_per_round == 6400);
}

BOOST_AUTO_TEST_CASE(parses_the_issue_example_and_sgd) {
  auto r = parse_recipe(
      R"({"optimizer":{"name":"adam","learning_rate":0.001},"batch_size":32,"steps":200,"samples_per_round":6400})");
  BOOST_TEST(r.optimizer.learning_rate == 0.001);
  auto s =
      parse_recipe(R"({"optimizer":{"name":"sgd","learning_rate":0.1,"momentum":0.9,"nesterov":true},"batch_size":8})");
  BOOST_TEST(s.optimizer.name == "sgd");
  BOOST_TEST(s.optimizer.momentum == 0.9);
  BOOST_TEST(s.optimizer.nesterov);
  BOOST_TEST(s.batch_size == 8);
  auto again = parse_recipe(s.to_json());
  BOOST_TEST(again.optimizer.momentum == 0.9);
  BOOST_TEST(again.batch_size == 8);
}

BOOST_AUTO_TEST_CASE(rejects_bad_values) {
  BOOST_CHECK_THROW(parse_recipe(R"({"optimizer":{"name":"rmsprop"}})"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_recipe(R"({"batch_size":0})"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_recipe(R"({"steps":-1})"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_recipe(R"({"optimizer":{"name":"adam","learning_rate":-1}})"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_recipe(R"({"bach_size":3})"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_recipe("[1,2]"), std::invalid_argument);
}

// Found by fuzz_recipe (tests/fuzz): a number past double's range is
// nlohmann's out_of_range, not its parse_error; it escaped as such.
BOOST_AUTO_TEST_CASE(a_number_past_doubles_range_is_invalid_json) {
  BOOST_CHECK_THROW(parse_recipe(R"({"optimizer":{"name":"adam","learning_rate":1e999}})"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
