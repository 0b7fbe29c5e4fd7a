// Simulations around an embedded hub: rounds in virtual time, determinism,
// buffered merges driven by the fast, a registered aggregator and a
// researcher's behaviour used by real merges and uploads, bad options.
#include "sim/simulation.hpp"

#include <boost/test/unit_test.hpp>
#include <caf/actor_system.hpp>
#include <filesystem>
#include <random>

#include "client/requests.hpp"
#include "client/system_config.hpp"
#include "federation/registry.hpp"
#include "messages/errors.hpp"
#include "model/flat.hpp"
#include "support/temp_dir.hpp"

using namespace fedhub;
using namespace fedhub::sim;

namespace {

const char* kArch = R"({"input":[8],"layers":[{"type":"dense","units":2}]})";
const char* kRecipe =
    R"({"optimizer":{"name":"sgd","learning_rate":0.5},"batch_size":8,"steps":20,"samples_per_round":0})";

// Two classes a line can separate: dark (0) and bright (1) vectors.
std::shared_ptr<datasets::Dataset> two_classes(int n, uint32_t seed) {
  auto d = std::make_shared<datasets::Dataset>();
  d->sample_shape = {8};
  std::mt19937 rng(seed);
  for (int i = 0; i < n; ++i) {
    const int label = i % 2;
    std::uniform_int_distribution<int> px(label ? 140 : 0, label ? 255 : 115);
    for (int k = 0; k < 8; ++k) d->pixels.push_back(static_cast<uint8_t>(px(rng)));
    d->labels.push_back(label);
  }
  return d;
}

SimulationOptions options(const std::string& policy = {}) {
  SimulationOptions o;
  o.model = "two";
  o.architecture_json = kArch;
  o.labels = {"dark", "bright"};
  o.recipe_json = kRecipe;
  o.policy_json = policy;
  o.versions = 2;
  o.seconds_per_step = 0.5;  // 20 steps: 10 virtual seconds at speed 1
  o.threads = 1;
  return o;
}

ParticipantSpec spec(std::string name, std::shared_ptr<Behaviour> b, Speed speed = {}, double dropout = 0) {
  return {std::move(name), std::move(b), speed, dropout};
}

struct System {
  SystemConfig cfg{2};
  caf::actor_system system{cfg};
};

std::vector<VersionResult> run_three(const SimulationOptions& o, std::vector<double> speeds) {
  System s;
  Simulation sim(s.system, o);
  for (size_t i = 0; i < speeds.size(); ++i)
    sim.add_participant(
        {"org-" + std::to_string(i), std::make_shared<LocalTraining>(two_classes(64, 10 + i)), Speed{speeds[i], 0}});
  sim.add_evaluation_set("test", *two_classes(200, 99));
  return sim.run();
}

// Sends the same weights whatever it is given (a researcher's behaviour).
class Constant : public Behaviour {
 public:
  explicit Constant(float v) : v_(v) {}
  TrainingOutput train(const TrainingTask& t) override {
    auto w = t.model.weights;
    for (auto& tensor : w)
      for (auto& x : tensor.values) x = v_;
    return {std::move(w), 10, {{"loss", 1.0}}, 1};
  }

 private:
  float v_;
};

// x += the largest delta of each coordinate.
class LargestDelta : public federation::Aggregator {
 public:
  explicit LargestDelta(int64_t n) : Aggregator(n) {}
  void add(std::span<const float> d, double samples, double factor) override {
    check_contribution(d, samples, factor);
    if (count_++ == 0) best_.assign(d.begin(), d.end());
    for (size_t i = 0; i < d.size(); ++i) best_[i] = std::max(best_[i], d[i]);
  }
  double weight_of(double, double factor) const override { return factor; }
  int64_t count() const override { return count_; }
  void apply(std::span<float> x, federation::ServerState& st) override {
    if (count_ == 0) throw std::logic_error("nothing to apply");
    check_model(x);
    for (size_t i = 0; i < x.size(); ++i) x[i] += best_[i];
    ++st.rounds;
    reset();
  }
  void reset() override {
    best_.clear();
    count_ = 0;
  }
  int64_t held_bytes() const override { return static_cast<int64_t>(best_.size() * 4); }
  std::string name() const override { return "largest-delta"; }

 private:
  std::vector<float> best_;
  int64_t count_ = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(simulation)

BOOST_AUTO_TEST_CASE(manual_rounds_wait_for_the_slowest_in_virtual_time_and_learn) {
  const auto r = run_three(options(), {1, 2, 10});
  BOOST_REQUIRE(r.size() == 3u);  // version 0, then two merges
  for (uint64_t v = 0; v < 3; ++v) BOOST_TEST(r[v].version == v);
  BOOST_TEST(r[0].virtual_s == 0.0);
  BOOST_TEST(r[1].virtual_s == 100.0);  // 20 steps x 0.5 s x speed 10: the slowest
  BOOST_TEST(r[2].virtual_s == 200.0);
  for (int v = 1; v <= 2; ++v) {
    BOOST_TEST(r[v].contributions == 3u);
    BOOST_TEST(r[v].max_staleness == 0u);
    BOOST_TEST(std::isfinite(r[v].mean_train_loss));
    BOOST_TEST(r[v].wall_s >= r[v - 1].wall_s);
  }
  BOOST_TEST(r[0].overall.samples == 200);
  BOOST_TEST(r[0].per_set.size() == 1u);
  BOOST_TEST(r[2].overall.accuracy > 0.9);  // the classes are separable
  BOOST_TEST(r[2].overall.accuracy > r[0].overall.accuracy);
}

// The recipe's learning_rate_schedule reaches the simulated participants: from
// version 2 on they step by 1e-9 and leave the model as it is, where the same
// crowd without the schedule goes on learning.
BOOST_AUTO_TEST_CASE(participants_train_at_the_recipes_scheduled_learning_rate) {
  auto o = options();
  o.versions = 3;
  const auto plain = run_three(o, {1, 1, 1});
  o.recipe_json =
      R"({"optimizer":{"name":"sgd","learning_rate":0.5},"batch_size":8,"steps":20,"samples_per_round":0,
          "learning_rate_schedule":[{"from_version":2,"learning_rate":1e-9}]})";
  const auto r = run_three(o, {1, 1, 1});
  BOOST_REQUIRE(r.size() == 4u);
  BOOST_REQUIRE(plain.size() == 4u);
  BOOST_TEST(r[1].overall.loss == plain[1].overall.loss);  // versions 0 and 1 train at 0.5 in both
  BOOST_TEST(r[2].overall.loss == plain[2].overall.loss);
  BOOST_TEST(std::abs(plain[3].overall.loss - plain[2].overall.loss) > 1e-4);
  BOOST_TEST(std::abs(r[3].overall.loss - r[2].overall.loss) < 1e-6);
}

BOOST_AUTO_TEST_CASE(a_run_is_fixed_by_its_seed) {
  auto o = options(R"({"merge":"buffered","k":2,"staleness":{"kind":"polynomial","a":0.5}})");
  o.versions = 4;
  const auto a = run_three(o, {1, 3, 7});
  const auto b = run_three(o, {1, 3, 7});
  BOOST_REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    BOOST_TEST(a[i].overall.accuracy == b[i].overall.accuracy);
    BOOST_TEST(a[i].overall.loss == b[i].overall.loss);
    BOOST_TEST(a[i].virtual_s == b[i].virtual_s);
    BOOST_TEST(a[i].mean_staleness == b[i].mean_staleness);
  }
  o.seed = 2;
  const auto c = run_three(o, {1, 3, 7});
  BOOST_TEST(c.back().overall.loss != a.back().overall.loss);
}

BOOST_AUTO_TEST_CASE(participants_trained_two_at_a_time_give_a_run_fixed_by_its_seed) {
  auto o = options(R"({"merge":"buffered","k":2})");
  o.versions = 3;
  o.threads = 2;
  o.trainers = 2;
  const auto a = run_three(o, {1, 2, 4});
  const auto b = run_three(o, {1, 2, 4});
  BOOST_REQUIRE(a.size() == 4u);
  BOOST_REQUIRE(b.size() == 4u);
  for (size_t i = 0; i < a.size(); ++i) {
    BOOST_TEST(a[i].overall.loss == b[i].overall.loss);
    BOOST_TEST(a[i].virtual_s == b[i].virtual_s);
  }
  BOOST_TEST(a.back().overall.accuracy > 0.9);
  o.trainers = 0;
  System s;
  BOOST_CHECK_THROW(Simulation(s.system, o), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(buffered_merges_are_driven_by_the_fast) {
  // k = 2 of 3, the third 10x slower: versions come at the pace of the two
  // fast ones; the slow one's results arrive stale and are merged with a
  // smaller weight (polynomial staleness) instead of holding everyone up.
  auto o = options(R"({"merge":"buffered","k":2,"staleness":{"kind":"polynomial","a":0.5,"max_staleness":-1}})");
  o.versions = 11;
  const auto r = run_three(o, {1, 1, 10});
  BOOST_REQUIRE(r.size() == 12u);
  BOOST_TEST(r[1].virtual_s == 10.0);  // the two fast ones' first results
  BOOST_TEST(r[6].virtual_s < 100.0);  // six versions before a synchronous round's first
  uint64_t stale = 0;
  for (const auto& v : r) stale = std::max(stale, v.max_staleness);
  BOOST_TEST(stale >= 1u);  // the slow one's result was merged late
}

BOOST_AUTO_TEST_CASE(a_registered_aggregator_and_a_researchers_behaviour_make_the_version) {
  if (!federation::is_registered_aggregator("largest-delta"))
    federation::register_aggregator("largest-delta",
                                    [](const federation::AggregatorConfig&, int64_t n, const federation::ServerState&) {
                                      return std::make_unique<LargestDelta>(n);
                                    });
  auto o = options(R"({"aggregator":{"name":"largest-delta"}})");
  o.versions = 1;
  System s;
  Simulation sim(s.system, o);
  sim.add_participant(spec("one", std::make_shared<Constant>(1.0f)));
  sim.add_participant(spec("three", std::make_shared<Constant>(3.0f)));
  sim.add_evaluation_set("test", *two_classes(20, 5));
  const auto r = sim.run();
  BOOST_REQUIRE(r.size() == 2u);
  BOOST_TEST(r[1].contributions == 2u);
  auto client = sim.hub().client(sim.hub().manager_key());
  const auto v1 = read_model_package(client->download_package("two", 1));
  for (const auto& t : v1.weights)
    for (float x : t.values) BOOST_TEST(x == 3.0f);  // FedAvg would give 2
}

BOOST_AUTO_TEST_CASE(refused_uploads_are_counted_and_the_run_goes_on) {
  // A norm bound of 100 refuses the loud participant's results (norm ~4000).
  auto o = options(R"({"norm_bound":100,"on_norm_exceeded":"reject"})");
  o.versions = 2;
  System s;
  Simulation sim(s.system, o);
  sim.add_participant(spec("honest", std::make_shared<LocalTraining>(two_classes(64, 1))));
  sim.add_participant(spec("loud", std::make_shared<Constant>(1000.0f)));
  sim.add_evaluation_set("test", *two_classes(40, 2));
  const auto r = sim.run();
  BOOST_REQUIRE(r.size() == 3u);
  BOOST_TEST(r[1].refused == 1u);
  BOOST_TEST(r[1].contributions == 1u);
  BOOST_TEST(r[2].refused == 1u);
}

BOOST_AUTO_TEST_CASE(bad_options_name_the_field) {
  System s;
  auto refused = [&](SimulationOptions o, const std::string& field) {
    try {
      Simulation sim(s.system, o);
      BOOST_ERROR("accepted; expected an error naming " << field);
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string(e.what()).find(field) != std::string::npos, e.what());
    }
  };
  refused(options(R"({"merge":"buffered","k":2,"interval_seconds":5})"), "interval_seconds");
  refused(options(R"({"merge":"sometimes"})"), "merge");
  auto o = options();
  o.model = "no spaces";
  refused(o, "model");
  o = options();
  o.seconds_per_step = -1;
  refused(o, "seconds_per_step");

  Simulation sim(s.system, options());
  auto data = two_classes(8, 1);
  BOOST_CHECK_THROW(sim.add_participant(spec("a", nullptr)), std::invalid_argument);
  BOOST_CHECK_THROW(sim.add_participant(spec("a", std::make_shared<LocalTraining>(data), Speed{0, 0})),
                    std::invalid_argument);
  BOOST_CHECK_THROW(sim.add_participant(spec("a", std::make_shared<LocalTraining>(data), Speed{1, 0}, 1.0)),
                    std::invalid_argument);
  sim.add_participant(spec("a", std::make_shared<LocalTraining>(data)));
  BOOST_CHECK_THROW(sim.add_participant(spec("a", std::make_shared<LocalTraining>(data))), std::invalid_argument);
  BOOST_CHECK_THROW(sim.run(), std::invalid_argument);  // no evaluation set
}

BOOST_AUTO_TEST_CASE(an_embedded_hub_on_a_given_directory_is_a_hubs_data_directory) {
  fedhub::testing::TempDir dir;
  EmbeddedHubOptions o;
  o.data_dir = dir / "hub";
  std::string key;
  {
    System s;
    EmbeddedHub hub(s.system, o);
    key = hub.manager_key();
    BOOST_TEST(!key.empty());
    hub.add_key("org-1", fb::Role::participant);
    hub.stop();
  }
  {
    System s;
    EmbeddedHub hub(s.system, o);
    BOOST_TEST(hub.manager_key() == key);  // from <data_dir>/manager.key
    auto manager = hub.client(key);
    Buffer holder;
    const auto* keys = manager->call_as<fb::KeyList>(requests::list_keys(key), holder);
    bool found = false;
    for (const auto* k : *keys->keys()) found = found || k->name()->str() == "org-1";
    BOOST_TEST(found);
  }
  // A temporary directory goes when its hub stops.
  System s;
  std::string temporary;
  {
    EmbeddedHub hub(s.system);
    temporary = hub.data_dir();
    BOOST_TEST(std::filesystem::exists(temporary));
  }
  BOOST_TEST(!std::filesystem::exists(temporary));
}

BOOST_AUTO_TEST_SUITE_END()
