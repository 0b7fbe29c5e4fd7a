// End-to-end gradient check of a whole network (conv, pool, dropout, dense,
// softmax cross-entropy) in double precision, and float/double agreement.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <vector>

#include "gradient_check.hpp"
#include "model/architecture.hpp"
#include "training/loss.hpp"
#include "training/network.hpp"
#include "training/trainer.hpp"

using namespace fedhub;
using namespace fedhub::training;
using namespace fedhub::training::test;

namespace {

const char* kSmallCnn = R"({"input":[8,7,2],"layers":[
  {"type":"conv2d","filters":3,"kernel_size":3,"padding":"same","activation":"relu"},
  {"type":"maxpool2d","pool_size":2},
  {"type":"conv2d","filters":4,"kernel_size":2,"strides":[1,2]},
  {"type":"relu"},
  {"type":"flatten"},
  {"type":"dropout","rate":0.3},
  {"type":"dense","units":6,"activation":"relu"},
  {"type":"dense","units":3,"activation":"softmax"}]})";

}  // namespace

BOOST_AUTO_TEST_SUITE(network_gradients)

BOOST_AUTO_TEST_CASE(whole_network_finite_differences) {
  const auto arch = parse_architecture(kSmallCnn);
  Network<double> net(arch);
  const int64_t batch = 3;
  net.reserve(batch);
  BOOST_TEST(net.parameter_count() == parameter_count(zeros_like(arch.parameters())));

  Random rng(77);
  auto x = random_vector(static_cast<size_t>(batch * net.input_size()), rng, 0, 1);
  auto p = random_vector(static_cast<size_t>(net.parameter_count()), rng, -0.6, 0.6);
  std::vector<int32_t> labels{0, 2, 1};
  const PassContext ctx{true, 4242, 0};  // dropout active with a fixed mask

  auto loss = [&] {
    const double* z = net.forward(p.data(), x.data(), batch, ctx);
    return softmax_cross_entropy<double>(z, labels.data(), batch, 3, nullptr, 1).loss_sum / batch;
  };
  const double* z = net.forward(p.data(), x.data(), batch, ctx);
  std::vector<double> dz(static_cast<size_t>(batch * 3)), grads(p.size());
  softmax_cross_entropy(z, labels.data(), batch, 3, dz.data(), batch);
  const double* dx = net.backward(p.data(), dz.data(), grads.data(), true);
  const std::vector<double> dx_copy(dx, dx + x.size());

  auto ep = check_gradient(loss, p, grads);
  BOOST_TEST(ep.worst < 1e-6, "parameters: " << describe(ep));
  auto ex = check_gradient(loss, x, dx_copy);
  BOOST_TEST(ex.worst < 1e-6, "input: " << describe(ex));
  // The gradient is not trivially zero.
  double norm = 0;
  for (double g : grads) norm += g * g;
  BOOST_TEST(norm > 1e-4);
}

BOOST_AUTO_TEST_CASE(float_network_agrees_with_double) {
  const auto arch = parse_architecture(kSmallCnn);
  const auto w = initialize_weights(arch, 3);
  std::vector<float> pf;
  for (const auto& t : w) pf.insert(pf.end(), t.values.begin(), t.values.end());
  std::vector<double> pd(pf.begin(), pf.end());
  Network<float> nf(arch);
  Network<double> nd(arch);
  nf.reserve(2);
  nd.reserve(2);
  Random rng(8);
  auto xd = random_vector(static_cast<size_t>(2 * nd.input_size()), rng, 0, 1);
  std::vector<float> xf(xd.begin(), xd.end());
  const float* zf = nf.forward(pf.data(), xf.data(), 2, {});
  const double* zd = nd.forward(pd.data(), xd.data(), 2, {});
  for (int i = 0; i < 6; ++i) BOOST_TEST(std::abs(zf[i] - zd[i]) < 1e-5);
}

BOOST_AUTO_TEST_CASE(backward_without_forward_is_an_error) {
  Network<float> net(parse_architecture(kSmallCnn));
  net.reserve(1);
  std::vector<float> p(static_cast<size_t>(net.parameter_count())), d(3), g(p.size());
  BOOST_CHECK_THROW(net.backward(p.data(), d.data(), g.data()), std::logic_error);
}

BOOST_AUTO_TEST_SUITE_END()
