// A robustness study on the hub's real actors, in one program: five
// participants train Fashion-MNIST through an embedded hub; one of them
// sends noise. A strategy of our own ("norm-filter": the mean of the deltas
// no longer than twice the median norm) is registered by name and compared
// with FedAvg. Run: build/bin/example-robustness [--rounds N] [DATA_DIR]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "client/system_config.hpp"
#include "federation/aggregate.hpp"
#include "federation/registry.hpp"
#include "sim/simulation.hpp"

using namespace fedhub;

// The researcher's strategy: keeps every delta, averages the plausible ones.
class NormFilter : public federation::Aggregator {
 public:
  explicit NormFilter(int64_t n) : Aggregator(n) {}
  void add(std::span<const float> d, double samples, double factor) override {
    check_contribution(d, samples, factor);
    deltas_.emplace_back(d.begin(), d.end());
  }
  double weight_of(double, double factor) const override { return factor; }
  int64_t count() const override { return static_cast<int64_t>(deltas_.size()); }
  void apply(std::span<float> x, federation::ServerState& state) override {
    if (deltas_.empty()) throw std::logic_error("norm-filter: no contributions");
    std::vector<double> norms;
    for (const auto& d : deltas_) norms.push_back(federation::l2_norm(d));
    auto sorted = norms;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    const double bound = 2 * sorted[sorted.size() / 2];
    std::vector<double> sum(x.size(), 0.0);
    int kept = 0;
    for (size_t k = 0; k < deltas_.size(); ++k)
      if (norms[k] <= bound && ++kept)
        for (size_t i = 0; i < x.size(); ++i) sum[i] += deltas_[k][i];
    for (size_t i = 0; i < x.size(); ++i) x[i] += static_cast<float>(sum[i] / kept);
    ++state.rounds;
    reset();
  }
  void reset() override { deltas_.clear(); }
  int64_t held_bytes() const override { return count() * parameter_count() * 4; }
  std::string name() const override { return "norm-filter"; }

 private:
  std::vector<std::vector<float>> deltas_;
};

// The researcher's participant: sends the model plus loud noise.
class Noise : public sim::Behaviour {
  sim::TrainingOutput train(const sim::TrainingTask& t) override {
    auto w = t.model.weights;
    std::mt19937 rng(static_cast<uint32_t>(t.seed));
    std::normal_distribution<float> n(0, 0.5f);
    for (auto& tensor : w)
      for (auto& v : tensor.values) v += n(rng);
    return {std::move(w), 6400, {}, t.model.spec.recipe.steps};
  }
};

int main(int argc, char** argv) {
  int rounds = 5;
  std::string dir = "/usr/share/datasets/fashion-mnist";  // Debian's dataset-fashion-mnist
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = std::atoi(argv[++i]);
    else
      dir = argv[i];
  federation::register_aggregator("norm-filter",
                                  [](const federation::AggregatorConfig&, int64_t n, const federation::ServerState&) {
                                    return std::make_unique<NormFilter>(n);
                                  });
  sim::SimulationOptions o;
  o.architecture_json = R"({"input":[28,28,1],"layers":[{"type":"flatten"},{"type":"dense","units":10}]})";
  o.labels = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"};
  o.recipe_json =
      R"({"optimizer":{"name":"adam","learning_rate":0.001},"batch_size":32,"steps":50,"samples_per_round":1600})";
  o.versions = static_cast<uint64_t>(rounds);
  datasets::DataOptions d{{28, 28, 1}, o.labels, {}, {}, {}, 0};
  auto train = std::make_shared<const datasets::Dataset>(datasets::load_dataset("idx:" + dir + "/train", d));
  const auto test = datasets::load_dataset("idx:" + dir + "/t10k", d);
  SystemConfig cfg;
  caf::actor_system system{cfg};
  for (const char* strategy : {"fedavg", "norm-filter"}) {
    o.policy_json = std::string(R"({"aggregator":{"name":")") + strategy + R"("}})";
    sim::Simulation study(system, o);
    for (int p = 0; p < 4; ++p)
      study.add_participant({"org-" + std::to_string(p), std::make_shared<sim::LocalTraining>(train)});
    study.add_participant({"noisy", std::make_shared<Noise>()});
    study.add_evaluation_set("t10k", test);
    const auto results = study.run();
    std::printf("%-12s accuracy after %d rounds: %.4f\n", strategy, rounds, results.back().overall.accuracy);
  }
}
