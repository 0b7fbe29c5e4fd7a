// Optimizer steps against values computed by hand from Keras' update rules.
#include "training/optimizers/optimizer.hpp"

#include <boost/test/unit_test.hpp>
#include <vector>

using namespace fedhub;
using namespace fedhub::training;
namespace tt = boost::test_tools;

namespace {

OptimizerConfig sgd(double lr, double momentum, bool nesterov, double wd = 0) {
  OptimizerConfig c;
  c.name = "sgd";
  c.learning_rate = lr;
  c.momentum = momentum;
  c.nesterov = nesterov;
  c.weight_decay = wd;
  return c;
}

// Two steps on one parameter with gradients g1 then g2; returns w after each.
std::vector<float> two_steps(const OptimizerConfig& c, float w0, float g1, float g2) {
  auto opt = make_optimizer(c, 1);
  std::vector<float> w{w0}, out;
  for (float g : {g1, g2}) {
    std::vector<float> grad{g};
    opt->step(w, grad);
    out.push_back(w[0]);
  }
  BOOST_TEST(opt->iterations() == 2);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(optimizers)

BOOST_AUTO_TEST_CASE(plain_sgd) {
  // w = 1 - 0.1 * 0.5 = 0.95; then 0.95 - 0.1 * (-0.25) = 0.975
  auto w = two_steps(sgd(0.1, 0, false), 1.0f, 0.5f, -0.25f);
  BOOST_TEST(w[0] == 0.95f, tt::tolerance(1e-6f));
  BOOST_TEST(w[1] == 0.975f, tt::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(sgd_momentum) {
  // v1 = 0.9*0 - 0.1*0.5 = -0.05, w1 = 1 - 0.05 = 0.95
  // v2 = 0.9*(-0.05) - 0.1*0.5 = -0.095, w2 = 0.95 - 0.095 = 0.855
  auto w = two_steps(sgd(0.1, 0.9, false), 1.0f, 0.5f, 0.5f);
  BOOST_TEST(w[0] == 0.95f, tt::tolerance(1e-6f));
  BOOST_TEST(w[1] == 0.855f, tt::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(sgd_nesterov) {
  // v1 = -0.05, w1 = 1 + 0.9*(-0.05) - 0.05 = 0.905
  // v2 = -0.095, w2 = 0.905 + 0.9*(-0.095) - 0.05 = 0.7695
  auto w = two_steps(sgd(0.1, 0.9, true), 1.0f, 0.5f, 0.5f);
  BOOST_TEST(w[0] == 0.905f, tt::tolerance(1e-6f));
  BOOST_TEST(w[1] == 0.7695f, tt::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(sgd_decoupled_weight_decay) {
  // w = 2 - 0.1*0.5*2 = 1.9 (decay), then 1.9 - 0.1*0.5 = 1.85; the velocity never sees the decay.
  // step 2: 1.85 - 0.1*0.5*1.85 = 1.7575, then -0.1*0.5 = 1.7075
  auto w = two_steps(sgd(0.1, 0, false, 0.5), 2.0f, 0.5f, 0.5f);
  BOOST_TEST(w[0] == 1.85f, tt::tolerance(1e-6f));
  BOOST_TEST(w[1] == 1.7075f, tt::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(adam_one_and_two_steps) {
  // Keras Adam, lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7, w0 = 0:
  // step 1 (g = 0.5): m = 0.05, v = 0.00025, alpha = 1e-3*sqrt(0.001)/0.1 = 3.16227766e-4,
  //   w = -alpha * 0.05 / (sqrt(0.00025) + 1e-7) = -9.999936754846795e-4
  // step 2 (g = -0.25): m = 0.02, v = 3.1225e-4, alpha = 1e-3*sqrt(1-0.999^2)/(1-0.9^2) = 2.35317e-4,
  //   w = w1 - alpha * 0.02 / (sqrt(3.1225e-4) + 1e-7) = -1.2663292079207814e-3
  auto w = two_steps(OptimizerConfig{}, 0.0f, 0.5f, -0.25f);
  BOOST_TEST(w[0] == -9.999936754846795e-4f, tt::tolerance(1e-5f));
  BOOST_TEST(w[1] == -1.2663292079207814e-3f, tt::tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(adam_epsilon_is_keras_epsilon_hat) {
  // With gradients of 1e-7 the placement of epsilon dominates: Keras (epsilon added
  // to sqrt(v) before bias correction) gives -3.0653e-5 then -7.3450e-5; PyTorch's
  // placement (epsilon added to sqrt(v_hat)) would give about -5e-4 then -1e-3.
  auto w = two_steps(OptimizerConfig{}, 0.0f, 1e-7f, 1e-7f);
  BOOST_TEST(w[0] == -3.065343003171552e-05f, tt::tolerance(1e-4f));
  BOOST_TEST(w[1] == -7.345015850414794e-05f, tt::tolerance(1e-4f));
}

BOOST_AUTO_TEST_CASE(adam_decoupled_weight_decay) {
  // lr 0.01, weight_decay 0.1, w0 = 2: w -= 0.01*0.1*w before each Adam update.
  OptimizerConfig c;
  c.learning_rate = 0.01;
  c.weight_decay = 0.1;
  auto w = two_steps(c, 2.0f, 0.5f, -0.25f);
  BOOST_TEST(w[0] == 1.988000063245153f, tt::tolerance(1e-6f));
  BOOST_TEST(w[1] == 1.983348707857547f, tt::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(ranges_applied_separately_equal_one_step) {
  std::vector<float> w1(100), w2(100), g(100);
  for (int i = 0; i < 100; ++i) {
    w1[i] = w2[i] = 0.01f * static_cast<float>(i);
    g[i] = 0.5f - 0.013f * static_cast<float>(i);
  }
  auto a = make_optimizer(OptimizerConfig{}, 100), b = make_optimizer(OptimizerConfig{}, 100);
  for (int step = 0; step < 3; ++step) {
    a->step(w1, g);
    b->begin_step();
    b->apply(w2.data(), g.data(), 37, 100);
    b->apply(w2.data(), g.data(), 0, 37);
  }
  BOOST_TEST(w1 == w2, tt::per_element());
}

BOOST_AUTO_TEST_CASE(invalid_configurations_name_the_field) {
  auto message = [](const OptimizerConfig& c) {
    try {
      make_optimizer(c, 1);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  OptimizerConfig c;
  c.name = "rmsprop";
  BOOST_TEST(message(c).find("rmsprop") != std::string::npos);
  c = OptimizerConfig{};
  c.learning_rate = 0;
  BOOST_TEST(message(c).find("learning_rate") != std::string::npos);
  c = sgd(0.1, 1.0, false);
  BOOST_TEST(message(c).find("momentum") != std::string::npos);
  c = OptimizerConfig{};
  c.beta2 = 1.5;
  BOOST_TEST(message(c).find("beta2") != std::string::npos);
  auto opt = make_optimizer(OptimizerConfig{}, 3);
  std::vector<float> w(2), g(2);
  BOOST_CHECK_THROW(opt->step(w, g), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
