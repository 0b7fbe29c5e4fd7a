// Helpers shared by the messages tests: a tiny model, temporary directories,
// buffers placed at chosen alignments, and checks on RequestError codes.
#pragma once

#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "messages/buffer.hpp"
#include "messages/errors.hpp"
#include "messages/event_generated.h"
#include "messages/model_spec_generated.h"
#include "messages/request_generated.h"
#include "messages/response_generated.h"
#include "messages/tensor_generated.h"
#include "model/tensor.hpp"
#include "support/temp_dir.hpp"
#include "support/tiny_model.hpp"

// Printable enums for BOOST_TEST's messages (found by ADL).
namespace fedhub::fb {
inline std::ostream& operator<<(std::ostream& o, ErrorCode c) { return o << EnumNameErrorCode(c); }
inline std::ostream& operator<<(std::ostream& o, Request r) { return o << "Request::" << EnumNameRequest(r); }
inline std::ostream& operator<<(std::ostream& o, Response r) { return o << "Response::" << EnumNameResponse(r); }
inline std::ostream& operator<<(std::ostream& o, EventBody e) { return o << "EventBody::" << EnumNameEventBody(e); }
inline std::ostream& operator<<(std::ostream& o, Role r) { return o << "Role::" << EnumNameRole(r); }
inline std::ostream& operator<<(std::ostream& o, DType d) { return o << "DType::" << EnumNameDType(d); }
inline std::ostream& operator<<(std::ostream& o, Availability a) {
  return o << "Availability::" << EnumNameAvailability(a);
}
}  // namespace fedhub::fb

namespace fedhub::test {

// Weights of tiny_layout: kernel[i] = offset + 0.5 i - 1, bias = offset + {0.25, -0.5, 1.5}.
inline Weights tiny_weights(float offset = 0.0f) {
  Weights w = {{"dense/kernel", {2, 3}, {}}, {"dense/bias", {3}, {0.25f, -0.5f, 1.5f}}};
  for (int i = 0; i < 6; ++i) w[0].values.push_back(offset + 0.5f * static_cast<float>(i) - 1.0f);
  for (auto& v : w[1].values) v += offset;
  return w;
}

// Same names, shapes and value bits (so -0.0 differs from 0.0).
inline void check_weights_identical(const Weights& got, const Weights& want) {
  BOOST_TEST_REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    BOOST_TEST_CONTEXT("tensor " << i) {
      BOOST_TEST(got[i].name == want[i].name);
      BOOST_TEST(got[i].shape == want[i].shape, boost::test_tools::per_element());
      BOOST_TEST_REQUIRE(got[i].values.size() == want[i].values.size());
      if (!got[i].values.empty())
        BOOST_TEST(std::memcmp(got[i].values.data(), want[i].values.data(), got[i].values.size() * sizeof(float)) == 0);
    }
  }
}

using TempDir = fedhub::testing::TempDir;

// A copy of `data` whose first byte sits at (an address that is 64-aligned) + shift.
class PlacedCopy {
 public:
  PlacedCopy(std::span<const char> data, size_t shift) : storage_(new char[data.size() + 64 + shift]) {
    auto base = reinterpret_cast<uintptr_t>(storage_.get());
    char* p = storage_.get() + ((64 - base % 64) % 64) + shift;
    if (!data.empty()) std::memcpy(p, data.data(), data.size());
    view_ = {p, data.size()};
  }
  std::span<const char> span() const { return view_; }
  char* data() { return const_cast<char*>(view_.data()); }

 private:
  std::unique_ptr<char[]> storage_;
  std::span<const char> view_;
};

// Pointer identity (BOOST_TEST compares two char pointers as C strings).
inline bool same_address(const void* a, const void* b) { return a == b; }

inline bool is_aligned(const void* p, size_t alignment) { return reinterpret_cast<uintptr_t>(p) % alignment == 0; }

// Runs `f` and checks that it throws RequestError with `code` and a message
// containing `needle`.
inline void check_error(const std::function<void()>& f, ErrorCode code, const std::string& needle = {}) {
  try {
    f();
    BOOST_ERROR("expected RequestError " << error_name(code) << ", nothing was thrown");
  } catch (const RequestError& e) {
    BOOST_TEST(error_name(e.code()) == error_name(code), "message: " << e.what());
    if (!needle.empty())
      BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos,
                 "'" << e.what() << "' should mention '" << needle << "'");
  }
}

}  // namespace fedhub::test
