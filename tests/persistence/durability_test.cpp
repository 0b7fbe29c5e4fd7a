// What survives: a reopened store holds everything; a store killed (SIGKILL)
// in the middle of synced commits holds every commit that returned and each
// commit entirely or not at all; a directory is used by one hub at a time,
// and only by a hub that reads its schema.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>

#include "store_support.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

void check_store_error(const std::function<void()>& f, const std::vector<std::string>& needles) {
  try {
    f();
    BOOST_ERROR("expected a StoreError");
  } catch (const StoreError& e) {
    for (const auto& n : needles)
      BOOST_TEST(std::string(e.what()).find(n) != std::string::npos,
                 "'" << e.what() << "' should mention '" << n << "'");
  }
}

// Kills the child once `enough` acknowledgements arrived, collects the ones
// already in the pipe, and returns the wait status.
int kill_after(Child& child, const std::function<bool()>& enough, const std::function<bool()>& read_one) {
  while (!enough() && read_one()) {
  }
  ::kill(child.pid, SIGKILL);
  while (read_one()) {
  }
  return kill_child(child);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(durability)

BOOST_AUTO_TEST_CASE(reopening_sees_everything) {
  TempDir dir;
  const std::string path = dir / "nested/dirs/db";  // parents are created
  const Buffer package = tagged_value("package", 1, kPieceBytes + 5);
  {
    auto store = Store::open(path);
    StoreBatch b;
    b.put_model("m", bytes("rec1"));
    b.put_version("m", 1, package);
    b.put_version_info("m", 1, bytes("i1"));
    b.put_server_state("m", bytes("state"));
    b.put_contribution("m", 1, "alice", bytes("r-alice"), bytes("s-alice"), 0);
    b.put_chunk("m", 4, 0, bytes("chunk"));
    b.put_upload("m", 4, bytes("upload"));
    b.put_key("alice", bytes("k-alice"));
    store->commit(b);
  }
  for (int round = 0; round < 2; ++round) {  // twice: the second open replays nothing new
    auto store = Store::open(path);
    BOOST_TEST(as_string(store->model("m")) == "rec1");
    BOOST_TEST((read_whole_version(*store, "m", 1, package.size()) == package));
    BOOST_TEST((store->latest_version("m") == 1u));
    BOOST_TEST(as_string(store->server_state("m")) == "state");
    BOOST_TEST(as_string(store->contribution("m", 1, "alice")) == "r-alice");
    BOOST_TEST(store->pending("m").size() == 1u);
    BOOST_TEST(store->contribution_summaries("m", 1).size() == 1u);
    BOOST_TEST(store->for_each_chunk("m", 4, [](uint64_t, std::span<const char>) {}) == 5u);
    BOOST_TEST(store->uploads("m").size() == 1u);
    BOOST_TEST(as_string(store->key("alice")) == "k-alice");
  }
}

BOOST_AUTO_TEST_CASE(kill_during_synced_commits) {
  TempDir dir;
  const std::string path = dir / "db";
  const int n = 4000;
  Child child = spawn_child("write", path, n);
  std::set<uint32_t> acked;
  bool finished = false;
  const size_t kill_after_acks = 60;
  const int status = kill_after(
      child, [&] { return acked.size() >= kill_after_acks; },
      [&] {
        uint32_t i = 0;
        if (!read_exact(child.fd, &i, sizeof i)) return false;
        if (i == 0xffffffffu)
          finished = true;
        else
          acked.insert(i);
        return true;
      });
  BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL), "child status " << status);
  BOOST_TEST_REQUIRE(acked.size() >= kill_after_acks, "the child stopped early");
  BOOST_TEST(!finished, "the child finished all writes before the kill");
  const uint32_t max_acked = *acked.rbegin();
  BOOST_TEST(acked.size() == max_acked + 1u, "acknowledgements arrive in order without gaps");
  BOOST_TEST_MESSAGE("killed after " << acked.size() << " acknowledged iterations");

  auto store = Store::open(path);  // recovers from the write-ahead log
  // The last iteration applied: the newest filter summary (every iteration writes one).
  const auto summaries = store->summaries_from("m", 0);
  BOOST_TEST_REQUIRE(!summaries.empty());
  const int64_t last = static_cast<int64_t>(summaries.size()) - 1;
  BOOST_TEST(last >= static_cast<int64_t>(max_acked), "an acknowledged commit is lost");
  BOOST_TEST(last <= static_cast<int64_t>(max_acked) + 1, "more than the commit in flight was applied");
  // Exactly the state after iterations 0..last: each commit entirely or not at all.
  const auto diffs = check_state_after(*store, last);
  for (const auto& d : diffs) BOOST_ERROR("after " << last << " iterations: " << d);
  BOOST_TEST(diffs.empty());
}

BOOST_AUTO_TEST_CASE(unsynced_commits_survive_after_sync_wal) {
  TempDir dir;
  const std::string path = dir / "db";
  const int n = 300;
  Child child = spawn_child("unsynced", path, n);
  char synced = 0;
  BOOST_TEST_REQUIRE(read_exact(child.fd, &synced, 1));
  BOOST_TEST(synced == 'S');
  kill_child(child);
  auto store = Store::open(path);
  BOOST_TEST(store->keys().size() == size_t{n});
  for (uint32_t i = 0; i < static_cast<uint32_t>(n); ++i)
    BOOST_TEST((store->key(named("u", i)) == tagged_value("u", i, 100 + i)), "unsynced commit " << i);
}

BOOST_AUTO_TEST_CASE(unlogged_writes_persisted_by_a_commit_survive_a_kill) {
  TempDir dir;
  const std::string path = dir / "db";
  const int n = 200;
  Child child = spawn_child("unlogged", path, n);
  char synced = 0;
  BOOST_TEST_REQUIRE(read_exact(child.fd, &synced, 1));
  BOOST_TEST(synced == 'S');
  kill_child(child);
  auto store = Store::open(path);
  BOOST_TEST(store->key("record").has_value());
  uint64_t chunks = 0;
  const uint64_t bytes = store->for_each_chunk("m", 7, [&](uint64_t offset, std::span<const char> data) {
    BOOST_TEST(offset == chunks * 4096);
    BOOST_TEST(data.size() == 4096u);
    BOOST_TEST(data[0] == static_cast<char>('a' + chunks % 26));
    ++chunks;
  });
  BOOST_TEST(bytes == uint64_t{n} * 4096);
  // What was never persisted is gone with the process (its memtable).
  BOOST_TEST(store->for_each_chunk("m", 8, [](uint64_t, std::span<const char>) {}) == 0u);
}

BOOST_AUTO_TEST_CASE(kill_during_concurrent_synced_commits) {
  TempDir dir;
  const std::string path = dir / "db";
  Child child = spawn_child("threads", path, 100000);
  std::vector<std::set<uint32_t>> acked(kThreads);
  size_t total = 0;
  const int status = kill_after(
      child, [&] { return total >= 400; },
      [&] {
        uint32_t msg[2];
        if (!read_exact(child.fd, msg, sizeof msg)) return false;
        BOOST_TEST_REQUIRE(msg[0] < static_cast<uint32_t>(kThreads));
        acked[msg[0]].insert(msg[1]);
        ++total;
        return true;
      });
  BOOST_TEST(WIFSIGNALED(status));
  BOOST_TEST_REQUIRE(total >= 400u);
  auto store = Store::open(path);
  for (int t = 0; t < kThreads; ++t) {
    // Each thread's commits are sequential: what survives is 0..k, with every
    // acknowledged one, at most one more, and the model record of k.
    uint32_t k = 0;
    while (store->key(thread_key(t, k))) ++k;
    BOOST_TEST_REQUIRE(k > 0u, "thread " << t << " lost everything");
    const uint32_t max_acked = acked[t].empty() ? 0 : *acked[t].rbegin();
    BOOST_TEST(k >= max_acked + 1, "thread " << t << ": acknowledged commit " << max_acked << " is lost");
    BOOST_TEST(k <= max_acked + 2, "thread " << t);
    for (uint32_t i = 0; i < k; ++i)
      BOOST_TEST((store->key(thread_key(t, i)) == tagged_value(thread_key(t, i), i, 100 + i % 900)));
    BOOST_TEST(!store->key(thread_key(t, k + 1)), "thread " << t << " has a gap");
    BOOST_TEST(as_string(store->model(named("t", t))) == named("t", t) + ":" + std::to_string(k - 1));
  }
}

BOOST_AUTO_TEST_CASE(a_second_open_in_the_same_process_fails) {
  TempDir dir;
  const std::string path = dir / "db";
  auto first = Store::open(path);
  commit_one(*first, [](StoreBatch& b) { b.put_key("k", bytes("v")); });
  check_store_error([&] { Store::open(path); }, {path, "another fl-hub"});
  // The first handle still works, and the directory opens again once it is closed.
  BOOST_TEST(as_string(first->key("k")) == "v");
  first.reset();
  auto again = Store::open(path);
  BOOST_TEST(as_string(again->key("k")) == "v");
}

BOOST_AUTO_TEST_CASE(another_process_holding_the_store) {
  TempDir dir;
  const std::string path = dir / "db";
  Child child = spawn_child("hold", path);
  char ready = 0;
  BOOST_TEST_REQUIRE(read_exact(child.fd, &ready, 1));
  BOOST_TEST_REQUIRE(ready == 'R');
  check_store_error([&] { Store::open(path); }, {path, "another fl-hub", "LOCK"});
  const int status = kill_child(child);
  BOOST_TEST(WIFSIGNALED(status));
  // The lock dies with its process.
  BOOST_CHECK_NO_THROW(Store::open(path));
}

BOOST_AUTO_TEST_CASE(unusable_directories) {
  TempDir dir;
  { std::ofstream(dir / "file") << "not a directory"; }
  check_store_error([&] { Store::open(dir / "file"); }, {dir / "file"});
  check_store_error([&] { Store::open(dir / "file/db"); }, {dir / "file/db"});
}

BOOST_AUTO_TEST_CASE(a_fresh_store_has_schema_2) {
  TempDir dir;
  Store::open(dir / "db").reset();
  RawDb raw(dir / "db");
  BOOST_TEST((raw.get("meta", "schema") == std::optional<std::string>("2")));
  for (const char* f : {"models", "versions", "version_info", "server_state", "contributions", "chunks", "filter",
                        "pending", "uploads", "keys", "meta"})
    BOOST_TEST(raw.has_family(f), f);
}

BOOST_AUTO_TEST_CASE(a_schema_1_directory_is_refused_and_left_alone) {
  // The layout of the hubs before pieces and chunks.
  TempDir dir;
  const std::string path = dir / "db";
  {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const char* f :
         {"default", "meta", "models", "versions", "version_info", "contributions", "filter", "pending", "keys"})
      descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    BOOST_TEST_REQUIRE(rocksdb::DB::Open(options, path, descriptors, &handles, &db).ok());
    BOOST_TEST(db->Put(rocksdb::WriteOptions(), handles[1], "schema", "1").ok());
    BOOST_TEST(db->Put(rocksdb::WriteOptions(), handles[2], "m", "an old model record").ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close();
    delete db;
  }
  for (int attempt = 0; attempt < 2; ++attempt)
    check_store_error([&] { Store::open(path); }, {path, "older fedhub", "recreated"});
  RawDb raw(path);
  BOOST_TEST((raw.get("meta", "schema") == std::optional<std::string>("1")));
  BOOST_TEST(!raw.has_family("chunks"), "the refused directory got new families");
  BOOST_TEST(raw.family_names().size() == 9u);
}

BOOST_AUTO_TEST_CASE(a_newer_schema_is_refused) {
  TempDir dir;
  const std::string path = dir / "db";
  Store::open(path).reset();
  RawDb(path).put("meta", "schema", "3");
  check_store_error([&] { Store::open(path); }, {path, "schema 3", "reads schema 2"});
}

BOOST_AUTO_TEST_CASE(records_without_a_schema_are_refused) {
  TempDir dir;
  const std::string path = dir / "db";
  Store::open(path).reset();
  {
    RawDb raw(path);
    raw.put("keys", "k", "v");
    raw.erase("meta", "schema");
  }
  check_store_error([&] { Store::open(path); }, {path, "no storage schema"});
}

BOOST_AUTO_TEST_CASE(unknown_column_families_are_kept) {
  // A directory written by a newer hub with an extra family still opens.
  TempDir dir;
  const std::string path = dir / "db";
  {
    auto s = Store::open(path);
    commit_one(*s, [](StoreBatch& b) { b.put_key("k", bytes("v")); });
  }
  {
    RawDb raw(path);
    raw.create_family("from_the_future");
    raw.put("from_the_future", "x", "y");
  }
  {
    auto s = Store::open(path);
    BOOST_TEST(as_string(s->key("k")) == "v");
    commit_one(*s, [](StoreBatch& b) { b.put_key("k2", bytes("v2")); });
  }
  RawDb raw(path);
  BOOST_TEST((raw.get("from_the_future", "x") == std::optional<std::string>("y")));
  BOOST_TEST((raw.get("keys", "k2") == std::optional<std::string>("v2")));
}

BOOST_AUTO_TEST_CASE(a_missing_family_of_ours_is_created) {
  // As if a hub of this schema had been started before `uploads` existed.
  TempDir dir;
  const std::string path = dir / "db";
  Store::open(path).reset();
  {
    RawDb raw(path);
    BOOST_TEST_REQUIRE(raw.db().DropColumnFamily(raw.family("uploads")).ok());
  }
  {
    auto s = Store::open(path);
    commit_one(*s, [](StoreBatch& b) { b.put_upload("m", 1, bytes("u")); });
  }
  auto s = Store::open(path);
  BOOST_TEST(s->uploads("m").size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
