#include <boost/test/unit_test.hpp>

#include "datasets/dataset.hpp"
#include "model/labels.hpp"
#include "test_files.hpp"

using namespace fedhub::datasets;
using namespace fedhub::datasets::testing;

namespace {

const std::string kSource = FEDHUB_SOURCE_DIR;

DataOptions options(std::vector<int64_t> shape, std::vector<std::string> labels) {
  DataOptions o;
  o.input_shape = std::move(shape);
  o.model_labels = std::move(labels);
  return o;
}

std::vector<uint8_t> records(std::initializer_list<uint8_t> labels) {
  std::vector<uint8_t> bytes;
  for (uint8_t l : labels) {
    const auto r = cifar_record(l);
    bytes.insert(bytes.end(), r.begin(), r.end());
  }
  return bytes;
}

// data_batch_1, _2 and _10 (numeric order matters), and test_batch.
void write_batches(const TempDir& dir) {
  write_bytes(dir / "data_batch_1.bin", records({0, 1}));
  write_bytes(dir / "data_batch_10.bin", records({3}));
  write_bytes(dir / "data_batch_2.bin", records({2, 9}));
  write_bytes(dir / "test_batch.bin", records({4}));
}

// The official batches.meta.txt: one name per line, then blank lines.
const char* kMeta = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(cifar_source)

BOOST_AUTO_TEST_CASE(directory_means_data_batches_in_numeric_order) {
  TempDir dir;
  write_batches(dir);
  const auto cifar10 = fedhub::read_labels_file(kSource + "/config/cifar10-labels.txt");
  const auto data = load_dataset("cifar:" + dir.path(), options({32, 32, 3}, cifar10));
  BOOST_TEST((data.labels == std::vector<int32_t>{0, 1, 2, 9, 3}));
  // HWC from the R, G and B planes: pixel p of a record with label l is (p % 256, 20 l, 255 - p % 256).
  BOOST_REQUIRE(data.pixels.size() == 5u * 3072);
  const uint8_t* second = data.pixels.data() + 3072;  // label 1
  for (int p : {0, 1, 300, 1023}) {
    BOOST_TEST(second[p * 3] == p % 256);
    BOOST_TEST(second[p * 3 + 1] == 20);
    BOOST_TEST(second[p * 3 + 2] == 255 - p % 256);
  }
}

BOOST_AUTO_TEST_CASE(single_file_is_the_test_set) {
  TempDir dir;
  write_batches(dir);
  const std::vector<std::string> ten{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  const auto data = load_dataset("cifar:" + (dir / "test_batch.bin"), options({32, 32, 1}, ten));
  BOOST_TEST((data.labels == std::vector<int32_t>{4}));
  // CIFAR-10 without names has 10 classes: fewer model labels are an error.
  BOOST_TEST(contains(error_of([&] {
                        load_dataset("cifar:" + (dir / "test_batch.bin"), options({3072}, {"a", "b"}));
                      }),
                      "10 classes"));
  // Pixel 0 is (0, 80, 255): luma 0.587 * 80 + 0.114 * 255 = 76.03.
  BOOST_TEST(data.pixels[0] == 76);
  BOOST_TEST(data.pixels.size() == 1024u);
}

BOOST_AUTO_TEST_CASE(batches_meta_names_the_classes) {
  TempDir dir;
  write_batches(dir);
  write_text(dir / "batches.meta.txt", kMeta);
  const auto paper = fedhub::read_labels_file(kSource + "/config/paper-20-labels.txt");
  std::vector<std::string> warnings;
  auto o = options({16, 16, 3}, paper);
  o.labels_file = kSource + "/config/fashion-mnist-labels.txt";  // not used: the meta file names the classes
  o.warn = [&](const std::string& m) { warnings.push_back(m); };
  auto data = load_dataset("cifar:" + dir.path(), o);
  const auto label = [&](const char* name) { return fedhub::find_label(paper, name); };
  BOOST_TEST((data.labels == std::vector<int32_t>{label("Airplane"), label("Automobile"), label("Bird"), label("Truck"),
                                                  label("Cat")}));
  BOOST_TEST(data.sample_size() == 16 * 16 * 3);
  BOOST_REQUIRE(warnings.size() == 1u);
  BOOST_TEST(contains(warnings[0], "batches.meta.txt"));

  // CLASSES by name or index.
  o.labels_file.clear();
  data = load_dataset("cifar:" + dir.path() + ":truck,1", o);
  BOOST_TEST((data.labels == std::vector<int32_t>{label("Automobile"), label("Truck")}));
}

BOOST_AUTO_TEST_CASE(unknown_meta_names_are_an_error_naming_all) {
  TempDir dir;
  write_batches(dir);
  write_text(dir / "batches.meta.txt", "cat\ndog\nspaceship\nrobot\nbird\nx5\nx6\nx7\nx8\nx9\n");
  const auto what = error_of([&] {
    load_dataset("cifar:" + dir.path() + ":0,1,2,3", options({32, 32, 3}, {"Cat", "Dog", "Bird"}));
  });
  BOOST_TEST(contains(what, "'spaceship', 'robot'"));
  BOOST_TEST(contains(what, "batches.meta.txt"));
  // Leaving them out works.
  const auto data = load_dataset("cifar:" + dir.path() + ":cat,dog", options({32, 32, 3}, {"Cat", "Dog", "Bird"}));
  BOOST_TEST((data.labels == std::vector<int32_t>{0, 1}));
}

BOOST_AUTO_TEST_CASE(labels_file_names_classes_without_meta) {
  TempDir dir;
  write_batches(dir);
  auto o = options({32, 32, 3}, fedhub::read_labels_file(kSource + "/config/paper-20-labels.txt"));
  o.labels_file = kSource + "/config/cifar10-labels.txt";
  const auto data = load_dataset("cifar:" + (dir / "data_batch_2.bin"), o);
  BOOST_TEST((data.labels == std::vector<int32_t>{4, 19}));  // bird, truck in the paper's order
  // Without it, index i is model label i: 9 needs 10 labels.
  BOOST_TEST(contains(error_of([&] {
                        load_dataset("cifar:" + (dir / "data_batch_2.bin"), options({3072}, {"a", "b"}));
                      }),
                      "'2', '3', '4', '5', '6', '7', '8', '9'"));
}

BOOST_AUTO_TEST_CASE(malformed_files_are_errors) {
  TempDir dir;
  BOOST_TEST(
      contains(error_of([&] { load_dataset("cifar:" + dir.path(), options({3072}, {"a"})); }), "test_batch.bin"));
  auto bytes = records({0, 1});
  bytes.pop_back();
  write_bytes(dir / "data_batch_1.bin", bytes);
  auto what = error_of([&] { load_dataset("cifar:" + dir.path(), options({3072}, {"a", "b"})); });
  BOOST_TEST(contains(what, "data_batch_1.bin"));
  BOOST_TEST(contains(what, "3073"));
  write_bytes(dir / "data_batch_1.bin", records({0, 12}));
  const std::vector<std::string> ten{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  what = error_of([&] { load_dataset("cifar:" + dir.path(), options({3072}, ten)); });
  BOOST_TEST(contains(what, "record 1"));
  BOOST_TEST(contains(what, "label 12"));
  BOOST_TEST(
      contains(error_of([&] { load_dataset("cifar:" + (dir / "nothing"), options({3072}, {"a"})); }), "nothing"));
}

BOOST_AUTO_TEST_SUITE_END()
