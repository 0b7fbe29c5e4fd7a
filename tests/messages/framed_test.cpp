// Framed buffers (magic, header size, FlatBuffer header, padding, data) and
// the XXH3 checksums of their data sections.
#include "messages/framed.hpp"

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <limits>
#include <random>

#include "messages/checksum.hpp"
#include "messages/model_package.hpp"
#include "test_support.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

// A finished FlatBuffer of exactly `n` bytes (n >= 8, a multiple of 4): a
// root offset and an identifier followed by zeros. Not a valid table, which
// the frame functions do not look at.
Buffer fake_flatbuffer(size_t n, const char* id = "TEST") {
  Buffer b(n, 0);
  const uint32_t root = 8;
  std::memcpy(b.data(), &root, 4);
  std::memcpy(b.data() + 4, id, 4);
  return b;
}

void put_u32(Buffer& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
}

Buffer patterned(size_t n, unsigned seed = 1) {
  Buffer b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<char>((i * 131 + seed * 17 + 7) % 251);
  return b;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(frames)

BOOST_AUTO_TEST_CASE(data_offset_is_rounded_up_to_64) {
  BOOST_TEST(frame_data_offset(8) == 64u);
  BOOST_TEST(frame_data_offset(56) == 64u);
  BOOST_TEST(frame_data_offset(57) == 128u);
  BOOST_TEST(frame_data_offset(120) == 128u);
  BOOST_TEST(frame_data_offset(121) == 192u);
  BOOST_TEST(frame_data_offset(kMaxFrameHeaderBytes) == uint64_t{kMaxFrameHeaderBytes} + 64);
  BOOST_TEST(frame_data_offset(std::numeric_limits<uint32_t>::max()) == (uint64_t{1} << 32) + 64);
  for (uint32_t h = 8; h < 400; h += 4) {
    BOOST_TEST(frame_data_offset(h) % 64 == 0u);
    BOOST_TEST(frame_data_offset(h) >= 8u + h);
    BOOST_TEST(frame_data_offset(h) < 8u + h + 64);
  }
}

BOOST_AUTO_TEST_CASE(prefix_layout) {
  for (size_t n : {8u, 16u, 52u, 56u, 60u, 64u, 120u, 1000u}) {
    const Buffer fb = fake_flatbuffer(n);
    const Buffer p = frame_prefix(fb);
    BOOST_TEST_CONTEXT("header of " << n << " bytes") {
      BOOST_TEST_REQUIRE(p.size() == frame_data_offset(static_cast<uint32_t>(n)));
      BOOST_TEST(std::memcmp(p.data(), "FHFB", 4) == 0);
      const auto* u = reinterpret_cast<const unsigned char*>(p.data());
      BOOST_TEST((u[4] | u[5] << 8 | u[6] << 16 | u[7] << 24) == static_cast<int>(n));
      BOOST_TEST(std::memcmp(p.data() + 8, fb.data(), n) == 0);
      for (size_t i = 8 + n; i < p.size(); ++i) BOOST_TEST_REQUIRE(p[i] == 0);
      // Every reader agrees on where the data starts.
      BOOST_TEST(*frame_prefix_size(p) == p.size());
      const FramePrefix fp = read_frame_prefix(p);
      BOOST_TEST(fp.data_offset == p.size());
      BOOST_TEST(same_address(fp.header.data(), p.data() + 8));
      BOOST_TEST(fp.header.size() == n);
    }
  }
}

BOOST_AUTO_TEST_CASE(prefix_from_a_builder_equals_prefix_from_bytes) {
  const auto spec = tiny_spec();
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(fb::CreateModelSpec(fbb, &spec));
  const Buffer bytes = to_buffer(fbb);
  BOOST_TEST(frame_prefix(fbb) == frame_prefix(bytes), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(make_frame_is_prefix_then_data) {
  const Buffer fb = fake_flatbuffer(44);
  for (size_t n : {0u, 1u, 36u, 4096u}) {
    const Buffer data = patterned(n);
    const Buffer whole = make_frame(fb, data);
    Buffer want = frame_prefix(fb);
    want.insert(want.end(), data.begin(), data.end());
    BOOST_TEST(whole == want, boost::test_tools::per_element());
    const Frame f = split_frame(whole, n);
    BOOST_TEST(f.data_offset == 64u);
    BOOST_TEST(f.header.size() == 44u);
    BOOST_TEST(f.data.size() == n);
    if (n) {
      BOOST_TEST(same_address(f.data.data(), whole.data() + 64));
      BOOST_TEST(is_aligned(f.data.data(), 16));  // a std::vector's memory is 16-aligned
    }
    BOOST_TEST(Buffer(f.data.begin(), f.data.end()) == data, boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(headers_out_of_range_cannot_be_framed) {
  BOOST_CHECK_THROW(frame_prefix(Buffer(4, 0)), std::length_error);
  BOOST_CHECK_THROW(frame_prefix(Buffer{}), std::length_error);
  BOOST_CHECK_THROW(frame_prefix(Buffer(size_t{kMaxFrameHeaderBytes} + 4, 0)), std::length_error);
  BOOST_CHECK_NO_THROW(frame_prefix(Buffer(8, 0)));
}

BOOST_AUTO_TEST_CASE(prefix_size_from_first_bytes) {
  const Buffer p = make_frame(fake_flatbuffer(200), patterned(100));
  // Fewer than 8 bytes: read more (as long as they start like the magic).
  for (size_t n = 0; n < 8; ++n) BOOST_TEST(!frame_prefix_size(std::span<const char>(p.data(), n)).has_value());
  for (size_t n = 8; n < p.size(); n += 13)
    BOOST_TEST(*frame_prefix_size(std::span<const char>(p.data(), n)) == 256u, "first " << n << " bytes");
  // A wrong start is refused even before 8 bytes arrived.
  const Buffer wrong = {'F', 'H', 'X'};
  check_error([&] { frame_prefix_size(wrong); }, ErrorCode::bad_request, "magic 'FHFB'");
  check_error([&] { frame_prefix_size(Buffer{'x'}, "model package"); }, ErrorCode::bad_request, "model package: ");
}

BOOST_AUTO_TEST_CASE(absurd_header_sizes) {
  Buffer p = make_frame(fake_flatbuffer(40), {});
  for (uint32_t h : {0u, 1u, 7u, kMaxFrameHeaderBytes + 1, 0x7fffffffu, 0xffffffffu}) {
    put_u32(p, 4, h);
    BOOST_TEST_CONTEXT("declared header size " << h) {
      check_error([&] { frame_prefix_size(p); }, ErrorCode::bad_request, "header of " + std::to_string(h) + " bytes");
      check_error([&] { read_frame_prefix(p); }, ErrorCode::bad_request, "outside the allowed");
      check_error([&] { split_frame(p, 0); }, ErrorCode::bad_request, "outside the allowed");
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_magic) {
  Buffer p = make_frame(fake_flatbuffer(40), patterned(8));
  p[3] = 'X';
  check_error([&] { read_frame_prefix(p); }, ErrorCode::bad_request,
              "does not start with the magic 'FHFB' (found 'FHFX')");
  check_error([&] { split_frame(p, 8); }, ErrorCode::bad_request, "found 'FHFX'");
  check_error([&] { frame_prefix_size(p); }, ErrorCode::bad_request, "'FHFX'");
  BOOST_TEST(!has_frame_magic(p));
  BOOST_TEST(!has_frame_magic(Buffer{'F', 'H', 'F'}));
  BOOST_TEST(has_frame_magic(Buffer{'F', 'H', 'F', 'B'}));
  // A bare FlatBuffer of ours (the old, unframed format) is named.
  const Buffer bare = fake_flatbuffer(40, "FHMP");
  check_error([&] { read_frame_prefix(bare, "model package"); }, ErrorCode::bad_request,
              "model package: this is a bare 'FHMP' FlatBuffer, not a framed buffer");
}

BOOST_AUTO_TEST_CASE(header_past_the_end) {
  const Buffer p = make_frame(fake_flatbuffer(100), patterned(10));
  check_error([&] { read_frame_prefix(std::span<const char>(p.data(), 5)); }, ErrorCode::bad_request,
              "too short for a frame (5 bytes");
  for (size_t n : {8u, 9u, 50u, 107u}) {
    check_error([&] { read_frame_prefix(std::span<const char>(p.data(), n)); }, ErrorCode::bad_request,
                "the header of 100 bytes ends past the end of the " + std::to_string(n) + " bytes given");
    check_error([&] { split_frame(std::span<const char>(p.data(), n), 10); }, ErrorCode::bad_request,
                "ends past the end");
  }
  // 108 bytes hold the header: a prefix reader is satisfied, split is not.
  BOOST_CHECK_NO_THROW(read_frame_prefix(std::span<const char>(p.data(), 108)));
  check_error([&] { split_frame(std::span<const char>(p.data(), 108), 10); }, ErrorCode::bad_request, "truncated");
}

BOOST_AUTO_TEST_CASE(data_shorter_or_longer_than_declared) {
  const Buffer p = make_frame(fake_flatbuffer(40), patterned(36));
  BOOST_CHECK_NO_THROW(split_frame(p, 36));
  check_error([&] { split_frame(p, 37); }, ErrorCode::bad_request,
              "truncated: it has 100 bytes, its header declares 101");
  check_error([&] { split_frame(p, 35); }, ErrorCode::bad_request, "has 1 bytes after its data section");
  check_error([&] { split_frame(p, 0); }, ErrorCode::bad_request, "36 bytes after its data section");
  Buffer cut(p.begin(), p.end() - 1);
  check_error([&] { split_frame(cut, 36, "contribution"); }, ErrorCode::bad_request,
              "contribution: the buffer is truncated");
  // Only the prefix, no data at all.
  const Buffer prefix = frame_prefix(fake_flatbuffer(40));
  check_error([&] { split_frame(prefix, 4); }, ErrorCode::bad_request, "truncated");
  BOOST_TEST(split_frame(prefix, 0).data.empty());
}

BOOST_AUTO_TEST_CASE(declared_sizes_that_overflow) {
  const Buffer p = make_frame(fake_flatbuffer(40), patterned(36));
  for (uint64_t declared : {std::numeric_limits<uint64_t>::max(), std::numeric_limits<uint64_t>::max() - 63,
                            uint64_t{std::numeric_limits<int64_t>::max()}, uint64_t{1} << 63})
    check_error([&] { split_frame(p, declared); }, ErrorCode::bad_request, "more than any buffer can hold");
  // The largest representable declaration is merely truncated.
  check_error([&] { split_frame(p, uint64_t{std::numeric_limits<int64_t>::max()} - 64); }, ErrorCode::bad_request,
              "truncated");
}

BOOST_AUTO_TEST_CASE(padding_must_be_zero) {
  Buffer p = make_frame(fake_flatbuffer(40), patterned(8));
  p[50] = 1;
  check_error([&] { read_frame_prefix(p); }, ErrorCode::bad_request,
              "padding after the header is not zero (at offset 50)");
  check_error([&] { split_frame(p, 8); }, ErrorCode::bad_request, "padding");
  // A prefix reader only checks the padding it was given.
  BOOST_CHECK_NO_THROW(read_frame_prefix(std::span<const char>(p.data(), 50)));
  check_error([&] { read_frame_prefix(std::span<const char>(p.data(), 51)); }, ErrorCode::bad_request, "padding");
}

BOOST_AUTO_TEST_CASE(a_real_package_prefix_in_a_partial_first_chunk) {
  VersionMeta meta;
  meta.model = "tiny";
  meta.version = 5;
  const Buffer pkg = build_model_package(tiny_spec(), meta, tiny_weights());
  const uint64_t prefix = *frame_prefix_size(pkg);
  BOOST_TEST(prefix % 64 == 0u);
  BOOST_TEST(pkg.size() == prefix + 36);
  // From 8 bytes on the size is known; from `prefix - padding` on the header can be read.
  for (size_t n = 8; n <= pkg.size(); ++n) {
    const Buffer first(pkg.begin(), pkg.begin() + static_cast<long>(n));
    BOOST_TEST_REQUIRE(*frame_prefix_size(first) == prefix);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(checksums)

BOOST_AUTO_TEST_CASE(known_values) {
  // XXH3-64 with seed 0 is a fixed function: these values are part of the protocol.
  BOOST_TEST(data_hash({}) == 0x2d06800538d394c2ull);
  BOOST_TEST(hash_to_string(data_hash({})) == "0x2d06800538d394c2");
  BOOST_TEST(hash_to_string(0) == "0x0000000000000000");
  BOOST_TEST(hash_to_string(0xffffffffffffffffull) == "0xffffffffffffffff");
  const Buffer a = patterned(1000), b = patterned(1000, 2);
  BOOST_TEST(data_hash(a) == data_hash(Buffer(a)));
  BOOST_TEST(data_hash(a) != data_hash(b));
  // One flipped bit anywhere changes the hash.
  for (size_t at : {0u, 1u, 499u, 999u}) {
    Buffer c = a;
    c[at] = static_cast<char>(c[at] ^ 0x10);
    BOOST_TEST(data_hash(c) != data_hash(a), "bit flipped at " << at);
  }
}

BOOST_AUTO_TEST_CASE(streaming_equals_one_shot_over_any_split) {
  std::mt19937_64 rng(4242);
  for (size_t n : {0u, 1u, 3u, 16u, 63u, 64u, 65u, 239u, 240u, 241u, 1024u, 4096u, 100000u}) {
    const Buffer data = patterned(n, static_cast<unsigned>(n));
    const uint64_t want = data_hash(data);
    for (int trial = 0; trial < 20; ++trial) {
      DataHasher h;
      size_t at = 0;
      while (at < n) {
        // Pieces of 0 to 300 bytes (empty ones included), sometimes one big rest.
        size_t len = trial % 5 == 0 ? n - at : std::min<size_t>(rng() % 301, n - at);
        h.update(std::span<const char>(data.data() + at, len));
        at += len;
      }
      if (trial % 3 == 0) h.update({});
      BOOST_TEST_REQUIRE(h.digest() == want, n << " bytes, trial " << trial);
      BOOST_TEST(h.bytes() == n);
    }
    // Byte by byte.
    DataHasher h;
    for (size_t i = 0; i < std::min<size_t>(n, 5000); ++i) h.update(std::span<const char>(data.data() + i, 1));
    if (n <= 5000) BOOST_TEST(h.digest() == want);
  }
}

BOOST_AUTO_TEST_CASE(digest_does_not_end_the_hash) {
  const Buffer data = patterned(5000);
  DataHasher h;
  h.update(std::span<const char>(data.data(), 1000));
  BOOST_TEST(h.digest() == data_hash(std::span<const char>(data.data(), 1000)));
  BOOST_TEST(h.digest() == h.digest());
  h.update(std::span<const char>(data.data() + 1000, 4000));
  BOOST_TEST(h.digest() == data_hash(data));
  h.reset();
  BOOST_TEST(h.bytes() == 0u);
  BOOST_TEST(h.digest() == data_hash({}));
  h.update(data);
  BOOST_TEST(h.digest() == data_hash(data));
}

BOOST_AUTO_TEST_CASE(hashers_move) {
  const Buffer data = patterned(777);
  DataHasher a;
  a.update(std::span<const char>(data.data(), 300));
  DataHasher b(std::move(a));
  b.update(std::span<const char>(data.data() + 300, 477));
  BOOST_TEST(b.digest() == data_hash(data));
  BOOST_TEST(b.bytes() == 777u);
  DataHasher c;
  c.update(patterned(10));
  c = std::move(b);
  BOOST_TEST(c.digest() == data_hash(data));
  a = DataHasher();  // a moved-from hasher may be assigned to
  a.update(data);
  BOOST_TEST(a.digest() == data_hash(data));
  std::vector<DataHasher> many(3);
  many[1].update(data);
  many.emplace_back();  // reallocation moves them
  BOOST_TEST(many[1].digest() == data_hash(data));
  BOOST_TEST(many[0].digest() == data_hash({}));
}

BOOST_AUTO_TEST_CASE(independent_hashers) {
  const Buffer x = patterned(300, 3), y = patterned(300, 4);
  DataHasher hx, hy;
  for (size_t i = 0; i < 300; i += 50) {
    hx.update(std::span<const char>(x.data() + i, 50));
    hy.update(std::span<const char>(y.data() + i, 50));
  }
  BOOST_TEST(hx.digest() == data_hash(x));
  BOOST_TEST(hy.digest() == data_hash(y));
}

BOOST_AUTO_TEST_SUITE_END()
