// Model limits: parameters counted from the architecture without allocating
// (overflow guarded), and refusals that name the size and the limit.
#include "model/limits.hpp"

#include <boost/test/unit_test.hpp>

using namespace fedhub;

namespace {

std::string dense(const std::string& input, const std::string& units) {
  return R"({"input":)" + input + R"(,"layers":[{"type":"dense","units":)" + units +
         R"(},{"type":"dense","units":2}]})";
}

ModelSpec spec_of(const std::string& arch, const std::string& recipe = "{}") {
  return make_model_spec("m", arch, {"a", "b"}, recipe);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(limits)

BOOST_AUTO_TEST_CASE(counts_parameters_of_every_layer) {
  // dense 784 -> 64 (+64 bias), dense 64 -> 2 (+2); conv 3x3x1x8 (+8).
  BOOST_TEST(*count_parameters(spec_of(dense("[784]", "64")).architecture) == 784u * 64 + 64 + 64 * 2 + 2);
  const auto conv = parse_architecture(
      R"({"input":[8,8,1],"layers":[{"type":"conv2d","filters":8,"kernel_size":3},{"type":"flatten"},
          {"type":"dense","units":2,"use_bias":false}]})");
  BOOST_TEST(*count_parameters(conv) == 3u * 3 * 1 * 8 + 8 + 6 * 6 * 8 * 2);
}

BOOST_AUTO_TEST_CASE(a_billion_units_are_counted_not_allocated) {
  // 784 x 10^9 kernel values: 3.1 TB of weights, counted in microseconds.
  const auto spec = spec_of(dense("[784]", "1000000000"));
  BOOST_TEST(*count_parameters(spec.architecture) == 784ull * 1000000000 + 1000000000 + 2000000000ull + 2);
  const auto why = check_model_limits(spec, ModelLimits{}, "the hub's config");
  BOOST_TEST(why.find("787000000002 parameters") != std::string::npos, why);
  BOOST_TEST(why.find("at most 500000000") != std::string::npos, why);
  BOOST_TEST(why.find("max_parameters") != std::string::npos, why);
  BOOST_TEST(why.find("the hub's config") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(overflow_is_a_refusal_not_a_wrap) {
  // 2^40 x 2^30 kernel values do not fit in 64 bits (and wrap to a small
  // number if multiplied carelessly).
  const auto arch = parse_architecture(dense("[1099511627776]", "1073741824"));
  BOOST_TEST(!count_parameters(arch).has_value());
  const auto why = check_model_limits(ModelSpec{"m", arch, {"a", "b"}, {}}, ModelLimits::ceiling(), "fedhub");
  BOOST_TEST(why.find("more than 2^64 parameters") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(model_bytes_are_a_limit_of_their_own) {
  ModelLimits l;
  l.max_model_bytes = 1000;
  const auto spec = spec_of(dense("[10]", "30"));  // 10*30+30+30*2+2 = 392 parameters, 1568 bytes
  const auto why = check_model_limits(spec, l, "the hub's config");
  BOOST_TEST(why.find("1568 bytes (392 parameters)") != std::string::npos, why);
  BOOST_TEST(why.find("at most 1000 bytes (max_model_bytes)") != std::string::npos, why);
  l.max_model_bytes = 1568;
  BOOST_TEST(check_model_limits(spec, l, "x").empty());
}

BOOST_AUTO_TEST_CASE(recipe_steps_and_batch_size) {
  const auto arch = dense("[3]", "4");
  BOOST_TEST(check_model_limits(spec_of(arch), ModelLimits{}, "x").empty());
  auto why = check_model_limits(spec_of(arch, R"({"steps":2000000000000})"), ModelLimits{}, "the hub's config");
  BOOST_TEST(why.find("2000000000000 steps per round") != std::string::npos, why);
  BOOST_TEST(why.find("at most 1000000 (max_steps)") != std::string::npos, why);
  why = check_model_limits(spec_of(arch, R"({"steps":2000000000000})"), ModelLimits::ceiling(), "fedhub");
  BOOST_TEST(why.find("at most 1000000000 (max_steps)") != std::string::npos, why);
  why = check_model_limits(spec_of(arch, R"({"batch_size":100000})"), ModelLimits{}, "the hub's config");
  BOOST_TEST(why.find("batch size is 100000") != std::string::npos, why);
  BOOST_TEST(why.find("at most 65536 (max_batch_size)") != std::string::npos, why);
  BOOST_TEST(check_model_limits(spec_of(arch, R"({"batch_size":65536,"steps":1000000})"), ModelLimits{}, "x").empty());
}

BOOST_AUTO_TEST_CASE(defaults_are_within_the_ceiling) {
  constexpr ModelLimits d, c = ModelLimits::ceiling();
  BOOST_TEST(d.max_parameters <= c.max_parameters);
  BOOST_TEST(d.max_model_bytes <= c.max_model_bytes);
  BOOST_TEST(d.max_steps <= c.max_steps);
  BOOST_TEST(d.max_batch_size <= c.max_batch_size);
  BOOST_TEST(d.max_parameters * 4 <= d.max_model_bytes);  // the default parameters fit the default bytes
}

BOOST_AUTO_TEST_SUITE_END()
