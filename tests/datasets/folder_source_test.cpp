#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "datasets/dataset.hpp"
#include "test_files.hpp"

using namespace fedhub::datasets;
using namespace fedhub::datasets::testing;

namespace {

struct Warnings {
  std::vector<std::string> messages;
  int count_containing(const std::string& part) const {
    int n = 0;
    for (const auto& m : messages) n += contains(m, part);
    return n;
  }
};

DataOptions options(std::vector<int64_t> shape, std::vector<std::string> labels, Warnings& warnings) {
  DataOptions o;
  o.input_shape = std::move(shape);
  o.model_labels = std::move(labels);
  o.warn = [&warnings](const std::string& m) { warnings.messages.push_back(m); };
  return o;
}

std::vector<uint8_t> filled(size_t n, uint8_t v) { return std::vector<uint8_t>(n, v); }

// cat/: a.png (2x2 RGB), b.jpg (8x8 grey), notes.txt; dog/: c.png (2x2 grey),
// broken.jpg (not a JPEG); README.txt at the top.
void write_pets(const TempDir& dir) {
  write_png(dir / "cat/a.png", 2, 2, 3, {10, 20, 30, 10, 20, 30, 10, 20, 30, 10, 20, 30});
  write_jpg(dir / "cat/b.jpg", 8, 8, 1, filled(64, 128));
  write_text(dir / "cat/notes.txt", "not an image");
  write_png(dir / "dog/c.png", 2, 2, 1, {0, 100, 200, 255});
  write_text(dir / "dog/broken.jpg", "\xFF\xD8\xFF garbage, not a JPEG");
  write_text(dir / "README.txt", "pets");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(folder_source)

BOOST_AUTO_TEST_CASE(png_and_jpeg_in_sorted_class_folders) {
  TempDir dir;
  write_pets(dir);
  Warnings w;
  const auto data = load_dataset("folder:" + dir.path(), options({2, 2, 3}, {"Bird", "Cat", "Dog"}, w));
  BOOST_TEST((data.labels == std::vector<int32_t>{1, 1, 2}));
  BOOST_REQUIRE(data.pixels.size() == 3u * 12);
  // a.png exactly; b.jpg (grey 128, lossy) resized and repeated; c.png repeated over channels.
  BOOST_TEST((std::vector<uint8_t>(data.pixels.begin(), data.pixels.begin() + 12) ==
              std::vector<uint8_t>{10, 20, 30, 10, 20, 30, 10, 20, 30, 10, 20, 30}));
  for (size_t i = 12; i < 24; ++i) BOOST_TEST(std::abs(data.pixels[i] - 128) <= 2);
  BOOST_TEST((std::vector<uint8_t>(data.pixels.begin() + 24, data.pixels.end()) ==
              std::vector<uint8_t>{0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255}));

  // Every skipped file is named, and a summary counts them.
  BOOST_TEST(w.count_containing("broken.jpg") == 1);
  BOOST_TEST(w.count_containing("cannot decode") == 1);
  BOOST_TEST(w.count_containing("notes.txt") == 1);
  BOOST_TEST(w.count_containing("README.txt") == 1);
  BOOST_TEST(w.count_containing("loaded 3 images, skipped 3 entries: 1 files could not be decoded, 1 files are not "
                                "images, 1 files or folders are outside") == 1);
  BOOST_TEST(w.messages.size() == 4u);
}

// Found by fuzz_image (tests/fuzz): a header declaring a huge image made
// stb_image and the conversion allocate what it declared (about 1 GB).
BOOST_AUTO_TEST_CASE(an_image_declaring_huge_dimensions_is_skipped_unallocated) {
  TempDir dir;
  write_png(dir / "cat/a.png", 2, 2, 1, {1, 2, 3, 4});
  write_text(dir / "cat/huge.pgm", "P5\n20000 20000\n255\n\x01\x02\x03");
  Warnings w;
  const auto data = load_dataset("folder:" + dir.path(), options({2, 2, 1}, {"Cat"}, w));
  BOOST_TEST(data.size() == 1);
  BOOST_TEST(w.count_containing("huge.pgm") == 1);
  BOOST_TEST(w.count_containing("20000x20000 pixels, more than the 16777216 decoded") == 1);
}

BOOST_AUTO_TEST_CASE(class_names_and_indices_filter) {
  TempDir dir;
  write_pets(dir);
  Warnings w;
  const std::vector<std::string> labels{"Cat", "Dog"};
  auto data = load_dataset("folder:" + dir.path() + ":dog", options({1, 1, 1}, labels, w));
  BOOST_TEST((data.labels == std::vector<int32_t>{1}));
  data = load_dataset("folder:" + dir.path() + ":0", options({1, 1, 1}, labels, w));
  BOOST_TEST((data.labels == std::vector<int32_t>{0, 0}));
  data = load_dataset("folder:" + dir.path() + ":CAT,1", options({1, 1, 1}, labels, w));
  BOOST_TEST(data.size() == 3);
  const auto what = error_of([&] {
    load_dataset("folder:" + dir.path() + ":horse,dog,5", options({1, 1, 1}, labels, w));
  });
  BOOST_TEST(contains(what, "'horse', '5'"));
  BOOST_TEST(contains(what, "'cat'"));  // lists what there is
}

BOOST_AUTO_TEST_CASE(unknown_class_folders_are_an_error_naming_all) {
  TempDir dir;
  write_png(dir / "cat/a.png", 1, 1, 1, {1});
  write_png(dir / "spaceship/a.png", 1, 1, 1, {2});
  write_png(dir / "robot/a.png", 1, 1, 1, {3});
  Warnings w;
  const auto what = error_of([&] { load_dataset("folder:" + dir.path(), options({1}, {"Cat", "Dog"}, w)); });
  BOOST_TEST(contains(what, "'robot', 'spaceship'"));
  BOOST_TEST(contains(what, "Cat, Dog"));
  // A labels file does not rename folders: it is reported as unused.
  DataOptions o = options({1}, {"Cat", "Dog"}, w);
  o.labels_file = dir / "names.txt";
  BOOST_TEST(load_dataset("folder:" + dir.path() + ":cat", o).size() == 1);
  BOOST_TEST(w.count_containing("names.txt") == 1);
}

// Many files decoded in parallel keep their sorted order, also around the
// gaps that undecodable files leave.
BOOST_AUTO_TEST_CASE(parallel_decoding_keeps_the_order) {
  TempDir dir;
  const std::vector<std::string> classes{"a", "b", "c"};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 150; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "%s/%04d.png", classes[static_cast<size_t>(c)].c_str(), i);
      if (i % 37 == 5)
        write_text(dir / name, "corrupt");
      else
        write_png(dir / name, 3, 2, 1, filled(6, static_cast<uint8_t>(i)));
    }
  Warnings w;
  std::vector<std::pair<int64_t, int64_t>> progress;
  for (int threads : {1, 2, 0}) {
    auto o = options({2, 3, 1}, {"A", "B", "C"}, w);
    o.threads = threads;
    o.progress = [&](int64_t done, int64_t total) { progress.emplace_back(done, total); };
    const auto data = load_dataset("folder:" + dir.path(), o);
    BOOST_TEST(data.size() == 3 * (150 - 4));
    int64_t j = 0;
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 150; ++i) {
        if (i % 37 == 5) continue;
        BOOST_TEST(data.labels[static_cast<size_t>(j)] == c);
        BOOST_TEST(data.pixels[static_cast<size_t>(j * 6 + 5)] == i);
        ++j;
      }
    BOOST_REQUIRE(!progress.empty());
    BOOST_TEST(progress.back().first == 450);
    BOOST_TEST(progress.back().second == 450);
  }
  BOOST_TEST(w.count_containing("cannot decode") == 3 * 3 * 4);
  BOOST_TEST(w.count_containing("12 files could not be decoded") == 3);
}

BOOST_AUTO_TEST_CASE(empty_class_folder_is_reported) {
  TempDir dir;
  write_png(dir / "a/x.png", 1, 1, 1, {7});
  std::filesystem::create_directories(dir / "b");
  Warnings w;
  const auto data = load_dataset("folder:" + dir.path(), options({1}, {"A", "B"}, w));
  BOOST_TEST((data.labels == std::vector<int32_t>{0}));
  BOOST_TEST((data.pixels == std::vector<uint8_t>{7}));
  BOOST_REQUIRE(w.messages.size() == 1u);
  BOOST_TEST(contains(w.messages[0], "has no images"));
  BOOST_TEST(contains(w.messages[0], dir / "b"));
}

BOOST_AUTO_TEST_CASE(unusable_folders_are_errors) {
  TempDir dir;
  Warnings w;
  BOOST_TEST(
      contains(error_of([&] { load_dataset("folder:" + (dir / "missing"), options({1}, {"a"}, w)); }), "missing"));
  BOOST_TEST(
      contains(error_of([&] { load_dataset("folder:" + dir.path(), options({1}, {"a"}, w)); }), "no sub-folders"));
  // Only broken files: nothing loaded.
  write_text(dir / "a/x.png", "junk");
  BOOST_TEST(contains(error_of([&] { load_dataset("folder:" + dir.path(), options({1}, {"a"}, w)); }),
                      "no images were loaded"));
  // A flat input of another size than the images.
  write_png(dir / "a/x.png", 4, 4, 3, filled(48, 9));
  const auto what = error_of([&] { load_dataset("folder:" + dir.path(), options({16}, {"a"}, w)); });
  BOOST_TEST(contains(what, "x.png"));
  BOOST_TEST(contains(what, "image input"));
  BOOST_TEST(load_dataset("folder:" + dir.path(), options({48}, {"a"}, w)).size() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
