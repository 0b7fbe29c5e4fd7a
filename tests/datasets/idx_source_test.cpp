#include <boost/test/unit_test.hpp>

#include "datasets/dataset.hpp"
#include "model/labels.hpp"
#include "test_files.hpp"

using namespace fedhub::datasets;
using namespace fedhub::datasets::testing;

namespace {

DataOptions options(std::vector<int64_t> shape, std::vector<std::string> labels) {
  DataOptions o;
  o.input_shape = std::move(shape);
  o.model_labels = std::move(labels);
  o.warn = [](const std::string& m) { BOOST_FAIL("unexpected warning: " + m); };
  return o;
}

const std::string kSource = FEDHUB_SOURCE_DIR;

}  // namespace

BOOST_AUTO_TEST_SUITE(idx_source)

BOOST_AUTO_TEST_CASE(plain_files_load_as_they_are) {
  TempDir dir;
  write_idx_pair(dir / "set", {0, 1, 2}, 2, 2, false);
  const auto data = load_dataset("idx:" + (dir / "set"), options({2, 2, 1}, {"a", "b", "c"}));
  BOOST_TEST(data.size() == 3);
  BOOST_TEST(data.sample_size() == 4);
  BOOST_TEST((data.labels == std::vector<int32_t>{0, 1, 2}));
  BOOST_TEST((data.pixels == std::vector<uint8_t>{1, 1, 1, 1, 11, 11, 11, 11, 21, 21, 21, 21}));
}

BOOST_AUTO_TEST_CASE(gzip_files_are_resized_and_repeated_over_channels) {
  TempDir dir;
  write_idx_pair(dir / "set", {1, 0}, 28, 28, true);
  int64_t last_done = -1, last_total = -1;
  auto o = options({32, 32, 3}, {"a", "b"});
  o.progress = [&](int64_t done, int64_t total) { last_done = done, last_total = total; };
  const auto data = load_dataset("idx:" + (dir / "set"), o);
  BOOST_TEST((data.labels == std::vector<int32_t>{1, 0}));
  BOOST_TEST((data.sample_shape == std::vector<int64_t>{32, 32, 3}));
  BOOST_REQUIRE(data.pixels.size() == 2u * 32 * 32 * 3);
  BOOST_TEST((std::vector<uint8_t>(data.pixels.begin(), data.pixels.begin() + 3072) == std::vector<uint8_t>(3072, 1)));
  BOOST_TEST((std::vector<uint8_t>(data.pixels.begin() + 3072, data.pixels.end()) == std::vector<uint8_t>(3072, 11)));
  BOOST_TEST(last_done == 2);
  BOOST_TEST(last_total == 2);
}

BOOST_AUTO_TEST_CASE(labels_file_maps_class_names_onto_the_model) {
  TempDir dir;
  write_idx_pair(dir / "set", {0, 1, 2, 0}, 2, 2, false);
  write_text(dir / "names.txt", "T-shirt/top\nTrouser\nBag\n");
  auto o = options({2, 2, 1}, {"Bag", "T-shirt", "Trouser"});
  o.labels_file = dir / "names.txt";
  auto data = load_dataset("idx:" + (dir / "set"), o);
  BOOST_TEST((data.labels == std::vector<int32_t>{1, 2, 0, 1}));

  // With names, CLASSES may name classes too.
  data = load_dataset("idx:" + (dir / "set") + ":Bag,0", o);
  BOOST_TEST((data.labels == std::vector<int32_t>{1, 0, 1}));

  // A name the model lacks is an error naming it.
  write_text(dir / "names.txt", "T-shirt/top\nTrouser\nBoot\n");
  const auto what = error_of([&] { load_dataset("idx:" + (dir / "set"), o); });
  BOOST_TEST(contains(what, "'Boot'"));
  BOOST_TEST(contains(what, "names.txt"));

  // A label beyond the names of the labels file is an error.
  write_text(dir / "names.txt", "T-shirt/top\nTrouser\n");
  BOOST_TEST(contains(error_of([&] { load_dataset("idx:" + (dir / "set"), o); }), "names only 2 classes"));
}

BOOST_AUTO_TEST_CASE(without_labels_file_index_maps_to_index) {
  TempDir dir;
  write_idx_pair(dir / "set", {0, 3, 1, 3}, 1, 1, false);
  auto data = load_dataset("idx:" + (dir / "set"), options({1}, {"a", "b", "c", "d", "e"}));
  BOOST_TEST((data.labels == std::vector<int32_t>{0, 3, 1, 3}));

  // More source classes than model labels.
  const auto what = error_of([&] { load_dataset("idx:" + (dir / "set"), options({1}, {"a", "b"})); });
  BOOST_TEST(contains(what, "'3'"));
  BOOST_TEST(contains(what, "--data-labels"));
  // ... unless the class filter leaves them out.
  data = load_dataset("idx:" + (dir / "set") + ":0,1", options({1}, {"a", "b"}));
  BOOST_TEST((data.labels == std::vector<int32_t>{0, 1}));
  BOOST_TEST((data.pixels == std::vector<uint8_t>{1, 21}));
}

BOOST_AUTO_TEST_CASE(class_filter_keeps_listed_indices) {
  TempDir dir;
  write_idx_pair(dir / "set", {0, 1, 2, 1, 0}, 1, 1, true);
  const auto data = load_dataset("idx:" + (dir / "set") + ":1", options({1}, {"a", "b", "c"}));
  BOOST_TEST((data.labels == std::vector<int32_t>{1, 1}));
  BOOST_TEST((data.pixels == std::vector<uint8_t>{11, 31}));
  const auto what = error_of([&] { load_dataset("idx:" + (dir / "set") + ":1,7,x", options({1}, {"a", "b", "c"})); });
  BOOST_TEST(contains(what, "'7', 'x'"));
}

BOOST_AUTO_TEST_CASE(malformed_files_are_errors_naming_the_file) {
  TempDir dir;
  const std::string prefix = dir / "set";
  // Missing.
  BOOST_TEST(contains(error_of([&] { load_dataset("idx:" + prefix, options({1}, {"a"})); }), "set-labels-idx1-ubyte"));

  // Images and labels swapped: wrong magic number.
  write_bytes(prefix + "-labels-idx1-ubyte", idx_bytes({1, 1, 1}, {5}));
  write_bytes(prefix + "-images-idx3-ubyte", idx_bytes({1}, {0}));
  auto what = error_of([&] { load_dataset("idx:" + prefix, options({1}, {"a"})); });
  BOOST_TEST(contains(what, prefix + "-labels-idx1-ubyte"));
  BOOST_TEST(contains(what, "0x00000801"));

  // Not an IDX file at all.
  write_text(prefix + "-labels-idx1-ubyte", "hello, world");
  BOOST_TEST(contains(error_of([&] { load_dataset("idx:" + prefix, options({1}, {"a"})); }), "not an IDX file"));

  // Counts differ.
  write_bytes(prefix + "-labels-idx1-ubyte", idx_bytes({2}, {0, 0}));
  write_bytes(prefix + "-images-idx3-ubyte", idx_bytes({1, 1, 1}, {5}));
  what = error_of([&] { load_dataset("idx:" + prefix, options({1}, {"a"})); });
  BOOST_TEST(contains(what, "holds 1 images"));
  BOOST_TEST(contains(what, "2 labels"));

  // Truncated data and trailing bytes.
  write_bytes(prefix + "-labels-idx1-ubyte", idx_bytes({2}, {0, 0}));
  write_bytes(prefix + "-images-idx3-ubyte", idx_bytes({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7}));
  what = error_of([&] { load_dataset("idx:" + prefix, options({4}, {"a"})); });
  BOOST_TEST(contains(what, prefix + "-images-idx3-ubyte"));
  BOOST_TEST(contains(what, "truncated"));
  write_bytes(prefix + "-images-idx3-ubyte", idx_bytes({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  BOOST_TEST(contains(error_of([&] { load_dataset("idx:" + prefix, options({4}, {"a"})); }), "1 bytes after"));
  // Truncated inside the header.
  write_bytes(prefix + "-images-idx3-ubyte", {0, 0, 8, 3, 0, 0});
  BOOST_TEST(contains(error_of([&] { load_dataset("idx:" + prefix, options({4}, {"a"})); }), "header"));
}

BOOST_AUTO_TEST_CASE(truncated_gzip_is_an_error) {
  TempDir dir;
  const std::string prefix = dir / "set";
  write_idx_pair(prefix, {0, 0, 0}, 28, 28, true);
  const std::string images = prefix + "-images-idx3-ubyte.gz";
  const auto size = std::filesystem::file_size(images);
  std::filesystem::resize_file(images, size - 12);
  const auto what = error_of([&] { load_dataset("idx:" + prefix, options({28, 28, 1}, {"a"})); });
  BOOST_TEST(contains(what, images));
  BOOST_TEST(contains(what, "truncated or corrupt"));
}

BOOST_AUTO_TEST_CASE(flat_input_of_another_size_asks_for_an_image_input) {
  TempDir dir;
  write_idx_pair(dir / "set", {0}, 28, 28, false);
  BOOST_TEST(load_dataset("idx:" + (dir / "set"), options({784}, {"a"})).sample_size() == 784);
  const auto what = error_of([&] { load_dataset("idx:" + (dir / "set"), options({3072}, {"a"})); });
  BOOST_TEST(contains(what, "image input"));
  BOOST_TEST(contains(what, "set-images-idx3-ubyte"));
}

// The real Debian dataset-fashion-mnist package, installed here and in CI.
BOOST_AUTO_TEST_CASE(debian_fashion_mnist_t10k) {
  const auto paper = fedhub::read_labels_file(kSource + "/config/paper-20-labels.txt");
  auto o = options({32, 32, 3}, paper);
  o.labels_file = kSource + "/config/fashion-mnist-labels.txt";
  const auto data = load_dataset("idx:/usr/share/datasets/fashion-mnist/t10k", o);
  BOOST_TEST(data.size() == 10000);
  const auto counts = count_per_label(data, static_cast<int64_t>(paper.size()));
  for (const char* name :
       {"T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"})
    BOOST_TEST(counts[static_cast<size_t>(fedhub::find_label(paper, name))] == 1000, name);
  for (const char* name : {"Airplane", "Cat", "Truck"})
    BOOST_TEST(counts[static_cast<size_t>(fedhub::find_label(paper, name))] == 0, name);
  // The first test image is an ankle boot; grey is repeated over channels.
  BOOST_TEST(data.labels[0] == fedhub::find_label(paper, "Ankle boot"));
  bool grey = true;
  uint8_t brightest = 0;
  for (size_t p = 0; p < data.pixels.size(); p += 3) {
    grey = grey && data.pixels[p] == data.pixels[p + 1] && data.pixels[p] == data.pixels[p + 2];
    brightest = std::max(brightest, data.pixels[p]);
  }
  BOOST_TEST(grey);
  BOOST_TEST(brightest == 255);

  // The flat 784 input holds the original pixels.
  const auto flat = load_dataset("idx:/usr/share/datasets/fashion-mnist/t10k:9", options({784}, paper));
  BOOST_TEST(flat.size() == 1000);
  BOOST_TEST(flat.labels[0] == 9);
}

BOOST_AUTO_TEST_SUITE_END()
