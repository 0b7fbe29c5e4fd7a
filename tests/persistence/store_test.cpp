// The RocksDB store's reads after its typed writes: values in, the same
// values out, in the documented order, without leaks between models whose
// names are prefixes of each other, versions, bases or uploads.
#include <boost/test/unit_test.hpp>
#include <map>

#include "store_support.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

std::vector<std::string> strings(const std::vector<Buffer>& v) {
  std::vector<std::string> out;
  for (const auto& b : v) out.push_back(as_string(b));
  return out;
}

template <class N>
std::vector<std::pair<N, std::string>> strings(const std::vector<std::pair<N, Buffer>>& v) {
  std::vector<std::pair<N, std::string>> out;
  for (const auto& [n, b] : v) out.emplace_back(n, as_string(b));
  return out;
}

// A small memtable, so that the multi-MiB values of these tests are flushed
// into blob and table files and read back from them, not only from memory.
StoreOptions small_options() {
  StoreOptions o;
  o.write_buffer_bytes = 1 << 20;
  o.min_blob_bytes = 64 << 10;
  return o;
}

struct StoreFixture {
  TempDir dir;
  std::unique_ptr<Store> store = Store::open(dir / "db", small_options());

  void reopen() {
    store.reset();
    store = Store::open(dir / "db", small_options());
  }
  template <class Fill>
  void commit(Fill&& fill) {
    commit_one(*store, fill);
  }
  void contribute(const std::string& model, uint64_t base, const std::string& participant,
                  std::optional<uint64_t> seq = std::nullopt) {
    const std::string tag = model + "/" + std::to_string(base) + "/" + participant;
    commit([&](StoreBatch& b) {
      b.put_contribution(model, base, participant, bytes("record:" + tag), bytes("summary:" + tag), seq);
    });
  }
  std::vector<std::pair<uint64_t, std::string>> chunks(const std::string& model, uint64_t upload) {
    std::vector<std::pair<uint64_t, std::string>> out;
    store->for_each_chunk(model, upload, [&](uint64_t offset, std::span<const char> b) {
      out.emplace_back(offset, std::string(b.begin(), b.end()));
    });
    return out;
  }
  // The StoreError message of f(), or "" when it does not throw one.
  template <class F>
  std::string store_error(F&& f) {
    try {
      f();
    } catch (const StoreError& e) {
      return e.what();
    }
    return "";
  }
  // Damages a version by erasing or replacing one piece directly.
  void erase_piece(const std::string& model, uint64_t version, uint32_t piece) {
    StoreBatch b;
    b.ops().push_back(
        {StoreBatch::Kind::erase, Family::versions, version_key(model, version) + std::string(4, '\0'), {}});
    b.ops().back().key.back() = static_cast<char>(piece);  // pieces < 256 here
    store->commit(b);
  }
};

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(reads, StoreFixture)

BOOST_AUTO_TEST_CASE(an_empty_store_has_nothing) {
  BOOST_TEST(!store->model("m"));
  BOOST_TEST(store->models().empty());
  BOOST_TEST(!store->latest_version("m"));
  BOOST_TEST(store->version_infos("m").empty());
  BOOST_TEST(store->stored_versions("m").empty());
  char out[4];
  BOOST_TEST(!store->read_version("m", 0, 0, out));
  BOOST_TEST(!store->read_version("m", 0, 0, std::span<char>()));
  BOOST_TEST(!store->read_version("m", 3, 5 * uint64_t{kPieceBytes}, out));  // a piece other than 0
  BOOST_TEST(!store->server_state("m"));
  BOOST_TEST(!store->contribution("m", 0, "alice"));
  BOOST_TEST(store->for_each_chunk("m", 0, [](uint64_t, std::span<const char>) { BOOST_ERROR("a chunk"); }) == 0u);
  BOOST_TEST(store->pending("m").empty());
  BOOST_TEST(store->next_pending_seq("m") == 0u);
  BOOST_TEST(store->contribution_summaries("m", 0).empty());
  BOOST_TEST(store->summaries_from("m", 0).empty());
  BOOST_TEST(store->uploads("m").empty());
  BOOST_TEST(!store->key("k"));
  BOOST_TEST(store->keys().empty());
}

BOOST_AUTO_TEST_CASE(models_are_replaced_and_ordered_by_name) {
  for (const char* name : {"zeta", "Alpha", "beta", "b", "b.2", "0-first"})
    commit([&](StoreBatch& b) { b.put_model(name, bytes(std::string("rec:") + name)); });
  commit([&](StoreBatch& b) { b.put_model("beta", bytes("rec:beta-2")); });
  const std::vector<std::string> want = {"rec:0-first", "rec:Alpha", "rec:b", "rec:b.2", "rec:beta-2", "rec:zeta"};
  BOOST_TEST(strings(store->models()) == want, boost::test_tools::per_element());
  BOOST_TEST(as_string(store->model("beta")) == "rec:beta-2");
  BOOST_TEST(!store->model("bet"));
}

BOOST_AUTO_TEST_CASE(versions_of_every_size_round_trip) {
  const size_t P = kPieceBytes;
  const std::vector<size_t> sizes = {0, 1, 100, P - 1, P, P + 1, 2 * P - 1, 2 * P, 2 * P + 1};
  for (size_t v = 0; v < sizes.size(); ++v)
    commit([&](StoreBatch& b) { b.put_version("m", v, tagged_value("package", v, sizes[v])); });
  for (int round = 0; round < 2; ++round) {  // from memory and blob files, then after a reopen
    std::vector<uint64_t> want(sizes.size());
    for (size_t v = 0; v < sizes.size(); ++v) want[v] = v;
    BOOST_TEST(store->stored_versions("m") == want, boost::test_tools::per_element());
    for (size_t v = 0; v < sizes.size(); ++v)
      BOOST_TEST((read_whole_version(*store, "m", v, sizes[v]) == tagged_value("package", v, sizes[v])),
                 "version " << v << " of " << sizes[v] << " bytes");
    reopen();
  }
  // One byte more than stored is a range past the end.
  BOOST_TEST(contains(store_error([&] { read_whole_version(*store, "m", 2, 101); }), "damaged"));
  BOOST_TEST(contains(store_error([&] { read_whole_version(*store, "m", 4, P + 1); }), "damaged"));
}

BOOST_AUTO_TEST_CASE(read_version_reads_ranges_across_pieces) {
  const size_t P = kPieceBytes;
  const Buffer package = tagged_value("package", 7, 3 * P + 1234);
  commit([&](StoreBatch& b) { b.put_version("m", 7, package); });
  const std::vector<std::pair<uint64_t, size_t>> ranges = {
      {0, 0},     {0, 1},          {0, P},        {P - 1, 2},        {P - 10, P + 20},  {P, P},
      {1, 3 * P}, {2 * P + 5, 17}, {3 * P, 1234}, {3 * P + 1233, 1}, {0, 3 * P + 1234}, {3 * P + 1234, 0}};
  for (const auto& [offset, len] : ranges) {
    Buffer out(len, 'x');
    BOOST_TEST_REQUIRE(store->read_version("m", 7, offset, out), "offset " << offset << " length " << len);
    BOOST_TEST((out == Buffer(package.begin() + offset, package.begin() + offset + len)),
               "offset " << offset << " length " << len);
  }
  Buffer out(2);
  BOOST_TEST(contains(store_error([&] { store->read_version("m", 7, 3 * P + 1233, out); }), "damaged"));
  BOOST_TEST(contains(store_error([&] { store->read_version("m", 7, 9 * P, out); }), "damaged"));
  BOOST_TEST(contains(store_error([&] { store->read_version("m", 7, ~0ull - 1, out); }), "overflows"));
  // Version 8 does not exist, whatever the range.
  BOOST_TEST(!store->read_version("m", 8, 2 * P, out));
  BOOST_TEST(!store->read_version("m", 6, 0, out));
}

BOOST_AUTO_TEST_CASE(missing_or_short_pieces_are_damage) {
  const size_t P = kPieceBytes;
  for (uint64_t v = 1; v <= 3; ++v)
    commit([&](StoreBatch& b) { b.put_version("m", v, tagged_value("package", v, 3 * P)); });
  erase_piece("m", 1, 1);  // a hole in the middle
  Buffer all(3 * P);
  auto why = store_error([&] { store->read_version("m", 1, 0, all); });
  BOOST_TEST(contains(why, "damaged"), why);
  BOOST_TEST(contains(why, "piece 1"), why);
  BOOST_TEST(contains(why, dir.path()), why);
  Buffer head(P);  // piece 0 alone is intact
  BOOST_TEST(store->read_version("m", 1, 0, head));
  // A short piece before the last one.
  commit([&](StoreBatch& b) { b.put_version_piece("m", 2, 1, bytes("short")); });
  Buffer across(P + 10);  // pieces 1 and 2
  why = store_error([&] { store->read_version("m", 2, P, across); });
  BOOST_TEST(contains(why, "damaged"), why);
  BOOST_TEST(contains(why, "piece 1"), why);
  Buffer five(5);
  BOOST_TEST(store->read_version("m", 2, P, five));  // the short piece's own bytes are readable
  BOOST_TEST(as_string(five) == "short");
  // Without piece 0 the version's weights are not stored: false, not damage,
  // when a missing piece is met; its other pieces are not looked at.
  erase_piece("m", 3, 0);
  BOOST_TEST(!store->read_version("m", 3, 0, all));
  BOOST_TEST(!store->read_version("m", 3, 0, std::span<char>()));
  BOOST_TEST((store->stored_versions("m") == std::vector<uint64_t>{1, 2}));
  reopen();
  BOOST_TEST(contains(store_error([&] { store->read_version("m", 1, 0, all); }), "damaged"));
}

BOOST_AUTO_TEST_CASE(a_version_written_piece_by_piece) {
  const size_t P = kPieceBytes;
  const Buffer package = tagged_value("package", 4, 2 * P + 99);
  commit([&](StoreBatch& b) {
    for (uint32_t i = 0; i < 3; ++i)
      b.put_version_piece("m", 4, i,
                          std::span<const char>(package).subspan(i * P, std::min<size_t>(P, package.size() - i * P)));
  });
  BOOST_TEST((read_whole_version(*store, "m", 4, package.size()) == package));
}

BOOST_AUTO_TEST_CASE(latest_version_and_infos_in_numeric_order) {
  BOOST_TEST(!store->latest_version("m"));
  for (uint64_t v : {256ull, 2ull, 255ull, 1ull, 65536ull, 257ull, 0ull, 10ull})
    commit([&](StoreBatch& b) { b.put_version_info("m", v, bytes("info:" + std::to_string(v))); });
  const std::vector<std::string> want = {"info:0",   "info:1",   "info:2",   "info:10",
                                         "info:255", "info:256", "info:257", "info:65536"};
  BOOST_TEST(strings(store->version_infos("m")) == want, boost::test_tools::per_element());
  BOOST_TEST((store->latest_version("m") == 65536u));
  // Neighbours on both sides of "m" do not count.
  commit([&](StoreBatch& b) {
    b.put_version_info("m2", 1ull << 40, bytes("m2"));
    b.put_version_info("l", 99999999, bytes("l"));
    b.put_version_info("m.", ~0ull, bytes("m."));
  });
  BOOST_TEST((store->latest_version("m") == 65536u));
  BOOST_TEST((store->latest_version("m2") == 1ull << 40));
  BOOST_TEST((store->latest_version("m.") == ~0ull));
  BOOST_TEST(!store->latest_version(""));
  BOOST_TEST(!store->latest_version("n"));
  BOOST_TEST(store->version_infos("m").size() == want.size());
}

BOOST_AUTO_TEST_CASE(erasing_a_version_keeps_its_info_and_its_neighbours) {
  const size_t P = kPieceBytes;
  for (const std::string model : {"m", "m2", "m.x"})
    for (uint64_t v = 0; v < 3; ++v)
      commit([&](StoreBatch& b) {
        b.put_version(model, v, tagged_value(model, v, P + 10 * v));
        b.put_version_info(model, v, bytes(model + "-info"));
      });
  commit([&](StoreBatch& b) { b.erase_version_pieces("m", 1); });
  BOOST_TEST((store->stored_versions("m") == std::vector<uint64_t>{0, 2}));
  BOOST_TEST((store->stored_versions("m2") == std::vector<uint64_t>{0, 1, 2}));
  BOOST_TEST((store->stored_versions("m.x") == std::vector<uint64_t>{0, 1, 2}));
  BOOST_TEST(!read_whole_version(*store, "m", 1, P + 10));
  BOOST_TEST((read_whole_version(*store, "m", 0, P) == tagged_value("m", 0, P)));
  BOOST_TEST((read_whole_version(*store, "m", 2, P + 20) == tagged_value("m", 2, P + 20)));
  BOOST_TEST((read_whole_version(*store, "m2", 1, P + 10) == tagged_value("m2", 1, P + 10)));
  BOOST_TEST(store->version_infos("m").size() == 3u);
  BOOST_TEST((store->latest_version("m") == 2u));
  commit([&](StoreBatch& b) {
    b.erase_version_pieces("m", 0);
    b.erase_version_pieces("m", 2);
    b.erase_version_pieces("m", 5);  // nothing there
  });
  BOOST_TEST(store->stored_versions("m").empty());
  BOOST_TEST((store->stored_versions("m2") == std::vector<uint64_t>{0, 1, 2}));
  reopen();
  BOOST_TEST(store->stored_versions("m").empty());
  BOOST_TEST((store->stored_versions("m.x") == std::vector<uint64_t>{0, 1, 2}));
}

BOOST_AUTO_TEST_CASE(server_state_replacement_leaves_no_stale_pieces) {
  const size_t P = kPieceBytes;
  BOOST_TEST(!store->server_state("m"));
  const Buffer big = tagged_value("state", 1, 3 * P - 7);  // three pieces
  commit([&](StoreBatch& b) {
    b.put_server_state("m", big);
    b.put_server_state("m2", bytes("m2-state"));
    b.put_server_state("m.", bytes("m.-state"));
  });
  BOOST_TEST((store->server_state("m") == big));
  const Buffer small = tagged_value("state", 2, 100);  // one piece: pieces 1 and 2 must go
  commit([&](StoreBatch& b) { b.put_server_state("m", small); });
  BOOST_TEST((store->server_state("m") == small));
  reopen();
  BOOST_TEST((store->server_state("m") == small));
  BOOST_TEST(as_string(store->server_state("m2")) == "m2-state");
  BOOST_TEST(as_string(store->server_state("m.")) == "m.-state");
  const Buffer two = tagged_value("state", 3, P + 1);
  commit([&](StoreBatch& b) { b.put_server_state("m", two); });
  BOOST_TEST((store->server_state("m") == two));
  commit([&](StoreBatch& b) { b.put_server_state("m", {}); });  // empty, but present
  BOOST_TEST_REQUIRE(store->server_state("m").has_value());
  BOOST_TEST(store->server_state("m")->empty());
  BOOST_TEST(as_string(store->server_state("m2")) == "m2-state");
}

BOOST_AUTO_TEST_CASE(a_damaged_server_state_is_an_error) {
  const size_t P = kPieceBytes;
  commit([&](StoreBatch& b) { b.put_server_state("m", tagged_value("state", 1, 2 * P + 1)); });
  StoreBatch damage;  // piece 1 erased directly
  damage.ops().push_back({StoreBatch::Kind::erase, Family::server_state, std::string("m\0\0\0\0\x01", 6), {}});
  store->commit(damage);
  const auto why = store_error([&] { store->server_state("m"); });
  BOOST_TEST(contains(why, "damaged"), why);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(contributions, StoreFixture)

BOOST_AUTO_TEST_CASE(a_contribution_with_and_without_pending) {
  contribute("m", 1, "alice", 0);
  contribute("m", 1, "bob");
  BOOST_TEST(as_string(store->contribution("m", 1, "alice")) == "record:m/1/alice");
  BOOST_TEST(as_string(store->contribution("m", 1, "bob")) == "record:m/1/bob");
  BOOST_TEST(!store->contribution("m", 0, "alice"));
  BOOST_TEST(!store->contribution("m", 1, "ali"));
  BOOST_TEST(!store->contribution("m2", 1, "alice"));
  BOOST_TEST((strings(store->contribution_summaries("m", 1)) ==
              std::vector<std::string>{"summary:m/1/alice", "summary:m/1/bob"}));
  BOOST_TEST((strings(store->pending("m")) == std::vector<std::pair<uint64_t, std::string>>{{0, "summary:m/1/alice"}}));
  BOOST_TEST(store->next_pending_seq("m") == 1u);
}

BOOST_AUTO_TEST_CASE(pending_in_sequence_order) {
  for (uint64_t seq : {256ull, 3ull, 255ull, 65536ull, 0ull}) contribute("m", 0, named("p", seq), seq);
  contribute("m2", 0, "other", 1ull << 50);
  contribute("l", 0, "other", 7);
  const std::vector<std::pair<uint64_t, std::string>> want = {{0, "summary:m/0/p0"},
                                                              {3, "summary:m/0/p3"},
                                                              {255, "summary:m/0/p255"},
                                                              {256, "summary:m/0/p256"},
                                                              {65536, "summary:m/0/p65536"}};
  BOOST_TEST((strings(store->pending("m")) == want));
  BOOST_TEST(store->next_pending_seq("m") == 65537u);
  BOOST_TEST(store->next_pending_seq("m2") == (1ull << 50) + 1);
  BOOST_TEST(store->next_pending_seq("l") == 8u);
  BOOST_TEST(store->next_pending_seq("m.") == 0u);
  // The highest one merged: next_pending_seq follows what is left.
  commit([&](StoreBatch& b) { b.erase_merged("m", 0, "p65536", 65536, 1); });
  BOOST_TEST(store->next_pending_seq("m") == 257u);
  BOOST_TEST(store->pending("m").size() == 4u);
}

BOOST_AUTO_TEST_CASE(summaries_by_base_then_participant) {
  for (uint64_t base : {2ull, 0ull, 256ull, 1ull})
    for (const char* p : {"carol", "alice", "bob"}) contribute("m", base, p);
  contribute("m2", 1, "zed");
  contribute("m.", 300, "zed");
  BOOST_TEST((strings(store->contribution_summaries("m", 1)) ==
              std::vector<std::string>{"summary:m/1/alice", "summary:m/1/bob", "summary:m/1/carol"}));
  BOOST_TEST(store->contribution_summaries("m", 3).empty());
  const auto from2 = strings(store->summaries_from("m", 2));
  const std::vector<std::pair<uint64_t, std::string>> want = {{2, "summary:m/2/alice"},   {2, "summary:m/2/bob"},
                                                              {2, "summary:m/2/carol"},   {256, "summary:m/256/alice"},
                                                              {256, "summary:m/256/bob"}, {256, "summary:m/256/carol"}};
  BOOST_TEST((from2 == want));
  BOOST_TEST(store->summaries_from("m", 0).size() == 12u);
  BOOST_TEST(store->summaries_from("m", 257).empty());
  BOOST_TEST((strings(store->summaries_from("m2", 0)) ==
              std::vector<std::pair<uint64_t, std::string>>{{1, "summary:m2/1/zed"}}));
  BOOST_TEST(store->summaries_from("m.", 301).empty());
}

BOOST_AUTO_TEST_CASE(chunks_in_offset_order_aligned_and_apart) {
  // Out of order, across byte boundaries of the offset, sizes that grow and
  // shrink (the reused buffer must not show old bytes).
  const std::vector<uint64_t> offsets = {65536, 0, 256, 255, 1ull << 40, 70000};
  std::map<uint64_t, Buffer> want;
  for (size_t i = 0; i < offsets.size(); ++i) {
    const size_t size = i % 2 ? 3 : (300000 >> i) + 1;
    want[offsets[i]] = tagged_value("chunk", offsets[i], size);
    commit([&](StoreBatch& b) { b.put_chunk("m", 1, offsets[i], want[offsets[i]]); });
  }
  // Neighbours: upload 0 and 2, 256 (a byte boundary), the same upload of "m2" and "m.".
  commit([&](StoreBatch& b) {
    for (uint64_t upload : {0ull, 2ull, 256ull}) b.put_chunk("m", upload, 0, bytes("m-" + std::to_string(upload)));
    b.put_chunk("m2", 1, 5, bytes("m2"));
    b.put_chunk("m.", 1, 5, bytes("m."));
  });
  for (int round = 0; round < 2; ++round) {
    std::vector<uint64_t> seen;
    uint64_t total = 0;
    const uint64_t n = store->for_each_chunk("m", 1, [&](uint64_t offset, std::span<const char> b) {
      BOOST_TEST(is_aligned_16(b.data()));
      BOOST_TEST((Buffer(b.begin(), b.end()) == want.at(offset)), "chunk at " << offset);
      seen.push_back(offset);
      total += b.size();
    });
    std::vector<uint64_t> sorted;
    for (const auto& [offset, value] : want) sorted.push_back(offset);
    BOOST_TEST(seen == sorted, boost::test_tools::per_element());
    BOOST_TEST(n == total);
    reopen();
  }
  BOOST_TEST((chunks("m", 2) == std::vector<std::pair<uint64_t, std::string>>{{0, "m-2"}}));
  BOOST_TEST((chunks("m2", 1) == std::vector<std::pair<uint64_t, std::string>>{{5, "m2"}}));
  commit([&](StoreBatch& b) { b.erase_chunks("m", 1); });
  BOOST_TEST(chunks("m", 1).empty());
  BOOST_TEST((chunks("m", 0) == std::vector<std::pair<uint64_t, std::string>>{{0, "m-0"}}));
  BOOST_TEST((chunks("m", 2) == std::vector<std::pair<uint64_t, std::string>>{{0, "m-2"}}));
  BOOST_TEST((chunks("m", 256) == std::vector<std::pair<uint64_t, std::string>>{{0, "m-256"}}));
  BOOST_TEST((chunks("m2", 1) == std::vector<std::pair<uint64_t, std::string>>{{5, "m2"}}));
  BOOST_TEST((chunks("m.", 1) == std::vector<std::pair<uint64_t, std::string>>{{5, "m."}}));
}

BOOST_AUTO_TEST_CASE(for_each_chunk_reads_one_snapshot) {
  commit([&](StoreBatch& b) {
    b.put_chunk("m", 1, 0, bytes("a"));
    b.put_chunk("m", 1, 10, bytes("b"));
  });
  std::vector<uint64_t> seen;
  store->for_each_chunk("m", 1, [&](uint64_t offset, std::span<const char>) {
    seen.push_back(offset);
    if (offset == 0)  // written during the walk: not seen by it
      commit([&](StoreBatch& b) {
        b.put_chunk("m", 1, 5, bytes("new"));
        b.erase_chunks("m", 1);
      });
  });
  BOOST_TEST((seen == std::vector<uint64_t>{0, 10}));
  BOOST_TEST(chunks("m", 1).empty());
}

BOOST_AUTO_TEST_CASE(an_exception_from_visit_propagates) {
  commit([&](StoreBatch& b) {
    for (uint64_t o = 0; o < 5; ++o) b.put_chunk("m", 1, o, bytes("x"));
  });
  int calls = 0;
  BOOST_CHECK_THROW(store->for_each_chunk("m", 1,
                                          [&](uint64_t, std::span<const char>) {
                                            if (++calls == 2) throw std::runtime_error("stop");
                                          }),
                    std::runtime_error);
  BOOST_TEST(calls == 2);
  BOOST_TEST(chunks("m", 1).size() == 5u);  // the store still works
  reopen();                                 // and closes (the snapshot was released: RocksDB asserts otherwise)
}

BOOST_AUTO_TEST_CASE(erase_merged_removes_record_pending_and_chunks) {
  contribute("m", 3, "alice", 10);
  contribute("m", 3, "bob", 11);
  contribute("m2", 3, "alice", 10);
  commit([&](StoreBatch& b) {
    b.put_chunk("m", 7, 0, bytes("alice-0"));
    b.put_chunk("m", 7, 100, bytes("alice-1"));
    b.put_chunk("m", 8, 0, bytes("bob-0"));
    b.put_chunk("m2", 7, 0, bytes("m2-alice"));
  });
  commit([&](StoreBatch& b) { b.erase_merged("m", 3, "alice", 10, 7); });
  BOOST_TEST(!store->contribution("m", 3, "alice"));
  BOOST_TEST(chunks("m", 7).empty());
  BOOST_TEST((strings(store->pending("m")) == std::vector<std::pair<uint64_t, std::string>>{{11, "summary:m/3/bob"}}));
  // The filter summary stays (a duplicate is still refused).
  BOOST_TEST((strings(store->contribution_summaries("m", 3)) ==
              std::vector<std::string>{"summary:m/3/alice", "summary:m/3/bob"}));
  // Nothing else moved.
  BOOST_TEST(as_string(store->contribution("m", 3, "bob")) == "record:m/3/bob");
  BOOST_TEST((chunks("m", 8) == std::vector<std::pair<uint64_t, std::string>>{{0, "bob-0"}}));
  BOOST_TEST(as_string(store->contribution("m2", 3, "alice")) == "record:m2/3/alice");
  BOOST_TEST((chunks("m2", 7) == std::vector<std::pair<uint64_t, std::string>>{{0, "m2-alice"}}));
  BOOST_TEST(store->pending("m2").size() == 1u);
}

BOOST_AUTO_TEST_CASE(upload_records) {
  commit([&](StoreBatch& b) {
    b.put_upload("m", 256, bytes("u256"));
    b.put_upload("m", 2, bytes("u2"));
    b.put_upload("m2", 2, bytes("m2-u2"));
    b.put_upload("m", 0, bytes("u0"));
  });
  BOOST_TEST((strings(store->uploads("m")) ==
              std::vector<std::pair<uint64_t, std::string>>{{0, "u0"}, {2, "u2"}, {256, "u256"}}));
  commit([&](StoreBatch& b) {
    b.erase_upload("m", 2);
    b.put_upload("m", 0, bytes("u0-again"));
  });
  BOOST_TEST(
      (strings(store->uploads("m")) == std::vector<std::pair<uint64_t, std::string>>{{0, "u0-again"}, {256, "u256"}}));
  BOOST_TEST((strings(store->uploads("m2")) == std::vector<std::pair<uint64_t, std::string>>{{2, "m2-u2"}}));
  BOOST_TEST(store->uploads("m.").empty());
}

BOOST_AUTO_TEST_CASE(api_keys) {
  commit([&](StoreBatch& b) {
    b.put_key("org-2", bytes("k2"));
    b.put_key("manager", bytes("km"));
    b.put_key("org-1@x", bytes("k1"));
  });
  commit([&](StoreBatch& b) { b.put_key("org-2", bytes("k2-revoked")); });
  BOOST_TEST(as_string(store->key("org-2")) == "k2-revoked");
  BOOST_TEST(!store->key("org"));
  BOOST_TEST((strings(store->keys()) == std::vector<std::string>{"km", "k1", "k2-revoked"}));
}

BOOST_AUTO_TEST_SUITE_END()
