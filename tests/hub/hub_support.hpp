// Helpers of the hub tests: a store in a temporary directory that can be
// reopened, the tiny model's weights, error checks.
#pragma once

#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "persistence/store.hpp"
#include "support/temp_dir.hpp"
#include "support/tiny_model.hpp"

namespace fedhub::fb {
inline std::ostream& operator<<(std::ostream& o, ErrorCode c) { return o << EnumNameErrorCode(c); }
inline std::ostream& operator<<(std::ostream& o, Role r) { return o << "Role::" << EnumNameRole(r); }
}  // namespace fedhub::fb

namespace fedhub::test {

// The initial weights used below: kernel {-1, -0.5, 0, 0.5, 1, 1.5}, bias {0.25, -0.5, 1.5}.
inline std::vector<float> tiny_initial_flat() { return {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f, 0.25f, -0.5f, 1.5f}; }

// tiny_layout weights from 9 flat values.
inline Weights tiny_from_flat(const std::vector<float>& f) {
  return {{"dense/kernel", {2, 3}, {f.begin(), f.begin() + 6}}, {"dense/bias", {3}, {f.begin() + 6, f.end()}}};
}

inline std::vector<float> flatten(const Weights& w) {
  std::vector<float> out;
  for (const auto& t : w) out.insert(out.end(), t.values.begin(), t.values.end());
  return out;
}

using TempDir = fedhub::testing::TempDir;

// A store in a temporary directory that can be closed and reopened.
struct StoreFixture {
  TempDir dir;
  std::unique_ptr<Store> store = Store::open(db_path());

  std::string db_path() const { return dir / "db"; }
  void reopen() {
    store.reset();
    store = Store::open(db_path());
  }
};

inline void check_error(const std::function<void()>& f, ErrorCode code, const std::string& needle = {}) {
  try {
    f();
    BOOST_ERROR("expected RequestError " << error_name(code) << ", nothing was thrown");
  } catch (const RequestError& e) {
    BOOST_TEST(e.code() == code, "message: " << e.what());
    if (!needle.empty())
      BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos,
                 "'" << e.what() << "' should mention '" << needle << "'");
  }
}

// |a_i - b_i| <= tol * max(1, |b_i|) for all i.
inline void check_close(const std::vector<float>& a, const std::vector<double>& b, double tol = 1e-6) {
  BOOST_TEST_REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i)
    BOOST_TEST(std::abs(a[i] - b[i]) <= tol * std::max(1.0, std::abs(b[i])),
               "index " << i << ": got " << a[i] << ", expected " << b[i]);
}

}  // namespace fedhub::test
