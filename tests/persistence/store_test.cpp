// The RocksDB store: records in, the same records out, in the documented
// order, without leaks between models or base versions.
#include <boost/test/unit_test.hpp>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "store_support.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

std::string as_string(const std::optional<Buffer>& b) { return b ? std::string(b->begin(), b->end()) : "<none>"; }
std::string as_string(const Buffer& b) { return std::string(b.begin(), b.end()); }
std::span<const char> bytes(const std::string& s) { return {s.data(), s.size()}; }

std::vector<std::string> strings(const std::vector<Buffer>& v) {
  std::vector<std::string> out;
  for (const auto& b : v) out.push_back(as_string(b));
  return out;
}

struct StoreFixture {
  TempDir dir;
  std::unique_ptr<Store> store = Store::open(dir / "db");

  void reopen() {
    store.reset();
    store = Store::open(dir / "db");
  }
  void put(const std::string& model, uint64_t base, const std::string& participant) {
    const std::string tag = model + "/" + std::to_string(base) + "/" + participant;
    store->put_contribution(model, base, participant, bytes("record:" + tag), bytes("summary:" + tag));
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(keys_layout)

BOOST_AUTO_TEST_CASE(version_key_bytes) {
  const std::string k = version_key("mdl", 0x0102030405060708ull);
  const std::string want = std::string("mdl") + '\0' + std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  BOOST_TEST(k == want);
  BOOST_TEST(version_key("a", 0) == std::string("a\0\0\0\0\0\0\0\0\0", 10));
  BOOST_TEST(version_key("a", 256) == std::string("a\0\0\0\0\0\0\0\x01\0", 10));
  BOOST_TEST(contribution_key("a", 1, "bob") == std::string("a\0\0\0\0\0\0\0\0\x01", 10) + "bob");
}

BOOST_AUTO_TEST_CASE(version_keys_sort_numerically) {
  // Big-endian: byte-wise order (RocksDB's comparator, std::string's) is
  // numeric order. (Parenthesised: BOOST_TEST would compare the strings
  // element by element as signed chars.)
  const uint64_t versions[] = {0, 1, 2, 127, 128, 255, 256, 257, 65535, 65536, 1ull << 32, (1ull << 63) + 5, ~0ull};
  for (size_t i = 0; i + 1 < std::size(versions); ++i)
    BOOST_TEST((version_key("m", versions[i]) < version_key("m", versions[i + 1])),
               versions[i] << " must sort before " << versions[i + 1]);
  // A model's keys never interleave with another's that extends its name.
  BOOST_TEST((version_key("a", ~0ull) < version_key("ab", 0)));
  BOOST_TEST(version_key("a", ~0ull).compare(0, 2, version_key("ab", 0), 0, 2) != 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(models_and_versions, StoreFixture)

BOOST_AUTO_TEST_CASE(create_and_read_a_model) {
  BOOST_TEST(!store->model("m"));
  BOOST_TEST(!store->version("m", 0));
  BOOST_TEST(store->models().empty());
  BOOST_TEST(store->version_infos("m").empty());
  store->create_model("m", bytes("record-m"), bytes("weights-0"), bytes("info-0"));
  BOOST_TEST(as_string(store->model("m")) == "record-m");
  BOOST_TEST(as_string(store->version("m", 0)) == "weights-0");
  BOOST_TEST(!store->version("m", 1));
  BOOST_TEST(strings(store->version_infos("m")) == std::vector<std::string>{"info-0"},
             boost::test_tools::per_element());
  BOOST_TEST(strings(store->models()) == std::vector<std::string>{"record-m"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(models_are_ordered_by_name) {
  for (const char* name : {"zeta", "Alpha", "beta", "b", "b.2", "0-first"})
    store->create_model(name, bytes(std::string("rec:") + name), bytes("w"), bytes("i"));
  const std::vector<std::string> want = {"rec:0-first", "rec:Alpha", "rec:b", "rec:b.2", "rec:beta", "rec:zeta"};
  BOOST_TEST(strings(store->models()) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(commit_versions) {
  store->create_model("m", bytes("rec0"), bytes("w0"), bytes("i0"));
  store->commit_version("m", 1, bytes("w1"), bytes("i1"), bytes("rec1"));
  BOOST_TEST(as_string(store->version("m", 1)) == "w1");
  BOOST_TEST(as_string(store->version("m", 0)) == "w0");
  BOOST_TEST(as_string(store->model("m")) == "rec1");
  BOOST_TEST(strings(store->version_infos("m")) == (std::vector<std::string>{"i0", "i1"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(version_infos_oldest_first_across_byte_boundaries) {
  store->create_model("m", bytes("rec"), bytes("w0"), bytes("info:0"));
  // Committed out of order; 256 must come after 255 (a little-endian or
  // decimal key would put it first).
  for (uint64_t v : {256ull, 2ull, 255ull, 1ull, 65536ull, 257ull, 10ull})
    store->commit_version("m", v, bytes(std::string("w") += std::to_string(v)),
                          bytes(std::string("info:") += std::to_string(v)), bytes("rec"));
  const std::vector<std::string> want = {"info:0",   "info:1",   "info:2",   "info:10",
                                         "info:255", "info:256", "info:257", "info:65536"};
  BOOST_TEST(strings(store->version_infos("m")) == want, boost::test_tools::per_element());
  BOOST_TEST(as_string(store->version("m", 256)) == "w256");
  BOOST_TEST(as_string(store->version("m", 65536)) == "w65536");
}

BOOST_AUTO_TEST_CASE(models_with_a_common_prefix_stay_apart) {
  store->create_model("a", bytes("rec-a"), bytes("a-w0"), bytes("a-i0"));
  store->create_model("ab", bytes("rec-ab"), bytes("ab-w0"), bytes("ab-i0"));
  store->create_model("a.b", bytes("rec-a.b"), bytes("a.b-w0"), bytes("a.b-i0"));
  store->commit_version("ab", 1, bytes("ab-w1"), bytes("ab-i1"), bytes("rec-ab1"));
  BOOST_TEST(strings(store->version_infos("a")) == std::vector<std::string>{"a-i0"}, boost::test_tools::per_element());
  BOOST_TEST(strings(store->version_infos("ab")) == (std::vector<std::string>{"ab-i0", "ab-i1"}),
             boost::test_tools::per_element());
  BOOST_TEST(!store->version("a", 1));
  BOOST_TEST(as_string(store->model("a")) == "rec-a");
  BOOST_TEST(!store->model("a."));
  BOOST_TEST(strings(store->version_infos("")).empty());
}

BOOST_AUTO_TEST_CASE(large_values) {
  const Buffer big = tagged_value("big", 1, 12 << 20);
  store->create_model("big", bytes("rec"), big, bytes("i"));
  BOOST_TEST((*store->version("big", 0) == big));
  reopen();
  BOOST_TEST((*store->version("big", 0) == big));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(contributions, StoreFixture)

BOOST_AUTO_TEST_CASE(put_has_count_summaries) {
  BOOST_TEST(!store->has_contribution("m", 0, "alice"));
  BOOST_TEST(store->count_contributions("m", 0) == 0u);
  put("m", 0, "carol");
  put("m", 0, "alice");
  put("m", 0, "bob");
  BOOST_TEST(store->has_contribution("m", 0, "alice"));
  BOOST_TEST(store->has_contribution("m", 0, "bob"));
  BOOST_TEST(!store->has_contribution("m", 0, "dave"));
  BOOST_TEST(!store->has_contribution("m", 1, "alice"));
  BOOST_TEST(!store->has_contribution("m", 0, "alic"));
  BOOST_TEST(!store->has_contribution("m", 0, "alice2"));
  BOOST_TEST(store->count_contributions("m", 0) == 3u);
  BOOST_TEST(store->count_contributions("m", 1) == 0u);
  const std::vector<std::string> want = {"summary:m/0/alice", "summary:m/0/bob", "summary:m/0/carol"};
  BOOST_TEST(strings(store->contribution_summaries("m", 0)) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(no_leaks_between_models_bases_or_participants) {
  put("a", 0, "p");
  put("a", 1, "p");
  put("a", 256, "q");
  put("ab", 0, "p");
  put("ab", 0, "p2");
  put("a.", 0, "x");
  BOOST_TEST(store->count_contributions("a", 0) == 1u);
  BOOST_TEST(store->count_contributions("a", 1) == 1u);
  BOOST_TEST(store->count_contributions("a", 256) == 1u);
  BOOST_TEST(store->count_contributions("a", 255) == 0u);
  BOOST_TEST(store->count_contributions("ab", 0) == 2u);
  BOOST_TEST(strings(store->contribution_summaries("a", 0)) == std::vector<std::string>{"summary:a/0/p"},
             boost::test_tools::per_element());
  BOOST_TEST(strings(store->contribution_summaries("a", 256)) == std::vector<std::string>{"summary:a/256/q"},
             boost::test_tools::per_element());
  std::vector<std::string> seen;
  BOOST_TEST(store->for_each_contribution(
                 "a", 0, [&](std::span<const char> r) { seen.emplace_back(r.begin(), r.end()); }) == 1u);
  BOOST_TEST(seen == std::vector<std::string>{"record:a/0/p"}, boost::test_tools::per_element());
  seen.clear();
  store->for_each_contribution("ab", 0, [&](std::span<const char> r) { seen.emplace_back(r.begin(), r.end()); });
  BOOST_TEST(seen == (std::vector<std::string>{"record:ab/0/p", "record:ab/0/p2"}), boost::test_tools::per_element());
  BOOST_TEST(!store->has_contribution("ab", 1, "p"));
  BOOST_TEST(store->has_contribution("a.", 0, "x"));
  BOOST_TEST(!store->has_contribution("a", 0, "x"));
}

BOOST_AUTO_TEST_CASE(for_each_visits_in_participant_order_with_aligned_spans) {
  std::vector<Buffer> want;
  const std::vector<std::string> names = {"d", "a", "c", "b", "e"};
  std::map<std::string, Buffer> by_name;
  for (size_t i = 0; i < names.size(); ++i) {
    // Sizes that are not multiples of anything, including a large one.
    by_name[names[i]] = tagged_value("rec-" + names[i], i, i == 2 ? (3 << 20) + 5 : 1 + 37 * i);
    store->put_contribution("m", 7, names[i], by_name[names[i]], bytes("s"));
  }
  std::vector<std::string> order;
  size_t visited = store->for_each_contribution("m", 7, [&](std::span<const char> r) {
    BOOST_TEST(is_aligned_16(r.data()));
    const std::string head(r.data(), std::min<size_t>(r.size(), 5));
    const std::string name = head.substr(4, 1);
    order.push_back(name);
    BOOST_TEST((Buffer(r.begin(), r.end()) == by_name.at(name)), "record of " << name);
  });
  BOOST_TEST(visited == 5u);
  BOOST_TEST(order == (std::vector<std::string>{"a", "b", "c", "d", "e"}), boost::test_tools::per_element());
  BOOST_TEST(store->for_each_contribution("m", 8, [](std::span<const char>) { BOOST_ERROR("nothing to visit"); }) ==
             0u);
}

BOOST_AUTO_TEST_CASE(for_each_reads_from_a_snapshot) {
  put("m", 0, "b");
  put("m", 0, "d");
  std::vector<std::string> seen;
  const size_t n = store->for_each_contribution("m", 0, [&](std::span<const char> r) {
    seen.emplace_back(r.begin(), r.end());
    if (seen.size() == 1) {
      put("m", 0, "c");  // after the current position
      put("m", 0, "z");
      put("m", 0, "a");  // before it
      store->put_contribution("m", 0, "d", bytes("record:changed"), bytes("s"));
    }
  });
  BOOST_TEST(n == 2u);
  BOOST_TEST(seen == (std::vector<std::string>{"record:m/0/b", "record:m/0/d"}), boost::test_tools::per_element());
  // Everything written during the visit is there afterwards.
  BOOST_TEST(store->count_contributions("m", 0) == 5u);
  seen.clear();
  store->for_each_contribution("m", 0, [&](std::span<const char> r) { seen.emplace_back(r.begin(), r.end()); });
  const std::vector<std::string> after = {"record:m/0/a", "record:m/0/b", "record:m/0/c", "record:changed",
                                          "record:m/0/z"};
  BOOST_TEST(seen == after, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_exception_in_the_visitor_propagates) {
  put("m", 0, "a");
  put("m", 0, "b");
  int calls = 0;
  BOOST_CHECK_THROW(store->for_each_contribution("m", 0,
                                                 [&](std::span<const char>) {
                                                   ++calls;
                                                   throw std::runtime_error("stop");
                                                 }),
                    std::runtime_error);
  BOOST_TEST(calls == 1);
  // The store is still usable (the snapshot was released).
  put("m", 0, "c");
  BOOST_TEST(store->count_contributions("m", 0) == 3u);
}

BOOST_AUTO_TEST_CASE(concurrent_writers) {
  auto writer = [&](int t) {
    for (int i = 0; i < 40; ++i) {
      std::string name = "t";
      name += std::to_string(t);
      name += '-';
      name += std::to_string(i);
      put("m", 3, name);
    }
  };
  std::thread a(writer, 0), b(writer, 1);
  a.join();
  b.join();
  BOOST_TEST(store->count_contributions("m", 3) == 80u);
  BOOST_TEST(store->contribution_summaries("m", 3).size() == 80u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(api_keys, StoreFixture)

BOOST_AUTO_TEST_CASE(put_get_list) {
  BOOST_TEST(!store->key("alice"));
  BOOST_TEST(store->keys().empty());
  store->put_key("bob", bytes("key-bob"));
  store->put_key("alice", bytes("key-alice"));
  store->put_key("alice", bytes("key-alice-revoked"));  // an update replaces
  BOOST_TEST(as_string(store->key("alice")) == "key-alice-revoked");
  BOOST_TEST(as_string(store->key("bob")) == "key-bob");
  BOOST_TEST(!store->key("al"));
  BOOST_TEST(strings(store->keys()) == (std::vector<std::string>{"key-alice-revoked", "key-bob"}),
             boost::test_tools::per_element());
  // Keys live in their own family: no model of that name appears.
  BOOST_TEST(!store->model("alice"));
  BOOST_TEST(store->models().empty());
}

BOOST_AUTO_TEST_SUITE_END()
