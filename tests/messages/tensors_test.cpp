// Tensors in headers and the data sections that hold their values:
// check_tensor_infos (every defect with its code), sizes, finiteness and
// the copy into Weights.
#include "messages/tensors.hpp"

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "messages/checksum.hpp"
#include "messages/contribution.hpp"
#include "test_support.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

// A tensor description as it may arrive: any name, shape and dtype.
struct RawInfo {
  std::string name;
  std::vector<int64_t> shape;
  fb::DType dtype = fb::DType::float32;
};

std::vector<RawInfo> raw_tiny() {
  std::vector<RawInfo> out;
  for (const auto& t : tiny_layout()) out.push_back({t.name, t.shape, fb::DType::float32});
  return out;
}

// A verified contribution header listing these tensors (data_bytes left 0,
// so verify_root rather than verify_contribution_header reads it).
Buffer header_with(const std::vector<RawInfo>& tensors) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Tensor>> offsets;
  for (const auto& t : tensors) {
    auto name = fbb.CreateString(t.name);
    auto shape = fbb.CreateVector(t.shape);
    offsets.push_back(fb::CreateTensor(fbb, name, shape, t.dtype));
  }
  auto vec = fbb.CreateVector(offsets);
  auto model = fbb.CreateString("tiny");
  fbb.Finish(fb::CreateContribution(fbb, model, 0, 0, 1, 0, vec), fb::ContributionIdentifier());
  return to_buffer(fbb);
}

const fb::Contribution* root_of(const Buffer& b) {
  std::string why;
  const auto* c = verify_root<fb::Contribution>(b, fb::ContributionIdentifier(), &why);
  BOOST_TEST_REQUIRE(c, why);
  return c;
}

void expect_check(const std::vector<RawInfo>& tensors, ErrorCode code, const std::string& needle) {
  const Buffer b = header_with(tensors);
  const auto layout = tiny_layout();
  check_error([&] { check_tensor_infos(root_of(b)->tensors(), layout); }, code, needle);
}

void expect_ok(const std::vector<RawInfo>& tensors) {
  const Buffer b = header_with(tensors);
  const auto layout = tiny_layout();
  BOOST_CHECK_NO_THROW(check_tensor_infos(root_of(b)->tensors(), layout));
}

std::vector<float> tiny_flat(float offset = 0.0f) { return flatten(tiny_weights(offset)); }

}  // namespace

BOOST_AUTO_TEST_SUITE(tensor_infos)

BOOST_AUTO_TEST_CASE(matching_tensors_pass) {
  expect_ok(raw_tiny());
  const Buffer b = header_with(raw_tiny());
  BOOST_TEST((layout_of(root_of(b)->tensors()) == tiny_layout()));
  BOOST_TEST(layout_of(static_cast<const FbTensors*>(nullptr)).empty());
}

BOOST_AUTO_TEST_CASE(built_infos_carry_name_shape_and_float32) {
  const std::vector<TensorSpec> layout = {{"a", {}}, {"b", {0}}, {"c/d", {3, 1, 2}}};
  flatbuffers::FlatBufferBuilder fbb;
  auto infos = build_tensor_infos(fbb, layout);
  fbb.Finish(fb::CreateContribution(fbb, fbb.CreateString("m"), 0, 0, 0, 0, infos), fb::ContributionIdentifier());
  const Buffer b = to_buffer(fbb);
  const auto* t = root_of(b)->tensors();
  BOOST_TEST((layout_of(t) == layout));
  for (const auto* x : *t) BOOST_TEST(x->dtype() == fb::DType::float32);
  BOOST_CHECK_NO_THROW(check_tensor_infos(t, layout));
}

BOOST_AUTO_TEST_CASE(no_tensors) {
  const auto layout = tiny_layout();
  check_error([&] { check_tensor_infos(nullptr, layout); }, ErrorCode::bad_shape, "no tensors");
}

BOOST_AUTO_TEST_CASE(tensor_count) {
  auto ts = raw_tiny();
  ts.pop_back();
  expect_check(ts, ErrorCode::bad_shape, "expected 2 tensors, got 1");
  ts = raw_tiny();
  ts.push_back(ts.back());
  ts.back().name = "extra";
  expect_check(ts, ErrorCode::bad_shape, "expected 2 tensors, got 3");
  expect_check({}, ErrorCode::bad_shape, "expected 2 tensors, got 0");
}

BOOST_AUTO_TEST_CASE(tensor_name_and_order) {
  auto ts = raw_tiny();
  ts[1].name = "dense/weights";
  expect_check(ts, ErrorCode::bad_shape, "tensor 1 is named 'dense/weights', expected 'dense/bias'");
  ts = raw_tiny();
  std::swap(ts[0], ts[1]);
  expect_check(ts, ErrorCode::bad_shape, "tensor 0 is named 'dense/bias', expected 'dense/kernel'");
}

BOOST_AUTO_TEST_CASE(tensor_shape) {
  auto ts = raw_tiny();
  ts[0].shape = {3, 2};  // same element count, other shape
  expect_check(ts, ErrorCode::bad_shape, "'dense/kernel' has shape [3,2], expected [2,3]");
  ts = raw_tiny();
  ts[0].shape = {6};
  expect_check(ts, ErrorCode::bad_shape, "has shape [6], expected [2,3]");
  ts = raw_tiny();
  ts[1].shape = {1, 3};
  expect_check(ts, ErrorCode::bad_shape, "'dense/bias'");
  ts = raw_tiny();
  ts[1].shape = {-3};
  expect_check(ts, ErrorCode::bad_shape, "'dense/bias' has shape [-3]");
}

BOOST_AUTO_TEST_CASE(dtypes_other_than_float32) {
  auto ts = raw_tiny();
  ts[0].dtype = fb::DType::float16;
  expect_check(ts, ErrorCode::bad_dtype, "'dense/kernel' has dtype float16, only float32 is accepted");
  ts = raw_tiny();
  ts[1].dtype = fb::DType::float64;
  expect_check(ts, ErrorCode::bad_dtype, "'dense/bias' has dtype float64");
  ts = raw_tiny();
  ts[1].dtype = fb::DType::bfloat16;
  expect_check(ts, ErrorCode::bad_dtype, "dtype bfloat16");
  ts = raw_tiny();
  ts[1].dtype = static_cast<fb::DType>(77);  // from a newer schema
  expect_check(ts, ErrorCode::bad_dtype, "dtype 77");
}

BOOST_AUTO_TEST_CASE(first_defect_wins) {
  // Name before shape, shape before dtype, tensor 0 before tensor 1.
  auto ts = raw_tiny();
  ts[0].shape = {6};
  ts[0].dtype = fb::DType::float16;
  expect_check(ts, ErrorCode::bad_shape, "shape [6]");
  ts = raw_tiny();
  ts[0].name = "x";
  ts[0].shape = {6};
  expect_check(ts, ErrorCode::bad_shape, "named 'x'");
  ts = raw_tiny();
  ts[0].dtype = fb::DType::float16;
  ts[1].shape = {4};
  expect_check(ts, ErrorCode::bad_dtype, "'dense/kernel'");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(data_sections)

BOOST_AUTO_TEST_CASE(data_bytes_of_layouts) {
  BOOST_TEST(data_bytes_of(tiny_layout()) == 36u);
  BOOST_TEST(data_bytes_of({}) == 0u);
  const std::vector<TensorSpec> scalar_and_empty = {{"s", {}}, {"e", {4, 0, 2}}};
  BOOST_TEST(data_bytes_of(scalar_and_empty) == 4u);
  const std::vector<TensorSpec> big = {{"k", {1 << 20, 1 << 12}}, {"b", {7}}};
  BOOST_TEST(data_bytes_of(big) == (uint64_t{1} << 34) + 28);
  // The largest size that fits in 2^63 - 1 bytes.
  const std::vector<TensorSpec> largest = {{"k", {(int64_t{1} << 61) - 1}}};
  BOOST_TEST(data_bytes_of(largest) == (uint64_t{1} << 63) - 4);
}

BOOST_AUTO_TEST_CASE(data_bytes_overflow_and_negative_dimensions) {
  const int64_t big = int64_t{1} << 40;
  const std::vector<TensorSpec> elements_overflow = {{"huge", {big, big}}};
  check_error([&] { data_bytes_of(elements_overflow); }, ErrorCode::bad_shape, "'huge' of shape");
  const std::vector<TensorSpec> bytes_overflow = {{"k", {int64_t{1} << 62}}};
  check_error([&] { data_bytes_of(bytes_overflow); }, ErrorCode::bad_shape, "more than 2^63 bytes");
  const std::vector<TensorSpec> sum_overflow = {{"a", {int64_t{1} << 60}}, {"b", {int64_t{1} << 60}}};
  check_error([&] { data_bytes_of(sum_overflow); }, ErrorCode::bad_shape, "up to 'b'");
  const std::vector<TensorSpec> wraps = {{"w", {int64_t{1} << 32, int64_t{1} << 32, 2}}};  // 2^65 elements
  check_error([&] { data_bytes_of(wraps); }, ErrorCode::bad_shape, "too many elements");
  const std::vector<TensorSpec> negative = {{"ok", {2}}, {"neg", {3, -1}}};
  check_error([&] { data_bytes_of(negative); }, ErrorCode::bad_shape, "'neg' has a negative dimension: [3,-1]");
  // A negative dimension hidden by a zero is still refused.
  const std::vector<TensorSpec> zero_neg = {{"z", {0, -5}}};
  check_error([&] { data_bytes_of(zero_neg); }, ErrorCode::bad_shape, "negative");
}

BOOST_AUTO_TEST_CASE(data_values_in_place) {
  const std::vector<float> flat = tiny_flat();
  const auto values = data_values(data_bytes(flat));
  BOOST_TEST(values.data() == flat.data());
  BOOST_TEST(values.size() == 9u);
  BOOST_TEST(data_values({}).empty());
  const Buffer odd(10, 0);
  check_error([&] { data_values(odd); }, ErrorCode::bad_request, "10 bytes does not hold whole float32 values");
  PlacedCopy placed(data_bytes(flat), 2);
  check_error([&] { data_values(placed.span()); }, ErrorCode::bad_request, "not 4-byte aligned");
}

BOOST_AUTO_TEST_CASE(check_finite_names_tensor_and_index) {
  const auto layout = tiny_layout();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = tiny_flat();
  BOOST_CHECK_NO_THROW(check_finite(v, layout));
  v[4] = nan;
  check_error([&] { check_finite(v, layout); }, ErrorCode::non_finite, "tensor 'dense/kernel' holds nan at index 4");
  v = tiny_flat();
  v[8] = inf;
  check_error([&] { check_finite(v, layout); }, ErrorCode::non_finite, "tensor 'dense/bias' holds inf at index 2");
  v = tiny_flat();
  v[6] = -inf;
  check_error([&] { check_finite(v, layout); }, ErrorCode::non_finite, "'dense/bias' holds -inf at index 0");
  v = tiny_flat();
  v[0] = std::numeric_limits<float>::signaling_NaN();
  check_error([&] { check_finite(v, layout); }, ErrorCode::non_finite, "'dense/kernel' holds nan at index 0");
  // The first one wins.
  v = tiny_flat();
  v[7] = nan;
  v[2] = inf;
  check_error([&] { check_finite(v, layout); }, ErrorCode::non_finite, "'dense/kernel' holds inf at index 2");
  // Extremes that are finite.
  v = tiny_flat();
  v[0] = std::numeric_limits<float>::max();
  v[1] = std::numeric_limits<float>::lowest();
  v[2] = std::numeric_limits<float>::denorm_min();
  v[3] = -0.0f;
  BOOST_CHECK_NO_THROW(check_finite(v, layout));
}

BOOST_AUTO_TEST_CASE(check_finite_of_a_part) {
  // Values [first_index, first_index + n) of the section, e.g. one upload part.
  const auto layout = tiny_layout();
  std::vector<float> part = {1.0f, 2.0f, std::numeric_limits<float>::quiet_NaN()};
  check_error([&] { check_finite(part, layout, 0); }, ErrorCode::non_finite, "'dense/kernel' holds nan at index 2");
  check_error([&] { check_finite(part, layout, 4); }, ErrorCode::non_finite, "'dense/bias' holds nan at index 0");
  check_error([&] { check_finite(part, layout, 6); }, ErrorCode::non_finite, "'dense/bias' holds nan at index 2");
  // Past the end of the layout.
  check_error([&] { check_finite(part, layout, 7); }, ErrorCode::bad_shape, "reach past the layout's 9 values");
  check_error([&] { check_finite(part, layout, std::numeric_limits<uint64_t>::max()); }, ErrorCode::bad_shape, "past");
  const std::vector<float> ten(10, 1.0f);
  check_error([&] { check_finite(ten, layout); }, ErrorCode::bad_shape, "past");
  BOOST_CHECK_NO_THROW(check_finite({}, layout, 9));
}

BOOST_AUTO_TEST_CASE(check_finite_of_a_large_section) {
  // Long enough for the blocked scan; the defect deep in the second tensor.
  const std::vector<TensorSpec> layout = {{"a/kernel", {300, 100}}, {"b/kernel", {100, 50}}};
  std::vector<float> v(35000, 0.5f);
  BOOST_CHECK_NO_THROW(check_finite(v, layout));
  v[30000 + 4321] = std::numeric_limits<float>::infinity();
  check_error([&] { check_finite(v, layout); }, ErrorCode::non_finite, "'b/kernel' holds inf at index 4321");
  v[29999] = std::numeric_limits<float>::quiet_NaN();
  check_error([&] { check_finite(v, layout); }, ErrorCode::non_finite, "'a/kernel' holds nan at index 29999");
}

BOOST_AUTO_TEST_CASE(weights_from_data_copies) {
  const auto layout = tiny_layout();
  const std::vector<float> flat = tiny_flat(2.0f);
  check_weights_identical(weights_from_data(layout, data_bytes(flat)), tiny_weights(2.0f));
  // Any alignment of the data is fine (it is copied).
  for (size_t shift : {1u, 2u, 3u}) {
    PlacedCopy placed(data_bytes(flat), shift);
    check_weights_identical(weights_from_data(layout, placed.span()), tiny_weights(2.0f));
  }
  const auto bytes = data_bytes(flat);
  check_error([&] { weights_from_data(layout, bytes.first(32)); }, ErrorCode::bad_shape,
              "the data section holds 32 bytes, the 2 tensors need 36");
  const Buffer longer(40, 0);
  check_error([&] { weights_from_data(layout, longer); }, ErrorCode::bad_shape, "holds 40 bytes");
  BOOST_TEST(weights_from_data({}, {}).empty());
}

BOOST_AUTO_TEST_CASE(hash_and_data_of_weights) {
  const Weights w = tiny_weights(1.25f);
  const std::vector<float> flat = flatten(w);
  BOOST_TEST(data_hash_of(w) == data_hash(data_bytes(flat)));
  BOOST_TEST(data_hash_of({}) == data_hash({}));
  Buffer out = {'x'};
  append_data(out, w);
  BOOST_TEST_REQUIRE(out.size() == 37u);
  BOOST_TEST(std::memcmp(out.data() + 1, flat.data(), 36) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
