// Store::commit: batches in order and all or nothing, from several threads at
// once; weights in blob files; a fresh directory that costs what it holds.
#include <boost/test/unit_test.hpp>
#include <thread>

#include "store_support.hpp"

using namespace fedhub;
using namespace fedhub::test;
using Kind = StoreBatch::Kind;

namespace {

struct StoreFixture {
  TempDir dir;
  std::unique_ptr<Store> store = Store::open(dir / "db");

  std::string store_error(const std::function<void()>& f) {
    try {
      f();
    } catch (const StoreError& e) {
      return e.what();
    }
    return "";
  }
};

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(commits, StoreFixture)

BOOST_AUTO_TEST_CASE(batches_apply_in_order) {
  StoreBatch a, b, c;
  a.put_key("k1", bytes("a"));
  a.put_key("k2", bytes("a"));
  a.put_chunk("m", 1, 0, bytes("old"));
  b.put_key("k1", bytes("b"));           // later batches win
  b.erase_chunks("m", 1);                // a range erase after a put
  c.put_chunk("m", 1, 8, bytes("new"));  // a put after a range erase
  const StoreBatch* all[] = {&a, &b, &c};
  store->commit(all);
  BOOST_TEST(as_string(store->key("k1")) == "b");
  BOOST_TEST(as_string(store->key("k2")) == "a");
  std::vector<uint64_t> offsets;
  store->for_each_chunk("m", 1, [&](uint64_t o, std::span<const char>) { offsets.push_back(o); });
  BOOST_TEST((offsets == std::vector<uint64_t>{8}));
}

BOOST_AUTO_TEST_CASE(empty_commits_do_nothing) {
  StoreBatch empty;
  BOOST_CHECK_NO_THROW(store->commit(empty));
  BOOST_CHECK_NO_THROW(store->commit(std::span<const StoreBatch* const>()));
  StoreBatch range;  // an empty range
  range.ops().push_back({Kind::erase_range, Family::chunks, "m", Buffer{'m'}});
  BOOST_CHECK_NO_THROW(store->commit(range));
}

BOOST_AUTO_TEST_CASE(an_invalid_operation_writes_nothing) {
  StoreBatch good;
  good.put_key("before", bytes("v"));
  good.put_version("m", 1, tagged_value("package", 1, kPieceBytes + 1));
  good.put_model("m", bytes("rec"));
  std::vector<StoreBatch> bad(5);
  bad[0].ops().push_back({Kind::put, static_cast<Family>(200), "k", Buffer{'v'}});
  bad[1].ops().push_back({static_cast<Kind>(9), Family::keys, "k", Buffer{'v'}});
  bad[2].ops().push_back({Kind::erase_range, Family::chunks, "z", Buffer{'a'}});  // ends before it begins
  bad[3].ops().push_back({Kind::put, Family::meta, "schema", Buffer{'1'}});
  bad[4].ops().push_back({Kind::erase_range, Family::meta, "a", Buffer{'z'}});  // would erase the schema
  for (size_t i = 0; i < bad.size(); ++i) {
    StoreBatch after;
    after.put_key("after", bytes("v"));
    const StoreBatch* all[] = {&good, &bad[i], &after};
    const auto why = store_error([&] { store->commit(all); });
    BOOST_TEST(contains(why, "invalid"), i << ": " << why);
    BOOST_TEST(contains(why, dir.path()), why);
    BOOST_TEST(!store->key("before"), "bad batch " << i);
    BOOST_TEST(!store->key("after"));
    BOOST_TEST(!store->model("m"));
    BOOST_TEST(store->stored_versions("m").empty());
  }
  // The same good batch alone is fine.
  store->commit(good);
  BOOST_TEST(as_string(store->key("before")) == "v");
  BOOST_TEST((store->stored_versions("m") == std::vector<uint64_t>{1}));
}

BOOST_AUTO_TEST_CASE(unsynced_commits_are_read_at_once) {
  for (uint32_t i = 0; i < 50; ++i)
    commit_one(
        *store, [&](StoreBatch& b) { b.put_key(thread_key(0, i), bytes(std::to_string(i))); }, false);
  store->sync_wal();
  BOOST_TEST(store->keys().size() == 50u);
  BOOST_TEST(as_string(store->key(thread_key(0, 49))) == "49");
}

BOOST_AUTO_TEST_CASE(eight_threads_commit_at_once) {
  constexpr int kCommitters = 8;
  constexpr uint32_t kEach = 60;
  std::atomic<int> ready{0};
  std::vector<std::string> errors(kCommitters);
  std::vector<std::thread> threads;
  for (int t = 0; t < kCommitters; ++t)
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kCommitters) std::this_thread::yield();  // start together
      try {
        for (uint32_t i = 0; i < kEach; ++i) {
          // Two batches per commit; every 15th carries a version of two pieces.
          StoreBatch a = thread_batch(t, i);
          StoreBatch b;
          b.put_contribution("m", t, named("p", i), bytes("r"), bytes("s"), t * 1000 + i);
          if (i % 15 == 0) b.put_version(named("t", t), i, tagged_value("v", i, kPieceBytes + i));
          const StoreBatch* both[] = {&a, &b};
          store->commit(both, true);
        }
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kCommitters; ++t) BOOST_TEST(errors[t].empty(), "thread " << t << ": " << errors[t]);
  for (int reopened = 0; reopened < 2; ++reopened) {
    BOOST_TEST(store->keys().size() == size_t{kCommitters} * kEach);
    BOOST_TEST(store->pending("m").size() == size_t{kCommitters} * kEach);
    for (int t = 0; t < kCommitters; ++t) {
      const std::string model = named("t", t);
      BOOST_TEST(as_string(store->model(model)) == model + ":" + std::to_string(kEach - 1));
      BOOST_TEST(store->contribution_summaries("m", t).size() == kEach);
      for (uint32_t i = 0; i < kEach; ++i) {
        BOOST_TEST((store->key(thread_key(t, i)) == tagged_value(thread_key(t, i), i, 100 + i % 900)));
        if (i % 15 == 0)
          BOOST_TEST((read_whole_version(*store, model, i, kPieceBytes + i) == tagged_value("v", i, kPieceBytes + i)));
      }
    }
    store.reset();
    store = Store::open(dir / "db");
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(files_on_disk)

BOOST_AUTO_TEST_CASE(weights_go_to_blob_files) {
  TempDir dir;
  StoreOptions small;
  small.write_buffer_bytes = 1 << 20;
  small.min_blob_bytes = 64 << 10;
  const std::string with_blobs = dir / "blobs", without = dir / "none", records = dir / "records";
  StoreOptions no_blobs = small;
  no_blobs.min_blob_bytes = 0;
  const Buffer value = tagged_value("weights", 1, 256 << 10);
  for (const auto& [path, options] : {std::pair{with_blobs, small}, std::pair{without, no_blobs}}) {
    auto store = Store::open(path, options);
    for (uint64_t i = 0; i < 8; ++i) commit_one(*store, [&](StoreBatch& b) { b.put_chunk("m", 1, i, value); });
  }
  {
    // Large values in a family without weights stay in table files.
    auto store = Store::open(records, small);
    for (uint64_t i = 0; i < 8; ++i)
      commit_one(*store, [&](StoreBatch& b) { b.put_contribution("m", i, "p", value, bytes("s")); });
  }
  // A reopen replays the log into table (and blob) files.
  for (const auto& [path, options] :
       {std::pair{with_blobs, small}, std::pair{without, no_blobs}, std::pair{records, small}}) {
    auto store = Store::open(path, options);
    if (path == records) {
      BOOST_TEST((store->contribution("m", 7, "p") == value));
    } else {
      uint64_t n = store->for_each_chunk(
          "m", 1, [&](uint64_t, std::span<const char> b) { BOOST_TEST((Buffer(b.begin(), b.end()) == value)); });
      BOOST_TEST(n == 8 * value.size());
    }
  }
  BOOST_TEST(count_files(with_blobs, ".blob") > 0u);
  BOOST_TEST(count_files(without, ".blob") == 0u);
  BOOST_TEST(count_files(records, ".blob") == 0u);
}

BOOST_AUTO_TEST_CASE(a_fresh_directory_is_small) {
  // RocksDB's defaults preallocate the live log (1.1 x write_buffer_size)
  // and the MANIFEST (4 MiB): 75 MB for an empty store.
  TempDir dir;
  auto store = Store::open(dir / "db");
  commit_one(*store, [](StoreBatch& b) { b.put_key("k", bytes("v")); });
  const uint64_t open_bytes = disk_bytes(dir / "db");
  BOOST_TEST_MESSAGE("an open fresh store: " << open_bytes << " bytes on disk");
  BOOST_TEST(open_bytes < 4u << 20);
  store.reset();
  BOOST_TEST(disk_bytes(dir / "db") < 4u << 20);
}

BOOST_AUTO_TEST_SUITE_END()
