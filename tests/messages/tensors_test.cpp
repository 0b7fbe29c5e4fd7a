// check_tensors: every defect of received tensors with its error code, and
// the reading of checked tensors.
#include "messages/tensors.hpp"

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>

#include "messages/contribution.hpp"
#include "test_support.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

// A tensor as it may arrive: any name, shape, dtype and data bytes.
struct RawTensor {
  std::string name;
  std::vector<int64_t> shape;
  fb::DType dtype = fb::DType::float32;
  std::vector<char> bytes;
};

std::vector<char> bytes_of_floats(const std::vector<float>& v) {
  const auto* p = reinterpret_cast<const char*>(v.data());
  return {p, p + v.size() * sizeof(float)};
}

std::vector<RawTensor> raw_tiny(float offset = 0.0f) {
  std::vector<RawTensor> out;
  for (const auto& t : tiny_weights(offset))
    out.push_back({t.name, t.shape, fb::DType::float32, bytes_of_floats(t.values)});
  return out;
}

// A verified Contribution buffer holding these tensors.
Buffer contribution_with(const std::vector<RawTensor>& tensors) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Tensor>> offsets;
  for (const auto& t : tensors) {
    auto data = create_aligned_bytes(fbb, t.bytes);
    auto name = fbb.CreateString(t.name);
    auto shape = fbb.CreateVector(t.shape);
    offsets.push_back(fb::CreateTensor(fbb, name, shape, t.dtype, data));
  }
  auto vec = fbb.CreateVector(offsets);
  auto model = fbb.CreateString("tiny");
  fbb.Finish(fb::CreateContribution(fbb, model, 0, 0, 1, 0, vec), fb::ContributionIdentifier());
  return to_buffer(fbb);
}

void expect_check(const std::vector<RawTensor>& tensors, ErrorCode code, const std::string& needle,
                  bool check_finite = true) {
  const Buffer b = contribution_with(tensors);
  const auto* c = verify_contribution(b);
  const auto layout = tiny_layout();
  check_error([&] { check_tensors(c->tensors(), layout, check_finite); }, code, needle);
}

void expect_ok(const std::vector<RawTensor>& tensors, bool check_finite = true) {
  const Buffer b = contribution_with(tensors);
  const auto* c = verify_contribution(b);
  const auto layout = tiny_layout();
  BOOST_CHECK_NO_THROW(check_tensors(c->tensors(), layout, check_finite));
}

// Sets element `i` of tensor `t` to `v`.
void set_value(std::vector<RawTensor>& ts, size_t t, size_t i, float v) {
  std::memcpy(ts[t].bytes.data() + i * sizeof(float), &v, sizeof v);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(check_tensors_errors)

BOOST_AUTO_TEST_CASE(matching_tensors_pass) {
  expect_ok(raw_tiny());
  const Buffer b = contribution_with(raw_tiny(2.0f));
  const Weights w = read_weights(verify_contribution(b)->tensors());
  BOOST_TEST_REQUIRE(w.size() == 2u);
  BOOST_TEST(w[0].values == tiny_weights(2.0f)[0].values, boost::test_tools::per_element());
  BOOST_TEST(w[1].values == tiny_weights(2.0f)[1].values, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(no_tensors) {
  const auto layout = tiny_layout();
  check_error([&] { check_tensors(nullptr, layout); }, ErrorCode::bad_shape, "no tensors");
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
  expect_check(ts, ErrorCode::bad_shape, "'dense/bias'");
}

BOOST_AUTO_TEST_CASE(float16_is_bad_dtype) {
  // A float16 kernel built by hand: 6 halves = 12 bytes of data.
  auto ts = raw_tiny();
  ts[0].dtype = fb::DType::float16;
  ts[0].bytes.assign(12, '\0');
  const uint16_t one_half = 0x3c00;  // 1.0 in IEEE half precision
  for (size_t i = 0; i < 6; ++i) std::memcpy(ts[0].bytes.data() + 2 * i, &one_half, 2);
  expect_check(ts, ErrorCode::bad_dtype, "'dense/kernel' has dtype float16, only float32 is accepted");
  ts = raw_tiny();
  ts[1].dtype = fb::DType::float64;
  ts[1].bytes.assign(24, '\0');
  expect_check(ts, ErrorCode::bad_dtype, "dtype float64");
  ts = raw_tiny();
  ts[1].dtype = fb::DType::bfloat16;
  ts[1].bytes.assign(6, '\0');
  expect_check(ts, ErrorCode::bad_dtype, "dtype bfloat16");
}

BOOST_AUTO_TEST_CASE(data_length) {
  auto ts = raw_tiny();
  ts[1].bytes.resize(ts[1].bytes.size() + 4, '\0');
  expect_check(ts, ErrorCode::bad_shape, "'dense/bias' holds 16 bytes, its shape needs 12");
  ts = raw_tiny();
  ts[0].bytes.resize(23);
  expect_check(ts, ErrorCode::bad_shape, "'dense/kernel' holds 23 bytes, its shape needs 24");
  ts = raw_tiny();
  ts[0].bytes.clear();
  expect_check(ts, ErrorCode::bad_shape, "holds 0 bytes");
}

BOOST_AUTO_TEST_CASE(non_finite_values) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  auto ts = raw_tiny();
  set_value(ts, 0, 4, nan);
  expect_check(ts, ErrorCode::non_finite, "'dense/kernel' holds nan at index 4");
  ts = raw_tiny();
  set_value(ts, 1, 2, inf);
  expect_check(ts, ErrorCode::non_finite, "'dense/bias' holds inf at index 2");
  ts = raw_tiny();
  set_value(ts, 1, 0, -inf);
  expect_check(ts, ErrorCode::non_finite, "holds -inf at index 0");
  // A signalling NaN and the largest finite value.
  ts = raw_tiny();
  set_value(ts, 0, 0, std::numeric_limits<float>::signaling_NaN());
  expect_check(ts, ErrorCode::non_finite, "index 0");
  ts = raw_tiny();
  set_value(ts, 0, 0, std::numeric_limits<float>::max());
  set_value(ts, 0, 1, -std::numeric_limits<float>::max());
  set_value(ts, 0, 2, std::numeric_limits<float>::denorm_min());
  expect_ok(ts);
  // Without the finiteness check NaN passes (stored versions are checked once).
  ts = raw_tiny();
  set_value(ts, 0, 4, nan);
  expect_ok(ts, false);
}

BOOST_AUTO_TEST_CASE(first_defect_wins) {
  // Shape is checked before dtype, dtype before length, length before values.
  auto ts = raw_tiny();
  ts[0].shape = {6};
  ts[0].dtype = fb::DType::float16;
  expect_check(ts, ErrorCode::bad_shape, "shape [6]");
  ts = raw_tiny();
  ts[0].dtype = fb::DType::float16;
  ts[0].bytes.resize(5);
  expect_check(ts, ErrorCode::bad_dtype, "float16");
  ts = raw_tiny();
  set_value(ts, 0, 0, std::numeric_limits<float>::quiet_NaN());
  ts[1].shape = {4};
  expect_check(ts, ErrorCode::non_finite, "'dense/kernel'");  // tensor 0 is complete before tensor 1
}

BOOST_AUTO_TEST_SUITE_END()
