// train_round and evaluate: learning on real data (Fashion-MNIST), bit-for-bit
// reproducibility, the round's bookkeeping and error messages.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "fashion_mnist.hpp"
#include "model/architecture.hpp"
#include "model/model_spec.hpp"
#include "model/recipe.hpp"
#include "model/trainable_slice.hpp"
#include "training/network.hpp"
#include "training/trainer.hpp"

using namespace fedhub;
using namespace fedhub::training;
using fedhub::training::test::load_fashion_mnist;
using fedhub::training::test::Shape;

namespace {

const char* kMlp =
    R"({"input":[784],"layers":[{"type":"dense","units":64,"activation":"relu"},{"type":"dense","units":10}]})";

const char* kSimpleCnn = R"({"input":[32,32,3],"layers":[
  {"type":"conv2d","filters":32,"kernel_size":3,"activation":"relu"},{"type":"maxpool2d","pool_size":2},
  {"type":"conv2d","filters":64,"kernel_size":3,"activation":"relu"},{"type":"maxpool2d","pool_size":2},
  {"type":"conv2d","filters":64,"kernel_size":3,"activation":"relu"},{"type":"flatten"},
  {"type":"dense","units":64,"activation":"relu"},{"type":"dense","units":20}]})";

// A small CNN with dropout, for the reproducibility checks.
const char* kSmallCnn = R"({"input":[32,32,3],"layers":[
  {"type":"conv2d","filters":8,"kernel_size":3,"strides":2,"padding":"same","activation":"relu"},
  {"type":"maxpool2d","pool_size":2},{"type":"flatten"},{"type":"dropout","rate":0.25},
  {"type":"dense","units":10}]})";

const datasets::Dataset& train_flat() {
  static const auto d = load_fashion_mnist("train", 12000, Shape::flat784);
  return d;
}
const datasets::Dataset& test_flat() {
  static const auto d = load_fashion_mnist("t10k", 2000, Shape::flat784);
  return d;
}
const datasets::Dataset& train_images() {
  static const auto d = load_fashion_mnist("train", 4000, Shape::padded32x3);
  return d;
}
const datasets::Dataset& test_images() {
  static const auto d = load_fashion_mnist("t10k", 1000, Shape::padded32x3);
  return d;
}

Recipe adam_recipe(int64_t steps, int64_t samples) {
  Recipe r;
  r.batch_size = 32;
  r.steps = steps;
  r.samples_per_round = samples;
  return r;
}

bool bitwise_equal(const Weights& a, const Weights& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].values.size() != b[i].values.size() ||
        std::memcmp(a[i].values.data(), b[i].values.data(), a[i].values.size() * sizeof(float)) != 0)
      return false;
  return true;
}

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(train_round_on_data)

BOOST_AUTO_TEST_CASE(mlp_learns_fashion_mnist) {
  const auto arch = parse_architecture(kMlp);
  const auto w0 = initialize_weights(arch, 1);
  const auto before = evaluate(arch, w0, test_flat());
  TrainOptions opt;
  opt.seed = 5;
  opt.threads = 2;
  const auto r = train_round(arch, adam_recipe(400, 0), w0, train_flat(), opt);
  const auto after = evaluate(arch, r.weights, test_flat());
  BOOST_TEST_MESSAGE("MLP: held-out accuracy " << before.accuracy << " -> " << after.accuracy << ", loss "
                                               << before.loss << " -> " << after.loss);
  BOOST_TEST(r.samples == 12000);  // 400 steps x 32 = 12,800 > 12,000: every sample was seen
  BOOST_TEST(after.accuracy > 0.75);
  BOOST_TEST(after.loss < 0.8);
  BOOST_TEST(after.loss < before.loss - 1.0);
  BOOST_TEST(r.accuracy > 0.6);  // training accuracy over the round (starts from chance)
}

BOOST_AUTO_TEST_CASE(simple_cnn_learns_fashion_mnist) {
  // The paper's model (20 outputs) on 4,000 real images; labels use outputs 0..9.
  const auto arch = parse_architecture(kSimpleCnn);
  const auto w0 = initialize_weights(arch, 2);
  const auto before = evaluate(arch, w0, test_images());
  BOOST_TEST(std::abs(before.loss - std::log(20.0)) < 0.5);  // untrained: about chance

  TrainOptions opt;
  opt.seed = 11;
  opt.threads = 2;
  std::vector<double> running;
  opt.progress = [&](int64_t, int64_t, double loss) { running.push_back(loss); };
  const auto r = train_round(arch, adam_recipe(150, 0), w0, train_images(), opt);
  const auto after = evaluate(arch, r.weights, test_images());
  BOOST_TEST_MESSAGE("SIMPLE-CNN: held-out accuracy " << before.accuracy << " -> " << after.accuracy << ", loss "
                                                      << before.loss << " -> " << after.loss);
  BOOST_TEST(after.accuracy > 0.65);  // chance is 0.1
  BOOST_TEST(after.loss < before.loss - 1.5);
  BOOST_REQUIRE(running.size() == 15u);
  BOOST_TEST(running.back() < running.front());

  // Per-class results: classes 10..19 have no samples.
  BOOST_REQUIRE(after.per_class_count.size() == 20u);
  int64_t total = 0;
  for (int c = 0; c < 20; ++c) {
    total += after.per_class_count[c];
    BOOST_TEST(std::isnan(after.per_class_accuracy[c]) == (c >= 10));
  }
  BOOST_TEST(total == 1000);
}

BOOST_AUTO_TEST_CASE(frozen_layers_keep_their_weights_and_the_rest_learns) {
  // Issue 13, item 5: the convolutions frozen (one by the architecture, the
  // others by the recipe's freeze), the head trained; weight decay must not
  // touch the frozen tensors either.
  std::string json = kSimpleCnn;
  json.replace(json.find(R"({"type":"conv2d","filters":32,)"), 30,
               R"({"type":"conv2d","filters":32,"trainable":false,)");
  Recipe recipe = adam_recipe(100, 0);
  recipe.optimizer.weight_decay = 0.01;
  recipe.freeze = {"conv2d_1", "conv2d_2"};
  const auto spec = make_model_spec("ft", json, std::vector<std::string>(20, "x"), recipe.to_json());
  const auto& arch = spec.architecture;
  const auto w0 = initialize_weights(arch, 3);
  TrainOptions opt;
  opt.seed = 4;
  opt.threads = 2;
  const auto r = train_round(arch, spec.recipe, w0, train_images(), opt);
  BOOST_REQUIRE(r.weights.size() == w0.size());
  for (size_t i = 0; i < w0.size(); ++i) {
    const bool frozen = w0[i].name.rfind("conv2d", 0) == 0;
    const bool same =
        std::memcmp(w0[i].values.data(), r.weights[i].values.data(), w0[i].values.size() * sizeof(float)) == 0;
    BOOST_TEST(same == frozen, w0[i].name << (frozen ? " changed although frozen" : " did not train"));
  }
  const auto before = evaluate(arch, w0, test_images());
  const auto after = evaluate(arch, r.weights, test_images());
  BOOST_TEST_MESSAGE("SIMPLE-CNN, random convolutions frozen: held-out accuracy " << before.accuracy << " -> "
                                                                                  << after.accuracy);
  BOOST_TEST(after.accuracy > before.accuracy + 0.2);               // the head learns on frozen random features
  BOOST_TEST(TrainableSlice(arch).select(r.weights).size() == 4u);  // what the contribution carries
}

BOOST_AUTO_TEST_CASE(seeded_runs_are_bit_for_bit_reproducible) {
  const auto arch = parse_architecture(kSmallCnn);
  const auto w0 = initialize_weights(arch, 3);
  auto run = [&](uint64_t seed, int threads) {
    TrainOptions opt;
    opt.seed = seed;
    opt.threads = threads;
    return train_round(arch, adam_recipe(30, 640), w0, train_images(), opt);
  };
  const auto a = run(7, 2), b = run(7, 2), c = run(8, 2);
  BOOST_TEST(bitwise_equal(a.weights, b.weights));
  BOOST_TEST(a.loss == b.loss);
  BOOST_TEST(!bitwise_equal(a.weights, c.weights));
  const auto d = run(7, 1), e = run(7, 1);
  BOOST_TEST(bitwise_equal(d.weights, e.weights));
  // Called from inside a parallel region (a smaller team than asked for, e.g.
  // a nested region), each call still runs its two slices and sums them in
  // the same order: the same bits.
  std::vector<Weights> nested(2);
#pragma omp parallel for num_threads(2)
  for (int i = 0; i < 2; ++i) nested[i] = run(7, 2).weights;
  BOOST_TEST(bitwise_equal(nested[0], a.weights));
  BOOST_TEST(bitwise_equal(nested[1], a.weights));
  // One thread and two threads see the same batches and dropout masks; only
  // the order of float additions differs.
  BOOST_TEST(std::abs(a.loss - d.loss) < 1e-3);
}

BOOST_AUTO_TEST_CASE(evaluate_matches_a_direct_forward_pass) {
  const auto arch = parse_architecture(kMlp);
  const auto w = initialize_weights(arch, 4);
  const auto& data = test_flat();
  const auto ev1 = evaluate(arch, w, data, 1);
  const auto ev2 = evaluate(arch, w, data, 2);
  BOOST_TEST(ev1.samples == 2000);
  BOOST_TEST(ev1.accuracy == ev2.accuracy);
  BOOST_TEST(std::abs(ev1.loss - ev2.loss) < 1e-6);

  std::vector<float> p;
  for (const auto& t : w) p.insert(p.end(), t.values.begin(), t.values.end());
  Network<float> net(arch);
  net.reserve(1);
  double loss = 0;
  int64_t correct = 0;
  std::vector<float> x(784);
  for (int64_t i = 0; i < data.size(); ++i) {
    for (int j = 0; j < 784; ++j) x[j] = data.pixels[i * 784 + j] / 255.0f;
    const float* z = net.forward(p.data(), x.data(), 1, {});
    double m = z[0], s = 0;
    int best = 0;
    for (int c = 1; c < 10; ++c)
      if (z[c] > z[best]) best = c;
    m = z[best];
    for (int c = 0; c < 10; ++c) s += std::exp(z[c] - m);
    loss += std::log(s) + m - z[data.labels[i]];
    correct += best == data.labels[i];
  }
  BOOST_TEST(std::abs(ev1.loss - loss / 2000) < 1e-5);
  BOOST_TEST(ev1.accuracy == static_cast<double>(correct) / 2000);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(train_round_bookkeeping)

// 40 samples of 6 values with labels 0..2.
datasets::Dataset tiny_data(int64_t n = 40) {
  datasets::Dataset d;
  d.sample_shape = {6};
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < 6; ++j) d.pixels.push_back(static_cast<uint8_t>((i * 37 + j * 11) % 256));
    d.labels.push_back(static_cast<int32_t>(i % 3));
  }
  return d;
}
const char* kTiny = R"({"input":[6],"layers":[{"type":"dense","units":3}]})";

BOOST_AUTO_TEST_CASE(samples_steps_and_progress) {
  const auto arch = parse_architecture(kTiny);
  const auto w0 = initialize_weights(arch, 1);
  const auto data = tiny_data();
  Recipe r;
  r.batch_size = 8;
  r.samples_per_round = 16;
  r.steps = 1;
  BOOST_TEST(train_round(arch, r, w0, data, {}).samples == 8);
  r.steps = 2;
  BOOST_TEST(train_round(arch, r, w0, data, {}).samples == 16);
  r.steps = 25;  // more passes over the same 16 samples
  std::vector<int64_t> calls;
  TrainOptions opt;
  opt.progress = [&](int64_t step, int64_t steps, double loss) {
    BOOST_TEST(steps == 25);
    BOOST_TEST(std::isfinite(loss));
    calls.push_back(step);
  };
  BOOST_TEST(train_round(arch, r, w0, data, opt).samples == 16);
  BOOST_TEST((calls == std::vector<int64_t>{10, 20, 25}));
  r.samples_per_round = 0;  // all data: 40 samples
  r.steps = 5;
  BOOST_TEST(train_round(arch, r, w0, data, {}).samples == 40);
  r.batch_size = 100;  // larger than the data: one batch of everything
  r.steps = 1;
  BOOST_TEST(train_round(arch, r, w0, data, {}).samples == 40);
}

BOOST_AUTO_TEST_CASE(zero_steps_returns_the_start) {
  const auto arch = parse_architecture(kTiny);
  const auto w0 = initialize_weights(arch, 1);
  Recipe r;
  r.steps = 0;
  const auto res = train_round(arch, r, w0, tiny_data(), {});
  BOOST_TEST(bitwise_equal(res.weights, w0));
  BOOST_TEST(res.samples == 0);
}

BOOST_AUTO_TEST_CASE(sgd_recipe_trains) {
  const auto arch = parse_architecture(kTiny);
  Recipe r = parse_recipe(R"({"optimizer":{"name":"sgd","learning_rate":0.5,"momentum":0.9,"nesterov":true},
                              "batch_size":8,"steps":50,"samples_per_round":0})");
  const auto w0 = initialize_weights(arch, 1);
  const auto before = evaluate(arch, w0, tiny_data());
  const auto res = train_round(arch, r, w0, tiny_data(), {});
  BOOST_TEST(evaluate(arch, res.weights, tiny_data()).loss < before.loss);
}

BOOST_AUTO_TEST_CASE(errors_name_the_problem) {
  const auto arch = parse_architecture(kTiny);
  const auto w0 = initialize_weights(arch, 1);
  const auto data = tiny_data();
  Recipe r;

  auto renamed = w0;
  renamed[0].name = "dense/weights";
  BOOST_TEST(error_of([&] { train_round(arch, r, renamed, data, {}); }).find("dense/weights") != std::string::npos);
  auto nan = w0;
  nan[1].values[0] = std::nanf("");
  BOOST_TEST(error_of([&] { evaluate(arch, nan, data); }).find("dense/bias") != std::string::npos);

  auto wrong_shape = data;
  wrong_shape.sample_shape = {2, 3, 1};
  BOOST_TEST(error_of([&] { train_round(arch, r, w0, wrong_shape, {}); }).find("[2,3,1]") != std::string::npos);
  auto bad_label = data;
  bad_label.labels[5] = 3;
  BOOST_TEST(error_of([&] { evaluate(arch, w0, bad_label); }).find("sample 5") != std::string::npos);
  auto short_pixels = data;
  short_pixels.pixels.pop_back();
  BOOST_TEST(error_of([&] { evaluate(arch, w0, short_pixels); }).find("pixel") != std::string::npos);

  datasets::Dataset empty;
  empty.sample_shape = {6};
  BOOST_TEST(error_of([&] { train_round(arch, r, w0, empty, {}); }).find("no samples") != std::string::npos);
  BOOST_TEST(evaluate(arch, w0, empty).samples == 0);

  Recipe zero_batch;
  zero_batch.batch_size = 0;
  BOOST_TEST(error_of([&] { train_round(arch, zero_batch, w0, data, {}); }).find("batch_size") != std::string::npos);
  TrainOptions negative_threads;
  negative_threads.threads = -1;
  BOOST_TEST(error_of([&] { train_round(arch, r, w0, data, negative_threads); }).find("threads") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(weight_initialization)

BOOST_AUTO_TEST_CASE(glorot_uniform_kernels_and_zero_biases) {
  const auto arch = parse_architecture(kSimpleCnn);
  const auto a = initialize_weights(arch, 9), b = initialize_weights(arch, 9), c = initialize_weights(arch, 10);
  BOOST_TEST(bitwise_equal(a, b));
  BOOST_TEST(!bitwise_equal(a, c));
  BOOST_TEST(check_weights(a, arch.parameters()).empty());
  for (const auto& t : a) {
    if (t.shape.size() == 1) {
      BOOST_TEST(std::all_of(t.values.begin(), t.values.end(), [](float v) { return v == 0.0f; }), t.name);
      continue;
    }
    // conv [kh, kw, in, out]: fan_in = kh*kw*in, fan_out = kh*kw*out; dense [in, out].
    const double receptive = t.shape.size() == 4 ? static_cast<double>(t.shape[0] * t.shape[1]) : 1.0;
    const double limit = std::sqrt(6.0 / (receptive * (t.shape[t.shape.size() - 2] + t.shape.back())));
    double sum = 0, sq = 0, max = 0;
    for (float v : t.values) {
      sum += v;
      sq += double(v) * v;
      max = std::max(max, std::abs(double(v)));
    }
    const double n = static_cast<double>(t.values.size());
    BOOST_TEST(max <= limit, t.name);
    BOOST_TEST(max > 0.95 * limit, t.name);
    // U(-l, l): mean 0, variance l^2 / 3.
    BOOST_TEST(std::abs(sum / n) < 4 * limit / std::sqrt(3 * n), t.name);
    BOOST_TEST(std::abs(sq / n / (limit * limit / 3) - 1) < 0.1, t.name);
  }
  // The first conv kernel [3,3,3,32]: limit sqrt(6 / (27 + 288)).
  BOOST_TEST(std::sqrt(6.0 / (27 + 288)) == 0.138013, boost::test_tools::tolerance(1e-5));
}

BOOST_AUTO_TEST_SUITE_END()
