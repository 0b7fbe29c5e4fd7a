// Softmax cross-entropy: values, stability and a finite-difference check.
#include "training/loss.hpp"

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <vector>

#include "gradient_check.hpp"

using namespace fedhub::training;
using namespace fedhub::training::test;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_SUITE(softmax_cross_entropy_loss)

BOOST_AUTO_TEST_CASE(values_and_gradient_by_hand) {
  // logits (1, 2, 3): log-sum-exp = 3.40760596444438, softmax = (0.0900306, 0.2447285, 0.6652410)
  std::vector<double> z{1, 2, 3, 1, 2, 3};
  std::vector<int32_t> labels{2, 0};
  std::vector<double> d(6);
  auto s = softmax_cross_entropy(z.data(), labels.data(), 2, 3, d.data(), 2.0);
  BOOST_TEST(s.loss_sum == 0.40760596444438013 + 2.40760596444438, tt::tolerance(1e-14));
  BOOST_TEST(s.correct == 1);
  BOOST_TEST(d[0] == 0.09003057317038048 / 2, tt::tolerance(1e-14));
  BOOST_TEST(d[2] == (0.665240955774822 - 1) / 2, tt::tolerance(1e-14));
  BOOST_TEST(d[3] == (0.09003057317038048 - 1) / 2, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(stable_for_huge_logits) {
  std::vector<float> z{1000.0f, 0.0f, -1000.0f};
  std::vector<float> d(3);
  int32_t label = 1;
  auto s = softmax_cross_entropy(z.data(), &label, 1, 3, d.data(), 1.0);
  BOOST_TEST(s.loss_sum == 1000.0, tt::tolerance(1e-9));
  BOOST_TEST(d[0] == 1.0f, tt::tolerance(1e-6f));
  BOOST_TEST(d[1] == -1.0f, tt::tolerance(1e-6f));
  BOOST_TEST(std::isfinite(d[2]));
  label = 0;
  s = softmax_cross_entropy(z.data(), &label, 1, 3, d.data(), 1.0);
  BOOST_TEST(s.loss_sum == 0.0, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(finite_differences) {
  Random rng(5);
  const int64_t rows = 4, classes = 7;
  auto z = random_vector(rows * classes, rng, -3, 3);
  std::vector<int32_t> labels{0, 6, 3, 3};
  std::vector<double> d(z.size());
  softmax_cross_entropy(z.data(), labels.data(), rows, classes, d.data(), rows);
  auto f = [&] {
    return softmax_cross_entropy<double>(z.data(), labels.data(), rows, classes, nullptr, 1).loss_sum / rows;
  };
  auto e = check_gradient(f, z, d, 1e-5);
  BOOST_TEST(e.worst < 1e-7, describe(e));
}

BOOST_AUTO_TEST_CASE(label_out_of_range) {
  std::vector<float> z(3);
  int32_t label = 3;
  BOOST_CHECK_THROW(softmax_cross_entropy<float>(z.data(), &label, 1, 3, nullptr, 1.0), std::out_of_range);
}

BOOST_AUTO_TEST_SUITE_END()
