// Checkpoints (the hub's backups): a copy taken while another thread keeps
// committing holds every commit acknowledged before it began, each commit
// whole, the unlogged bulk writes a synced commit persisted, and opens as a
// store of its own; a target that exists is refused.
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "store_support.hpp"

using namespace fedhub;
using namespace fedhub::test;

BOOST_AUTO_TEST_CASE(checkpoint_while_committing) {
  TempDir dir;
  const Buffer package = tagged_value("package", 1, kPieceBytes + 17);
  auto store = Store::open(dir / "db");
  {
    // Bulk data written without the log and persisted by the commit.
    StoreBatch bulk;
    bulk.put_version("m", 1, package);
    store->write_unlogged(bulk);
    StoreBatch b;
    b.persist_first(Family::versions);
    b.put_model("m", bytes("rec"));
    b.put_version_info("m", 1, bytes("info"));
    store->commit(b);
  }
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (uint64_t i = 1; !stop; ++i) {
      StoreBatch b;  // two records per commit: the copy has both or neither
      b.put_key(named("k", i), bytes("a"));
      b.put_server_state(named("s", i), bytes("b"));
      store->commit(b);
      acknowledged = i;
    }
  });
  while (acknowledged < 200) std::this_thread::yield();
  const uint64_t before = acknowledged;
  store->checkpoint(dir / "copy");
  const uint64_t after = acknowledged;
  stop = true;
  writer.join();
  BOOST_TEST(after >= before);

  auto copy = Store::open(dir / "copy");
  BOOST_TEST(as_string(copy->model("m")) == "rec");
  BOOST_TEST((read_whole_version(*copy, "m", 1, package.size()) == package));
  uint64_t keys = 0;
  for (uint64_t i = 1; i <= after + 1; ++i) {
    const bool key = copy->key(named("k", i)).has_value();
    const bool state = copy->server_state(named("s", i)).has_value();
    BOOST_TEST(key == state, "commit " << i << " is in the copy in part");
    if (i <= before) BOOST_TEST(key, "commit " << i << " was acknowledged before the checkpoint began");
    keys += key;
  }
  BOOST_TEST(keys >= before);
  // The copy is a store of its own: writing to it leaves the original alone.
  commit_one(*copy, [](StoreBatch& b) { b.put_model("only-in-copy", bytes("x")); });
  BOOST_TEST(!store->model("only-in-copy"));
}

BOOST_AUTO_TEST_CASE(checkpoint_into_an_existing_directory_is_refused) {
  TempDir dir;
  auto store = Store::open(dir / "db");
  std::filesystem::create_directories(dir / "taken");
  BOOST_CHECK_THROW(store->checkpoint(dir / "taken"), StoreError);
}
