// StoreBatch as plain data: the keys of the layout (persistence/store.hpp),
// byte for byte, the split of packages into pieces, and the ranges erased.
#include <boost/test/unit_test.hpp>

#include "store_support.hpp"

using namespace fedhub;
using namespace fedhub::test;
using Kind = StoreBatch::Kind;

namespace {

std::string be64(uint64_t v) {
  std::string s;
  for (int shift = 56; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
  return s;
}

std::string be32(uint32_t v) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
  return s;
}

const std::string Z(1, '\0');

std::string value_of(const StoreBatch::Op& op) { return as_string(op.value); }

// (Parenthesised comparisons: BOOST_TEST would compare strings element by
// element as signed chars.)
void check_op(const StoreBatch::Op& op, Kind kind, Family family, const std::string& key, const std::string& value) {
  BOOST_TEST((op.kind == kind));
  BOOST_TEST((op.family == family));
  BOOST_TEST((op.key == key), "key of " << op.key.size() << " bytes");
  BOOST_TEST((value_of(op) == value), "value of " << op.value.size() << " bytes");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(batch_layout)

BOOST_AUTO_TEST_CASE(version_and_contribution_keys) {
  BOOST_TEST(
      (version_key("mdl", 0x0102030405060708ull) == "mdl" + Z + std::string("\x01\x02\x03\x04\x05\x06\x07\x08")));
  BOOST_TEST((version_key("a", 0) == std::string("a\0\0\0\0\0\0\0\0\0", 10)));
  BOOST_TEST((version_key("a", 256) == std::string("a\0\0\0\0\0\0\0\x01\0", 10)));
  BOOST_TEST((contribution_key("a", 1, "bob") == std::string("a\0\0\0\0\0\0\0\0\x01", 10) + "bob"));
}

BOOST_AUTO_TEST_CASE(keys_sort_numerically) {
  const uint64_t numbers[] = {0, 1, 2, 127, 128, 255, 256, 257, 65535, 65536, 1ull << 32, (1ull << 63) + 5, ~0ull};
  for (size_t i = 0; i + 1 < std::size(numbers); ++i)
    BOOST_TEST((version_key("m", numbers[i]) < version_key("m", numbers[i + 1])),
               numbers[i] << " must sort before " << numbers[i + 1]);
  // A model's keys never interleave with another's that extends its name.
  BOOST_TEST((version_key("a", ~0ull) < version_key("ab", 0)));
  BOOST_TEST((version_key("a", ~0ull) < version_key("a.", 0)));
}

BOOST_AUTO_TEST_CASE(typed_operations_build_the_layout) {
  StoreBatch b;
  b.put_model("m", bytes("rec"));
  b.put_version_info("m", 3, bytes("info"));
  b.put_version_piece("m", 3, 7, bytes("piece"));
  b.put_contribution("m", 2, "alice", bytes("record"), bytes("summary"), 9);
  b.put_contribution("m", 2, "bob", bytes("record-b"), bytes("summary-b"));
  b.put_chunk("m", 5, 0x10000, bytes("chunk"));
  b.put_upload("m", 5, bytes("upload"));
  b.erase_upload("m", 5);
  b.put_key("k@1", bytes("key"));
  const auto& ops = b.ops();
  BOOST_TEST_REQUIRE(ops.size() == 12u);
  check_op(ops[0], Kind::put, Family::models, "m", "rec");
  check_op(ops[1], Kind::put, Family::version_info, "m" + Z + be64(3), "info");
  check_op(ops[2], Kind::put, Family::versions, "m" + Z + be64(3) + be32(7), "piece");
  check_op(ops[3], Kind::put, Family::contributions, "m" + Z + be64(2) + "alice", "record");
  check_op(ops[4], Kind::put, Family::filter, "m" + Z + be64(2) + "alice", "summary");
  check_op(ops[5], Kind::put, Family::pending, "m" + Z + be64(9), "summary");
  check_op(ops[6], Kind::put, Family::contributions, "m" + Z + be64(2) + "bob", "record-b");
  check_op(ops[7], Kind::put, Family::filter, "m" + Z + be64(2) + "bob", "summary-b");  // no pending entry
  check_op(ops[8], Kind::put, Family::chunks, "m" + Z + be64(5) + be64(0x10000), "chunk");
  check_op(ops[9], Kind::put, Family::uploads, "m" + Z + be64(5), "upload");
  check_op(ops[10], Kind::erase, Family::uploads, "m" + Z + be64(5), "");
  check_op(ops[11], Kind::put, Family::keys, "k@1", "key");
  uint64_t total = 0;
  for (const auto& op : ops) total += op.key.size() + op.value.size();
  BOOST_TEST(b.bytes() == total);
  BOOST_TEST(!b.empty());
  BOOST_TEST(StoreBatch().empty());
}

BOOST_AUTO_TEST_CASE(erasures_are_ranges_of_exactly_one_prefix) {
  StoreBatch b;
  b.erase_version_pieces("m", 4);
  b.erase_chunks("m", 6);
  b.erase_merged("m", 2, "alice", 9, 6);
  b.erase_version_pieces("m", ~0ull);
  const auto& ops = b.ops();
  BOOST_TEST_REQUIRE(ops.size() == 6u);
  // [m 0 be64(4), m 0 be64(5)): every piece of version 4, nothing of 3 or 5.
  check_op(ops[0], Kind::erase_range, Family::versions, "m" + Z + be64(4), "m" + Z + be64(5));
  check_op(ops[1], Kind::erase_range, Family::chunks, "m" + Z + be64(6), "m" + Z + be64(7));
  check_op(ops[2], Kind::erase, Family::contributions, "m" + Z + be64(2) + "alice", "");
  check_op(ops[3], Kind::erase, Family::pending, "m" + Z + be64(9), "");
  check_op(ops[4], Kind::erase_range, Family::chunks, "m" + Z + be64(6), "m" + Z + be64(7));
  // The last version's range ends where the model's keys end ("m" 0x01).
  check_op(ops[5], Kind::erase_range, Family::versions, "m" + Z + be64(~0ull), "m\x01");
  // The erase_merged leaves the filter summary alone.
  for (const auto& op : ops) BOOST_TEST((op.family != Family::filter));
}

BOOST_AUTO_TEST_CASE(server_state_erases_then_puts_its_pieces) {
  StoreBatch b;
  const Buffer state = tagged_value("state", 1, kPieceBytes + 10);
  b.put_server_state("m", state);
  const auto& ops = b.ops();
  BOOST_TEST_REQUIRE(ops.size() == 3u);
  check_op(ops[0], Kind::erase_range, Family::server_state, "m" + Z, "m\x01");
  check_op(ops[1], Kind::put, Family::server_state, "m" + Z + be32(0),
           std::string(state.begin(), state.begin() + kPieceBytes));
  check_op(ops[2], Kind::put, Family::server_state, "m" + Z + be32(1),
           std::string(state.begin() + kPieceBytes, state.end()));
  StoreBatch empty;
  empty.put_server_state("m", {});
  BOOST_TEST_REQUIRE(empty.ops().size() == 2u);
  check_op(empty.ops()[1], Kind::put, Family::server_state, "m" + Z + be32(0), "");
}

BOOST_AUTO_TEST_CASE(packages_split_into_pieces_at_exact_sizes) {
  const size_t P = kPieceBytes;
  // size -> the sizes of its pieces
  const std::vector<std::pair<size_t, std::vector<size_t>>> cases = {{0, {0}},         {1, {1}},
                                                                     {P - 1, {P - 1}}, {P, {P}},
                                                                     {P + 1, {P, 1}},  {2 * P - 1, {P, P - 1}},
                                                                     {2 * P, {P, P}},  {2 * P + 1, {P, P, 1}}};
  for (const auto& [size, sizes] : cases) {
    const Buffer package = tagged_value("package", size, size);
    StoreBatch b;
    b.put_version("m", 1, package);
    BOOST_TEST_REQUIRE(b.ops().size() == sizes.size(), "package of " << size << " bytes");
    size_t at = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      const auto& op = b.ops()[i];
      BOOST_TEST((op.key == "m" + Z + be64(1) + be32(static_cast<uint32_t>(i))));
      BOOST_TEST(op.value.size() == sizes[i], "piece " << i << " of a package of " << size);
      BOOST_TEST((Buffer(package.begin() + at, package.begin() + at + sizes[i]) == op.value));
      at += sizes[i];
    }
    BOOST_TEST(at == size);
  }
}

BOOST_AUTO_TEST_CASE(append_keeps_order_and_size) {
  StoreBatch a, b, c;
  a.put_key("1", bytes("a"));
  b.put_key("2", bytes("bb"));
  b.put_key("3", bytes("ccc"));
  const uint64_t ab = a.bytes() + b.bytes();
  a.append(std::move(b));
  BOOST_TEST(a.ops().size() == 3u);
  BOOST_TEST(a.bytes() == ab);
  BOOST_TEST(a.ops()[1].key == "2");
  BOOST_TEST(a.ops()[2].key == "3");
  c.append(std::move(a));  // into an empty batch
  BOOST_TEST(c.ops().size() == 3u);
  BOOST_TEST(c.bytes() == ab);
  BOOST_TEST(c.ops()[0].key == "1");
}

BOOST_AUTO_TEST_SUITE_END()
