// Who belongs (issue 10, item 4), the pure parts: the per-key upload quota
// (hub/upload_quota.hpp), the per-key limit on open uploads (ModelCore), and
// the back-off for peers that fail to authenticate (security/auth_backoff.hpp).
#include <boost/test/unit_test.hpp>
#include <string>

#include "hub/upload_quota.hpp"
#include "messages/errors.hpp"
#include "security/auth_backoff.hpp"

using namespace fedhub;

namespace {

// The RequestError's code and whether its message holds `part`.
template <class F>
void expect_refusal(F&& f, ErrorCode code, const std::string& part) {
  try {
    f();
    BOOST_FAIL("expected a refusal containing '" << part << "'");
  } catch (const RequestError& e) {
    BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(code));
    BOOST_TEST(std::string(e.what()).find(part) != std::string::npos, e.what());
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(upload_quota)

BOOST_AUTO_TEST_CASE(charges_within_a_sliding_minute_per_key) {
  UploadQuota q(1000);
  q.charge("a", 400, 0);
  q.charge("a", 400, 10000);
  q.charge("b", 1000, 10000);  // another key has a minute of its own
  expect_refusal([&] { q.charge("a", 300, 20000); }, ErrorCode::quota_exceeded, "try again in 40 s");
  BOOST_TEST(q.used("a", 20000) == 800u);
  // The first charge leaves the window at 60 s.
  BOOST_TEST(q.used("a", 60000) == 400u);
  q.charge("a", 600, 60000);
  BOOST_TEST(q.used("a", 60000) == 1000u);
}

BOOST_AUTO_TEST_CASE(a_refund_takes_back_exactly_its_charge) {
  UploadQuota q(1000);
  const auto t1 = q.charge("a", 700, 0);
  q.charge("a", 200, 1);
  q.refund("a", t1);
  BOOST_TEST(q.used("a", 2) == 200u);
  q.refund("a", t1);      // twice: nothing more
  q.refund("a", 999999);  // unknown ticket
  q.refund("nobody", 1);
  BOOST_TEST(q.used("a", 2) == 200u);
  q.charge("a", 800, 3);
}

BOOST_AUTO_TEST_CASE(an_upload_larger_than_the_quota_names_the_setting) {
  UploadQuota q(100);
  expect_refusal([&] { q.charge("a", 101, 0); }, ErrorCode::quota_exceeded, "quota_upload_bytes_per_minute");
  BOOST_TEST(q.used("a", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(no_quota_charges_nothing) {
  UploadQuota q(0);
  BOOST_TEST(!q.enabled());
  for (int i = 0; i < 10; ++i) BOOST_TEST(q.charge("a", 1ull << 40, 0) == 0u);
  BOOST_TEST(q.used("a", 0) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(auth_backoff)

BOOST_AUTO_TEST_CASE(backs_off_after_the_failures_doubling_up_to_the_max) {
  AuthBackoff b({.failures_before_backoff = 3, .first_ms = 1000, .max_ms = 5000});
  BOOST_TEST(b.failed("p", 0) == 0u);
  BOOST_TEST(b.failed("p", 1) == 0u);
  BOOST_TEST(b.blocked_for("p", 2) == 0u);
  BOOST_TEST(b.failed("p", 2) == 1000u);
  BOOST_TEST(b.blocked_for("p", 2) == 1000u);
  BOOST_TEST(b.blocked_for("p", 502) == 500u);
  BOOST_TEST(b.blocked_for("p", 1002) == 0u);
  BOOST_TEST(b.blocked_for("q", 2) == 0u);  // other peers are not affected
  BOOST_TEST(b.failed("p", 1100) == 2000u);
  BOOST_TEST(b.failed("p", 3200) == 4000u);
  BOOST_TEST(b.failed("p", 7300) == 5000u);  // capped
  BOOST_TEST(b.failed("p", 12200) == 5000u);
}

BOOST_AUTO_TEST_CASE(a_success_forgets_and_a_quiet_peer_starts_afresh) {
  AuthBackoff b({.failures_before_backoff = 2, .first_ms = 1000, .max_ms = 4000});
  b.failed("p", 0);
  b.succeeded("p");
  BOOST_TEST(b.failed("p", 1) == 0u);  // counting from one again
  BOOST_TEST(b.failed("p", 2) == 1000u);
  // Quiet for longer than the longest back-off: the count restarts.
  BOOST_TEST(b.failed("p", 10000) == 0u);
  BOOST_TEST(b.peers() == 1u);
}

BOOST_AUTO_TEST_CASE(memory_is_bounded_by_max_peers) {
  AuthBackoff b({.failures_before_backoff = 1, .first_ms = 1000, .max_ms = 60000, .max_peers = 100});
  for (int i = 0; i < 10000; ++i) b.failed("peer-" + std::to_string(i), static_cast<uint64_t>(i));
  BOOST_TEST(b.peers() <= 100u);
  // The newest are remembered, the oldest forgotten.
  BOOST_TEST(b.blocked_for("peer-9999", 9999) > 0u);
  BOOST_TEST(b.blocked_for("peer-0", 9999) == 0u);
}

BOOST_AUTO_TEST_CASE(settings_are_checked) {
  BOOST_CHECK_THROW(AuthBackoff({.failures_before_backoff = 0}), std::invalid_argument);
  BOOST_CHECK_THROW(AuthBackoff({.first_ms = 5000, .max_ms = 1000}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
