// A strategy registered from outside the library: valid wherever a built-in
// name is, made by make_aggregator; names checked.
#include "federation/registry.hpp"

#include <boost/test/unit_test.hpp>
#include <stdexcept>

#include "test_util.hpp"

using namespace fedhub::federation;
using fedhub::federation::test::check_close;

namespace {

// x += lr * the largest delta of each coordinate (a rule no built-in has).
class CoordinateMax : public Aggregator {
 public:
  CoordinateMax(const AggregatorConfig& c, int64_t n) : Aggregator(n), lr_(c.server_lr) {}
  void add(std::span<const float> delta, double num_samples, double staleness_factor) override {
    check_contribution(delta, num_samples, staleness_factor);
    if (count_ == 0) max_.assign(delta.begin(), delta.end());
    for (size_t i = 0; i < delta.size(); ++i) max_[i] = std::max(max_[i], delta[i]);
    ++count_;
  }
  double weight_of(double, double staleness_factor) const override { return staleness_factor; }
  int64_t count() const override { return count_; }
  void apply(std::span<float> model, ServerState& state) override {
    if (count_ == 0) throw std::logic_error("coordinate-max: nothing to apply");
    check_model(model);
    for (size_t i = 0; i < model.size(); ++i) model[i] += static_cast<float>(lr_) * max_[i];
    ++state.rounds;
    reset();
  }
  void reset() override {
    max_.clear();
    count_ = 0;
  }
  int64_t held_bytes() const override { return static_cast<int64_t>(max_.size() * sizeof(float)); }
  std::string name() const override { return "coordinate-max"; }

 private:
  double lr_;
  std::vector<float> max_;
  int64_t count_ = 0;
};

AggregatorConfig named(const std::string& name) {
  AggregatorConfig c;
  c.name = name;
  return c;
}

// Registered once for the whole test program (registrations are for good).
void ensure_registered() {
  if (!is_registered_aggregator("coordinate-max"))
    register_aggregator("coordinate-max", [](const AggregatorConfig& c, int64_t n, const ServerState&) {
      return std::make_unique<CoordinateMax>(c, n);
    });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(registry)

BOOST_AUTO_TEST_CASE(an_unregistered_name_is_unknown_until_registered) {
  BOOST_CHECK_THROW(named("coordinate-min").resolved(), std::invalid_argument);
  BOOST_TEST(!is_registered_aggregator("coordinate-min"));
  ensure_registered();
  BOOST_TEST(is_registered_aggregator("coordinate-max"));
  BOOST_TEST(!is_registered_aggregator("fedavg"));  // a built-in, not a registration
  BOOST_TEST(aggregator_names().find("|krum|coordinate-max") != std::string::npos, aggregator_names());
  try {
    named("coordinate-min").resolved();
  } catch (const std::invalid_argument& e) {
    // The error lists what is valid, registered names included.
    BOOST_TEST(std::string(e.what()).find("coordinate-max") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(make_aggregator_makes_the_registered_strategy) {
  ensure_registered();
  const auto c = named("coordinate-max").resolved();
  BOOST_TEST(c.server_lr == 1.0);  // fedavg's generic defaults
  BOOST_TEST(c.weighting == "samples");
  auto agg = make_aggregator(named("coordinate-max"), 3);
  BOOST_TEST(agg->name() == "coordinate-max");
  BOOST_TEST(!agg->can_fold_parts());
  agg->add(std::vector<float>{1, -2, 0}, 10, 1);
  agg->add(std::vector<float>{-1, 3, -5}, 10, 1);
  std::vector<float> x{10, 10, 10};
  ServerState st;
  agg->apply(x, st);
  check_close(x, {11, 13, 10});
  BOOST_TEST(st.rounds == 1);
  // dp needs a mean-based strategy: a registered one is refused.
  auto dp = named("coordinate-max");
  dp.dp.enabled = true;
  BOOST_CHECK_THROW(dp.resolved(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(bad_registrations_are_refused) {
  ensure_registered();
  auto factory = [](const AggregatorConfig& c, int64_t n, const ServerState&) {
    return std::make_unique<CoordinateMax>(c, n);
  };
  BOOST_CHECK_THROW(register_aggregator("coordinate-max", factory), std::invalid_argument);  // taken
  BOOST_CHECK_THROW(register_aggregator("fedavg", factory), std::invalid_argument);          // a built-in
  BOOST_CHECK_THROW(register_aggregator("", factory), std::invalid_argument);
  BOOST_CHECK_THROW(register_aggregator("Upper Case", factory), std::invalid_argument);
  BOOST_CHECK_THROW(register_aggregator(std::string(33, 'a'), factory), std::invalid_argument);
  BOOST_CHECK_THROW(register_aggregator("empty-factory", AggregatorFactory{}), std::invalid_argument);
  BOOST_TEST(!is_registered_aggregator("empty-factory"));
  // A factory that makes nothing (or the wrong size) is an error at make time.
  register_aggregator("makes-nothing", [](const AggregatorConfig&, int64_t, const ServerState&) {
    return std::unique_ptr<Aggregator>();
  });
  BOOST_CHECK_THROW(make_aggregator(named("makes-nothing"), 3), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
