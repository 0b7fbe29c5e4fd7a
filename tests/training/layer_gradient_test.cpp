// Finite-difference checks of every layer's backward pass (double precision).
#include <boost/test/unit_test.hpp>

#include "gradient_check.hpp"
#include "model/architecture.hpp"
#include "training/layers/conv2d.hpp"
#include "training/layers/dropout.hpp"
#include "training/layers/make_layer.hpp"

using namespace fedhub;
using namespace fedhub::training;
using namespace fedhub::training::test;

namespace {

constexpr double kTolerance = 1e-6;

// The single layer of an architecture whose input is `input` (parsed so that
// shapes and names are filled in as in a real model).
Layer one_layer(const std::string& input, const std::string& layer_json) {
  auto arch = parse_architecture(R"({"input":)" + input + R"(,"layers":[)" + layer_json + R"(,{"type":"flatten"}]})");
  return arch.layers.at(0);
}

struct LayerCheck {
  GradientError input, params;
};

// f(x, p) = sum(r * layer(x, p)) with random r, so d f / d output = r.
LayerCheck check_layer(const Layer& spec, int64_t batch, uint64_t seed, const PassContext& ctx = {},
                       std::vector<double> x = {}) {
  auto layer = make_layer<double>(spec, 0);
  layer->reserve(batch);
  Random rng(seed);
  if (x.empty()) x = random_vector(static_cast<size_t>(batch * layer->input_size()), rng);
  auto p = random_vector(static_cast<size_t>(layer->parameter_count()), rng, -0.5, 0.5);
  const auto r = random_vector(static_cast<size_t>(batch * layer->output_size()), rng);

  auto f = [&] {
    const double* y = layer->forward(p.data(), x.data(), batch, ctx);
    double s = 0;
    for (size_t i = 0; i < r.size(); ++i) s += r[i] * y[i];
    return s;
  };
  f();
  std::vector<double> dout = r, grads(p.size());
  const double* dx = layer->backward(p.data(), x.data(), dout.data(), grads.data(), true);
  BOOST_REQUIRE(dx != nullptr);
  const std::vector<double> dx_copy(dx, dx + x.size());
  LayerCheck c;
  c.input = check_gradient(f, x, dx_copy);
  c.params = check_gradient(f, p, grads);
  return c;
}

void require_exact(const LayerCheck& c) {
  BOOST_TEST(c.input.worst < kTolerance, "input gradient: " << describe(c.input));
  BOOST_TEST(c.params.worst < kTolerance, "parameter gradient: " << describe(c.params));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(layer_gradients)

BOOST_AUTO_TEST_CASE(checker_detects_a_one_percent_error) {
  // f(x) = sum x_i^2 / 2: gradient x. A gradient off by 1% in one coordinate must fail.
  Random rng(3);
  auto x = random_vector(20, rng);
  auto f = [&] {
    double s = 0;
    for (double v : x) s += v * v / 2;
    return s;
  };
  auto good = x;
  BOOST_TEST(check_gradient(f, x, good).worst < kTolerance);
  auto bad = x;
  bad[7] *= 1.01;
  BOOST_TEST(check_gradient(f, x, bad).worst > 100 * kTolerance);
}

BOOST_AUTO_TEST_CASE(dense_linear) {
  require_exact(check_layer(one_layer("[7]", R"({"type":"dense","units":5})"), 3, 11));
}

BOOST_AUTO_TEST_CASE(dense_relu) {
  require_exact(check_layer(one_layer("[9]", R"({"type":"dense","units":6,"activation":"relu"})"), 4, 12));
}

BOOST_AUTO_TEST_CASE(dense_without_bias) {
  auto spec = one_layer("[5]", R"({"type":"dense","units":3,"use_bias":false})");
  BOOST_TEST(make_layer<double>(spec, 0)->parameter_count() == 15);
  require_exact(check_layer(spec, 2, 13));
}

BOOST_AUTO_TEST_CASE(conv2d_valid) {
  require_exact(check_layer(one_layer("[6,5,3]", R"({"type":"conv2d","filters":4,"kernel_size":3})"), 2, 21));
}

BOOST_AUTO_TEST_CASE(conv2d_valid_relu_rectangular_kernel) {
  require_exact(check_layer(
      one_layer("[6,7,2]", R"({"type":"conv2d","filters":3,"kernel_size":[2,3],"activation":"relu"})"), 2, 22));
}

BOOST_AUTO_TEST_CASE(conv2d_same) {
  auto spec = one_layer("[5,6,2]", R"({"type":"conv2d","filters":3,"kernel_size":3,"padding":"same"})");
  BOOST_TEST((spec.output_shape == std::vector<int64_t>{5, 6, 3}));
  require_exact(check_layer(spec, 2, 23));
}

BOOST_AUTO_TEST_CASE(conv2d_same_even_kernel) {
  // An even kernel pads unevenly (TensorFlow: the extra row/column at the bottom/right).
  require_exact(
      check_layer(one_layer("[5,5,2]", R"({"type":"conv2d","filters":2,"kernel_size":4,"padding":"same"})"), 2, 24));
}

BOOST_AUTO_TEST_CASE(conv2d_strided_valid) {
  auto spec = one_layer("[7,8,2]", R"({"type":"conv2d","filters":3,"kernel_size":3,"strides":2})");
  BOOST_TEST((spec.output_shape == std::vector<int64_t>{3, 3, 3}));
  require_exact(check_layer(spec, 2, 25));
}

BOOST_AUTO_TEST_CASE(conv2d_strided_same) {
  auto spec = one_layer(
      "[7,8,2]",
      R"({"type":"conv2d","filters":3,"kernel_size":3,"strides":[2,3],"padding":"same","activation":"relu"})");
  BOOST_TEST((spec.output_shape == std::vector<int64_t>{4, 3, 3}));
  require_exact(check_layer(spec, 2, 26));
}

BOOST_AUTO_TEST_CASE(conv2d_matches_a_direct_convolution) {
  // Pins the kernel layout [kh, kw, in_c, out_c] and the padding offsets against a naive loop.
  auto spec =
      one_layer("[5,4,2]", R"({"type":"conv2d","filters":3,"kernel_size":[3,2],"strides":[2,1],"padding":"same"})");
  Conv2dLayer<double> conv(spec);
  conv.reserve(1);
  Random rng(27);
  auto x = random_vector(5 * 4 * 2, rng);
  auto p = random_vector(static_cast<size_t>(conv.parameter_count()), rng);
  const double* y = conv.forward(p.data(), x.data(), 1, {});
  const auto& g = conv.geometry();
  BOOST_TEST(g.pad_top == 1);   // out 3: (3-1)*2 + 3 - 5 = 2 -> 1 top, 1 bottom
  BOOST_TEST(g.pad_left == 0);  // out 4: 3*1 + 2 - 4 = 1 -> 0 left, 1 right
  for (int64_t oy = 0; oy < 3; ++oy)
    for (int64_t ox = 0; ox < 4; ++ox)
      for (int64_t f = 0; f < 3; ++f) {
        double s = p[3 * 2 * 2 * 3 + f];  // bias
        for (int64_t ky = 0; ky < 3; ++ky)
          for (int64_t kx = 0; kx < 2; ++kx)
            for (int64_t c = 0; c < 2; ++c) {
              const int64_t iy = oy * 2 - 1 + ky, ix = ox + kx;
              if (iy < 0 || iy >= 5 || ix < 0 || ix >= 4) continue;
              s += x[(iy * 4 + ix) * 2 + c] * p[((ky * 2 + kx) * 2 + c) * 3 + f];
            }
        BOOST_TEST(y[(oy * 4 + ox) * 3 + f] == s, boost::test_tools::tolerance(1e-12));
      }
}

// Inputs with distinct values (gaps of 1e-2) so that no window has a near tie.
std::vector<double> distinct_values(size_t n, uint64_t seed) {
  Random rng(seed);
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<double>(i) * 1e-2 - static_cast<double>(n) * 5e-3;
  rng.shuffle(std::span<double>(v));
  return v;
}

BOOST_AUTO_TEST_CASE(maxpool_2x2) {
  auto spec = one_layer("[6,6,3]", R"({"type":"maxpool2d","pool_size":2})");
  require_exact(check_layer(spec, 2, 31, {}, distinct_values(2 * 6 * 6 * 3, 31)));
}

BOOST_AUTO_TEST_CASE(maxpool_odd_input_drops_the_border) {
  auto spec = one_layer("[7,5,2]", R"({"type":"maxpool2d","pool_size":2})");
  BOOST_TEST((spec.output_shape == std::vector<int64_t>{3, 2, 2}));
  require_exact(check_layer(spec, 2, 32, {}, distinct_values(2 * 7 * 5 * 2, 32)));
}

BOOST_AUTO_TEST_CASE(maxpool_overlapping_windows) {
  auto spec = one_layer("[7,7,2]", R"({"type":"maxpool2d","pool_size":3,"strides":2})");
  BOOST_TEST((spec.output_shape == std::vector<int64_t>{3, 3, 2}));
  require_exact(check_layer(spec, 2, 33, {}, distinct_values(2 * 7 * 7 * 2, 33)));
}

BOOST_AUTO_TEST_CASE(maxpool_forward_values) {
  auto spec = one_layer("[2,2,1]", R"({"type":"maxpool2d","pool_size":2})");
  auto pool = make_layer<double>(spec, 0);
  pool->reserve(1);
  std::vector<double> x{1, 4, 3, 2};
  BOOST_TEST(pool->forward(nullptr, x.data(), 1, {})[0] == 4.0);
}

BOOST_AUTO_TEST_CASE(relu_layer) {
  // Keep inputs away from 0, the kink.
  Random rng(41);
  std::vector<double> x(3 * 10);
  for (auto& v : x) v = (rng.uniform() < 0.5 ? -1 : 1) * rng.uniform(0.05, 1.0);
  require_exact(check_layer(one_layer("[10]", R"({"type":"relu"})"), 3, 41, {}, x));
}

BOOST_AUTO_TEST_CASE(flatten_layer) {
  auto spec = one_layer("[3,2,2]", R"({"type":"flatten"})");
  BOOST_TEST((spec.output_shape == std::vector<int64_t>{12}));
  require_exact(check_layer(spec, 2, 51));
}

BOOST_AUTO_TEST_CASE(dropout_with_a_fixed_mask) {
  auto spec = one_layer("[40]", R"({"type":"dropout","rate":0.4})");
  PassContext ctx{true, 1234, 0};
  require_exact(check_layer(spec, 3, 61, ctx));
}

BOOST_AUTO_TEST_CASE(dropout_mask_statistics_and_determinism) {
  const int64_t size = 1000, batch = 8;
  DropoutLayer<double> drop(one_layer("[1000]", R"({"type":"dropout","rate":0.25})"), 3);
  drop.reserve(batch);
  std::vector<double> x(batch * size, 1.0);
  PassContext ctx{true, 99, 0};
  const double* y = drop.forward(nullptr, x.data(), batch, ctx);
  std::vector<double> first(y, y + x.size());
  int64_t kept = 0;
  for (double v : first) {
    BOOST_TEST((v == 0.0 || std::abs(v - 1.0 / 0.75) < 1e-15));
    kept += v != 0.0;
  }
  // 8000 Bernoulli(0.75) draws: mean 6000, sd ~39.
  BOOST_TEST(std::abs(kept - 6000) < 200);

  // Same seed: same mask. Another seed: another mask.
  y = drop.forward(nullptr, x.data(), batch, ctx);
  BOOST_TEST(std::equal(first.begin(), first.end(), y));
  y = drop.forward(nullptr, x.data(), batch, PassContext{true, 100, 0});
  BOOST_TEST(!std::equal(first.begin(), first.end(), y));

  // A slice of the batch with its first_sample offset sees the same masks
  // (independent of how a step is split across threads).
  y = drop.forward(nullptr, x.data(), 3, PassContext{true, 99, 5});
  BOOST_TEST(std::equal(y, y + 3 * size, first.begin() + 5 * size));

  // Inference: identity.
  y = drop.forward(nullptr, x.data(), batch, PassContext{});
  BOOST_TEST(std::all_of(y, y + x.size(), [](double v) { return v == 1.0; }));
}

BOOST_AUTO_TEST_CASE(batch_larger_than_reserved_is_an_error) {
  auto layer = make_layer<float>(one_layer("[4]", R"({"type":"dense","units":2})"), 0);
  layer->reserve(2);
  std::vector<float> p(10), x(12);
  BOOST_CHECK_THROW(layer->forward(p.data(), x.data(), 3, {}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
