// What a data directory costs on disk (blocks allocated, what du counts):
// a fresh store holds almost nothing (RocksDB preallocates nothing), and a
// small model's steady traffic does not pile up in the write-ahead log.
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "store_support.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

constexpr uint64_t kMB = 1000 * 1000;

}  // namespace

BOOST_AUTO_TEST_SUITE(disk_size)

BOOST_AUTO_TEST_CASE(a_fresh_store_takes_well_under_5_mb) {
  TempDir dir;
  const std::string path = dir / "db";
  {
    auto store = Store::open(path);
    const uint64_t open_bytes = disk_bytes(path);
    BOOST_TEST_MESSAGE("a fresh store, open: " << open_bytes << " bytes on disk");
    BOOST_TEST(open_bytes < 5 * kMB, open_bytes << " bytes on disk");
    commit_one(*store, [](StoreBatch& b) { b.put_key("manager", bytes("a key record")); });
  }
  const uint64_t closed_bytes = disk_bytes(path);
  BOOST_TEST_MESSAGE("a fresh store with one key, closed: " << closed_bytes << " bytes on disk");
  BOOST_TEST(closed_bytes < 5 * kMB, closed_bytes << " bytes on disk");
  Store::open(path).reset();
  BOOST_TEST(disk_bytes(path) < 5 * kMB, disk_bytes(path) << " bytes on disk after a reopen");
}

// A 200 KB model (its weights go through the log, under
// kUnloggedWeightBytes) with 3 contributions per version for 100 versions:
// 80 MB written, about 1 MB live. The log must not keep the deleted weights.
BOOST_AUTO_TEST_CASE(a_small_models_traffic_does_not_pile_up_in_the_log) {
  TempDir dir;
  const std::string path = dir / "db";
  auto store = Store::open(path);
  const size_t model_bytes = 200 * 1000;
  uint64_t peak = 0;
  for (uint64_t v = 0; v < 100; ++v) {
    for (uint64_t c = 0; c < 3; ++c) {
      const uint64_t upload = v * 3 + c;
      commit_one(
          *store, [&](StoreBatch& b) { b.put_chunk("m", upload, 0, tagged_value("chunk", upload, model_bytes)); },
          false);
      commit_one(*store, [&](StoreBatch& b) {
        b.put_contribution("m", v, named("p", c), bytes("record"), bytes("summary"), upload);
      });
    }
    commit_one(*store, [&](StoreBatch& b) {
      b.put_version("m", v + 1, tagged_value("version", v + 1, model_bytes));
      b.put_version_info("m", v + 1, bytes("info"));
      for (uint64_t c = 0; c < 3; ++c) b.erase_merged("m", v, named("p", c), v * 3 + c, v * 3 + c);
      if (v >= 5) b.erase_version_pieces("m", v - 5);
    });
    peak = std::max(peak, disk_bytes(path));
  }
  BOOST_TEST_MESSAGE("100 versions of a 200 KB model: at most " << peak << " bytes on disk, " << disk_bytes(path)
                                                                  << " at the end");
  BOOST_TEST(peak < 40 * kMB, peak << " bytes on disk at the peak");
  // Everything is still there.
  BOOST_TEST(read_whole_version(*store, "m", 100, model_bytes).has_value());
  BOOST_TEST(!read_whole_version(*store, "m", 90, model_bytes).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
