#include "datasets/dataset.hpp"

#include <boost/test/unit_test.hpp>

using namespace fedhub::datasets;

namespace {

Dataset three() {
  Dataset d;
  d.sample_shape = {2};
  d.pixels = {1, 2, 3, 4, 5, 6};
  d.labels = {2, 0, 2};
  return d;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dataset)

BOOST_AUTO_TEST_CASE(subset_copies_samples_in_the_given_order) {
  const auto d = three();
  BOOST_TEST(d.sample_size() == 2);
  const std::vector<int64_t> idx{2, 0, 2};
  const auto s = subset(d, idx);
  BOOST_TEST((s.sample_shape == std::vector<int64_t>{2}));
  BOOST_TEST((s.labels == std::vector<int32_t>{2, 2, 2}));
  BOOST_TEST((s.pixels == std::vector<uint8_t>{5, 6, 1, 2, 5, 6}));
  BOOST_TEST(subset(d, {}).size() == 0);
  const std::vector<int64_t> bad{0, 3};
  BOOST_CHECK_THROW(subset(d, bad), std::runtime_error);
  const std::vector<int64_t> negative{-1};
  BOOST_CHECK_THROW(subset(d, negative), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(counts_and_description) {
  const auto d = three();
  BOOST_TEST((count_per_label(d, 4) == std::vector<int64_t>{1, 0, 2, 0}));
  BOOST_TEST((count_per_label(d, 1) == std::vector<int64_t>{1, 0, 2}));
  const auto text = describe_dataset(d, {"T-shirt", "Bag", "Ankle boot"});
  BOOST_TEST(text == "3 images of [2], 2 of 3 labels\n  T-shirt     1\n  Ankle boot  2\n");
}

BOOST_AUTO_TEST_CASE(load_checks_options) {
  DataOptions o;
  o.input_shape = {32, 32, 3};
  BOOST_CHECK_THROW(load_dataset("idx:/usr/share/datasets/fashion-mnist/t10k", o), std::runtime_error);
  o.model_labels = {"a"};
  o.input_shape = {32, 32, 4};
  BOOST_CHECK_THROW(load_dataset("idx:/usr/share/datasets/fashion-mnist/t10k", o), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
