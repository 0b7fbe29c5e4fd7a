// What fl-participant run says while it waits between rounds: the rule of the
// model's merge policy that makes the next version.
#include "apps/next_version_hint.hpp"

#include <boost/test/unit_test.hpp>

using fedhub::cli::ModelProgress;
using fedhub::cli::next_version_hint;

BOOST_AUTO_TEST_SUITE(next_version_hint_of_a_policy)

BOOST_AUTO_TEST_CASE(manual_merges_name_the_managers_command) {
  ModelProgress p{"fmnist", 3, R"({"merge":"manual","k":10})", 2, 1};
  BOOST_TEST(next_version_hint(p) ==
             "waiting for version 4 of 'fmnist': it merges manually, when a manager runs `fl-manager merge fmnist` "
             "(2 contributions wait, at least 1 needed)");
  p.policy_json.clear();  // no policy stored: the defaults (manual)
  p.pending = 1;
  p.min_contributions = 2;
  BOOST_TEST(next_version_hint(p) ==
             "waiting for version 4 of 'fmnist': it merges manually, when a manager runs `fl-manager merge fmnist` "
             "(1 contribution waits, at least 2 needed)");
}

BOOST_AUTO_TEST_CASE(buffered_merges_name_k_and_the_timer) {
  ModelProgress p{"m", 0, R"({"merge":"buffered","k":5})", 3, 1};
  BOOST_TEST(next_version_hint(p) ==
             "waiting for version 1 of 'm': it merges when 5 contributions wait (3 "
             "contributions wait now)");
  p.policy_json = R"({"merge":"buffered","k":5,"interval_seconds":30})";
  p.min_contributions = 2;
  BOOST_TEST(next_version_hint(p) ==
             "waiting for version 1 of 'm': it merges when 5 contributions wait, or every "
             "30 s when at least 2 wait (3 contributions wait now)");
}

BOOST_AUTO_TEST_CASE(async_merges_wait_for_the_next_contribution) {
  ModelProgress p{"m", 7, R"({"merge":"async","alpha":0.6,"interval_seconds":30})", 0, 1};
  BOOST_TEST(next_version_hint(p) ==
             "waiting for version 8 of 'm': it merges asynchronously: the next accepted contribution makes it");
}

BOOST_AUTO_TEST_CASE(an_unreadable_policy_leaves_out_the_rule) {
  ModelProgress p{"m", 1, "{not json", 0, 1};
  BOOST_TEST(next_version_hint(p) == "waiting for version 2 of 'm'");
  p.policy_json = R"({"merge":"someday"})";
  BOOST_TEST(next_version_hint(p) == "waiting for version 2 of 'm'");
}

BOOST_AUTO_TEST_SUITE_END()
