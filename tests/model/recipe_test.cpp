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

namespace {

std::string error_of(const std::string& json) {
  try {
    parse_recipe(json);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_learning_rate_schedule_sets_the_rate_per_version) {
  const auto r = parse_recipe(
      R"({"optimizer":{"name":"adam","learning_rate":0.001},
          "learning_rate_schedule":[{"from_version":30,"learning_rate":0.0003},
                                    {"from_version":50,"learning_rate":0.0001}]})");
  BOOST_TEST(r.learning_rate_schedule.size() == 2u);
  BOOST_TEST(r.learning_rate_at(0) == 0.001);
  BOOST_TEST(r.learning_rate_at(29) == 0.001);
  BOOST_TEST(r.learning_rate_at(30) == 0.0003);
  BOOST_TEST(r.learning_rate_at(49) == 0.0003);
  BOOST_TEST(r.learning_rate_at(50) == 0.0001);
  BOOST_TEST(r.learning_rate_at(1000000) == 0.0001);
  const auto v = r.for_version(31);
  BOOST_TEST(v.optimizer.learning_rate == 0.0003);
  BOOST_TEST(v.steps == r.steps);
  BOOST_TEST(r.optimizer.learning_rate == 0.001);  // the recipe itself is unchanged
  const auto again = parse_recipe(r.to_json());
  BOOST_TEST(again.learning_rate_schedule.size() == 2u);
  BOOST_TEST(again.learning_rate_at(50) == 0.0001);
  // Without a schedule every version trains at the optimizer's rate, and the
  // canonical JSON does not mention one.
  const auto plain = parse_recipe("{}");
  BOOST_TEST(plain.learning_rate_at(12345) == 1e-3);
  BOOST_TEST(plain.to_json().find("learning_rate_schedule") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_bad_learning_rate_schedule_is_refused_naming_the_step) {
  BOOST_TEST(error_of(R"({"learning_rate_schedule":{"from_version":3}})").find("must be a list") != std::string::npos);
  BOOST_TEST(error_of(R"({"learning_rate_schedule":[3]})").find("learning_rate_schedule[0] must be an object") !=
             std::string::npos);
  BOOST_TEST(error_of(R"({"learning_rate_schedule":[{"from_version":0,"learning_rate":0.1}]})")
                 .find("learning_rate_schedule[0]: 'from_version' must be an integer >= 1") != std::string::npos);
  BOOST_TEST(
      error_of(R"({"learning_rate_schedule":[{"from_version":-2,"learning_rate":0.1}]})").find("'from_version'") !=
      std::string::npos);
  BOOST_TEST(error_of(R"({"learning_rate_schedule":[{"from_version":2}]})")
                 .find("learning_rate_schedule[0]: 'learning_rate' must be a number > 0") != std::string::npos);
  BOOST_TEST(error_of(R"({"learning_rate_schedule":[{"from_version":2,"learning_rate":0}]})").find("got 0") !=
             std::string::npos);
  BOOST_TEST(
      error_of(R"({"learning_rate_schedule":[{"from_version":2,"learning_rate":"fast"}]})").find("got \"fast\"") !=
      std::string::npos);
  BOOST_TEST(error_of(R"({"learning_rate_schedule":[{"from_version":5,"learning_rate":0.1},
                                                    {"from_version":5,"learning_rate":0.01}]})")
                 .find("learning_rate_schedule[1]: 'from_version' 5 must be greater than the step before's 5") !=
             std::string::npos);
  BOOST_TEST(error_of(R"({"learning_rate_schedule":[{"from_version":5,"learning_rate":0.1,"every":2}]})")
                 .find("learning_rate_schedule[0]: unknown field 'every'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
