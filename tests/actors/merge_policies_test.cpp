// Every merge policy through the real actors (hub, model, collector,
// merger), with clients over CAF remoting: the formulas against
// hand-computed values, contributions racing a merge, and state surviving a
// restart.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "client/requests.hpp"
#include "messages/events.hpp"
#include "test_hub.hpp"

using namespace fedhub;
using namespace fedhub::testing;
using nlohmann::json;

namespace {

fb::UploadReceiptT upload(HubClient& c, const Buffer& contribution) { return c.upload(contribution); }

json policy(HubClient& c, const std::string& model, const std::string& patch = {}) {
  Buffer holder;
  return json::parse(c.call_as<fb::PolicyInfo>(requests::policy(c.key(), model, patch), holder)->policy_json()->str());
}

void expect_all(const std::vector<float>& x, double value, double tol = 1e-5) {
  BOOST_REQUIRE(x.size() == 8u);
  for (float v : x) BOOST_TEST(std::abs(v - value) < tol, "value " << v << " != " << value);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(merge_policies)

BOOST_AUTO_TEST_CASE(manual_fedavg_and_mean) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "avg", 0, "");
  create_tiny(hub.manager(), "plain", 0, R"({"aggregator":{"name":"mean"}})");
  auto a = hub.client(hub.add_participant("a"));
  auto b = hub.client(hub.add_participant("b"));
  for (const char* m : {"avg", "plain"}) {
    upload(*a, tiny_contribution(m, 0, 1.0f, 1));
    BOOST_TEST(upload(*b, tiny_contribution(m, 0, 3.0f, 3)).contributions == 2u);
  }
  auto r = merge(hub.manager(), "avg", 0);
  BOOST_TEST(r.new_version == 1u);
  BOOST_TEST(r.total_samples == 4u);
  expect_all(current_weights(hub.manager(), "avg"), (1.0 * 1 + 3.0 * 3) / 4);  // weighted by samples
  merge(hub.manager(), "plain", 0);
  expect_all(current_weights(hub.manager(), "plain"), 2.0);  // the paper's plain mean
  BOOST_TEST((refusal([&] { merge(hub.manager(), "avg", 0); }) == ErrorCode::base_not_current));
  BOOST_TEST((refusal([&] { merge(hub.manager(), "avg", 1); }) == ErrorCode::not_enough_contributions));
  // The paper's rule: a result trained from version 0 is stale now.
  BOOST_TEST((refusal([&] { upload(*a, tiny_contribution("avg", 0, 1.0f, 1)); }) == ErrorCode::stale));
}

BOOST_AUTO_TEST_CASE(buffered_merges_at_k_with_events) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "buf", 0, R"({"merge":"buffered","k":2,"aggregator":{"name":"mean"}})");
  auto watcher = hub.client(hub.manager().key());
  watcher->subscribe("buf");
  auto a = hub.client(hub.add_participant("a"));
  auto b = hub.client(hub.add_participant("b"));
  upload(*a, tiny_contribution("buf", 0, 2.0f, 10));
  uint64_t version = 9;
  current_weights(hub.manager(), "buf", &version);
  BOOST_TEST(version == 0u);  // one of two: no merge yet
  upload(*b, tiny_contribution("buf", 0, 4.0f, 10));
  auto event = wait_for_version(*watcher, 1);
  const auto* v = events::verify(event)->body_as_VersionPublished();
  BOOST_REQUIRE(v->contributions());
  BOOST_TEST(v->contributions()->size() == 2u);
  BOOST_TEST(v->contributions()->Get(0)->weight() == 1.0);
  expect_all(current_weights(hub.manager(), "buf", &version), 3.0);
  BOOST_TEST(version == 1u);
}

BOOST_AUTO_TEST_CASE(buffered_fedbuff_staleness_weights_deltas_against_their_base) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "fb", 0, R"({"merge":"buffered","k":2,"staleness":{"kind":"fedbuff","max_staleness":2}})");
  auto watcher = hub.client(hub.manager().key());
  watcher->subscribe("fb");
  std::vector<std::unique_ptr<HubClient>> p;
  for (const char* n : {"a", "b", "c", "d"}) p.push_back(hub.client(hub.add_participant(n)));
  upload(*p[0], tiny_contribution("fb", 0, 2.0f, 1));
  upload(*p[1], tiny_contribution("fb", 0, 2.0f, 1));
  wait_for_version(*watcher, 1);
  // c trained from version 0 (delta 4, staleness 1), d from version 1 (delta 1).
  upload(*p[2], tiny_contribution("fb", 0, 4.0f, 1));
  upload(*p[3], tiny_contribution("fb", 1, 3.0f, 1));
  auto event = wait_for_version(*watcher, 2);
  const double f = 1 / std::sqrt(2.0);  // Nguyen et al.: 1/sqrt(1+s)
  expect_all(current_weights(hub.manager(), "fb"), 2.0 + (f * 4.0 + 1.0) / (f + 1.0));
  const auto* v = events::verify(event)->body_as_VersionPublished();
  BOOST_TEST(v->contributions()->Get(0)->staleness() == 1u);
  BOOST_TEST(std::abs(v->contributions()->Get(0)->weight() - f) < 1e-12);
  // Three versions old is beyond max_staleness 2 once version 3 exists.
  upload(*p[0], tiny_contribution("fb", 2, 2.0f, 1));
  upload(*p[1], tiny_contribution("fb", 2, 2.0f, 1));
  wait_for_version(*watcher, 3);
  BOOST_TEST((refusal([&] { upload(*p[2], tiny_contribution("fb", 0, 1.0f, 1)); }) == ErrorCode::stale));
  BOOST_TEST(upload(*p[2], tiny_contribution("fb", 1, 1.0f, 1)).base_version == 1u);
}

BOOST_AUTO_TEST_CASE(async_mixes_each_contribution_at_once) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "as", 0,
              R"({"merge":"async","alpha":0.5,"staleness":{"kind":"polynomial","a":0.5,"max_staleness":3}})");
  auto watcher = hub.client(hub.manager().key());
  watcher->subscribe("as");
  auto a = hub.client(hub.add_participant("a"));
  auto b = hub.client(hub.add_participant("b"));
  upload(*a, tiny_contribution("as", 0, 4.0f, 1));
  wait_for_version(*watcher, 1);
  expect_all(current_weights(hub.manager(), "as"), 2.0);  // (1 - 0.5) 0 + 0.5 * 4
  upload(*b, tiny_contribution("as", 0, 4.0f, 1));        // staleness 1
  auto event = wait_for_version(*watcher, 2);
  const double alpha = 0.5 * std::pow(2.0, -0.5);
  expect_all(current_weights(hub.manager(), "as"), (1 - alpha) * 2.0 + alpha * 4.0);
  BOOST_TEST(std::abs(events::verify(event)->body_as_VersionPublished()->contributions()->Get(0)->weight() - alpha) <
             1e-12);
}

BOOST_AUTO_TEST_CASE(robust_median_through_the_actors) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "med", 0, R"({"aggregator":{"name":"median"}})");
  float values[] = {1.0f, 2.0f, 100.0f};
  const char* names[] = {"a", "b", "evil"};
  for (int i = 0; i < 3; ++i)
    upload(*hub.client(hub.add_participant(names[i])), tiny_contribution("med", 0, values[i], 5));
  merge(hub.manager(), "med", 0);
  expect_all(current_weights(hub.manager(), "med"), 2.0);
}

BOOST_AUTO_TEST_CASE(norm_bound_rejects_or_clips) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "rej", 0, R"({"norm_bound":1.0})");
  create_tiny(hub.manager(), "clip", 0, R"({"norm_bound":1.0,"on_norm_exceeded":"clip"})");
  auto a = hub.client(hub.add_participant("a"));
  BOOST_TEST((refusal([&] { upload(*a, tiny_contribution("rej", 0, 1.0f, 1)); }) == ErrorCode::norm_exceeded));
  upload(*a, tiny_contribution("rej", 0, 0.3f, 1));  // norm 0.85: fine
  upload(*a, tiny_contribution("clip", 0, 1.0f, 1));
  auto r = merge(hub.manager(), "clip", 0);
  BOOST_REQUIRE_MESSAGE(r.contributions.size() == 1u, "size " << r.contributions.size() << " version " << r.new_version
                                                              << " contributors " << r.contributors.size());
  BOOST_TEST(r.contributions[0]->clipped);
  expect_all(current_weights(hub.manager(), "clip"), 1.0 / std::sqrt(8.0));
}

BOOST_AUTO_TEST_CASE(central_dp_clips_each_update_through_the_actors) {
  TestHub hub;
  hub.start();
  // z = 0: the clipping alone, so the result is exact: both updates (norms
  // 2.83 and 5.66) are clipped to C = 1 and averaged uniformly.
  create_tiny(hub.manager(), "dp", 0,
              R"({"aggregator":{"dp":{"enabled":true,"clip_norm":1.0,"noise_multiplier":0.0}}})");
  upload(*hub.client(hub.add_participant("a")), tiny_contribution("dp", 0, 1.0f, 10));
  upload(*hub.client(hub.add_participant("b")), tiny_contribution("dp", 0, 2.0f, 1000));
  merge(hub.manager(), "dp", 0);
  expect_all(current_weights(hub.manager(), "dp"), 1.0 / std::sqrt(8.0));
  // With noise (z = 1, so sigma = z C / m = 1): the clipped update (every
  // coordinate 1/sqrt(8)) plus independent Gaussian noise per coordinate.
  policy(hub.manager(), "dp", R"({"aggregator":{"dp":{"noise_multiplier":1.0,"seed":7}}})");
  upload(*hub.client(hub.add_participant("c")), tiny_contribution("dp", 1, 1.0f, 1));
  merge(hub.manager(), "dp", 1);
  auto x = current_weights(hub.manager(), "dp");
  std::set<float> distinct(x.begin(), x.end());
  BOOST_TEST(distinct.size() == x.size());  // independent noise per coordinate
  double largest = 0;
  for (float v : x) largest = std::max(largest, std::abs(v - 2.0 / std::sqrt(8.0)));
  BOOST_TEST(largest > 0.05);
  BOOST_TEST(largest < 6.0);
}

BOOST_AUTO_TEST_CASE(interval_trigger_merges_without_k) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "tick", 0, R"({"merge":"buffered","k":100,"interval_seconds":0.05})");
  auto watcher = hub.client(hub.manager().key());
  watcher->subscribe("tick");
  upload(*hub.client(hub.add_participant("a")), tiny_contribution("tick", 0, 1.0f, 1));
  wait_for_version(*watcher, 1);
  expect_all(current_weights(hub.manager(), "tick"), 1.0);
}

BOOST_AUTO_TEST_CASE(contributions_racing_a_merge) {
  TestHub hub;
  hub.start();
  for (int round = 0; round < 6; ++round) {
    const std::string m = "race" + std::to_string(round);
    create_tiny(hub.manager(), m, 0, R"({"aggregator":{"name":"mean"}})");
    auto a = hub.client(hub.add_participant(m + "-a"));
    auto b = hub.client(hub.add_participant(m + "-b"));
    auto c = hub.client(hub.add_participant(m + "-c"));
    auto d = hub.client(hub.add_participant(m + "-d"));
    upload(*a, tiny_contribution(m, 0, 1.0f, 1));
    upload(*b, tiny_contribution(m, 0, 1.0f, 1));
    // c uploads for base 0 while the merge of base 0 runs.
    fb::MergeReceiptT merged;
    std::thread merger([&] { merged = merge(hub.manager(), m, 0); });
    bool c_acked = false;
    try {
      upload(*c, tiny_contribution(m, 0, 1.0f, 1));
      c_acked = true;
    } catch (const RequestError& e) {
      BOOST_TEST((e.code() == ErrorCode::stale), e.describe());
    }
    merger.join();
    BOOST_TEST(merged.new_version == 1u);
    const bool c_merged =
        std::find(merged.contributors.begin(), merged.contributors.end(), m + "-c") != merged.contributors.end();
    // Decided at acknowledgement: c was either refused (stale) or merged.
    BOOST_TEST(c_acked == c_merged);
    upload(*d, tiny_contribution(m, 1, 2.0f, 1));
    auto next = merge(hub.manager(), m, 1);
    BOOST_TEST(next.dropped == 0u);
    BOOST_TEST(next.contributors.size() == 1u);
  }
}

BOOST_AUTO_TEST_CASE(optimizer_state_and_policy_survive_a_restart) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "mom", 0, R"({"aggregator":{"name":"fedavgm","momentum":0.9,"server_lr":1.0}})");
  auto key = hub.add_participant("a");
  upload(*hub.client(key), tiny_contribution("mom", 0, 1.0f, 1));
  merge(hub.manager(), "mom", 0);  // m = 1, x = 1
  policy(hub.manager(), "mom", R"({"retain_versions":3})");
  hub.stop();
  hub.start();
  BOOST_TEST(policy(hub.manager(), "mom")["retain_versions"] == 3);
  upload(*hub.client(key), tiny_contribution("mom", 1, 1.5f, 1));
  merge(hub.manager(), "mom", 1);  // m = 0.9 * 1 + 0.5 = 1.4, x = 2.4 (1.5 if m were lost)
  expect_all(current_weights(hub.manager(), "mom"), 2.4);
}

BOOST_AUTO_TEST_CASE(old_weights_are_pruned_but_versions_listed) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "pr", 0, R"({"retain_versions":2})");
  auto a = hub.client(hub.add_participant("a"));
  for (uint64_t v = 0; v < 3; ++v) {
    upload(*a, tiny_contribution("pr", v, 1.0f + v, 1));
    merge(hub.manager(), "pr", v);
  }
  BOOST_TEST((refusal([&] { a->download_package("pr", 0); }) == ErrorCode::unknown_version));
  BOOST_TEST((refusal([&] { a->download_package("pr", 1); }) == ErrorCode::unknown_version));
  a->download_package("pr", 2);
  Buffer holder;
  const auto* st = hub.manager().call_as<fb::ModelStatus>(requests::status(hub.manager().key(), "pr", -1), holder);
  BOOST_TEST(st->versions()->size() == 4u);
}

BOOST_AUTO_TEST_SUITE_END()
