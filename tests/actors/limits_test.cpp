// Limits through the real actors: a model too large for the hub's config is
// refused before anything model-sized is allocated (the hub's memory does
// not move), and contributions' metrics are bounded.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <string>

#include "client/requests.hpp"
#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "persistence/store.hpp"
#include "test_hub.hpp"

using namespace fedhub;
using namespace fedhub::testing;

namespace {

// A field of /proc/self/status in kB ("VmRSS", "VmHWM"): the hub's actors
// run in this process.
uint64_t proc_status_kb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  BOOST_FAIL("no " << field << " in /proc/self/status");
  return 0;
}

// Resets VmHWM (the peak) to the current RSS.
void reset_peak() { std::ofstream("/proc/self/clear_refs") << "5"; }

fb::ModelSpecT dense_spec(const std::string& name, const std::string& units, const std::string& recipe = "{}") {
  fb::ModelSpecT spec;
  spec.name = name;
  spec.architecture_json =
      R"({"input":[784],"layers":[{"type":"dense","units":)" + units + R"(},{"type":"dense","units":2}]})";
  spec.labels = {"a", "b"};
  spec.recipe_json = recipe;
  spec.min_contributions = 1;
  return spec;
}

// The RequestError a call ends with (a test failure when it succeeds).
RequestError refused(const std::function<void()>& f) {
  try {
    f();
  } catch (const RequestError& e) {
    return e;
  }
  BOOST_FAIL("the request was not refused");
  return RequestError(ErrorCode::internal, "");
}

void create(HubClient& manager, const fb::ModelSpecT& spec) {
  Buffer holder;
  manager.call_as<fb::CreateReceipt>(requests::create_model(manager.key(), spec, {}, 1, ""), holder);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(limits)

BOOST_AUTO_TEST_CASE(a_billion_unit_model_is_refused_and_the_hub_does_not_grow) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "warm", 0, "");  // the first creation's one-off allocations happen here
  const uint64_t rss_before = proc_status_kb("VmRSS");
  reset_peak();
  const auto e = refused([&] { create(hub.manager(), dense_spec("big", "1000000000")); });
  BOOST_TEST(e.code() == ErrorCode::invalid_model, e.describe());
  const std::string message = e.what();
  BOOST_TEST(message.find("787000000002 parameters") != std::string::npos, message);
  BOOST_TEST(message.find("at most 500000000 (max_parameters)") != std::string::npos, message);
  const uint64_t peak = proc_status_kb("VmHWM");
  BOOST_TEST_MESSAGE("RSS before " << rss_before << " kB, peak during the refusal " << peak << " kB");
  BOOST_TEST(peak < rss_before + 64 * 1024, "the refusal peaked at " << peak << " kB from " << rss_before << " kB");
  // The hub still serves, and nothing of the big model exists.
  const auto unknown = refused([&] { hub.manager().download_package("big", -1); });
  BOOST_TEST(unknown.code() == ErrorCode::unknown_model, unknown.describe());
  BOOST_CHECK_NO_THROW(create_tiny(hub.manager(), "after", 0, ""));
}

BOOST_AUTO_TEST_CASE(the_configured_limits_reach_the_creation) {
  TestHub hub;
  HubOptions options;
  options.model_limits.max_parameters = 1000;  // 784*2+2 + 2*2+2 = 1576 parameters
  options.model_limits.max_steps = 100;
  hub.start(options);
  auto e = refused([&] { create(hub.manager(), dense_spec("m", "2")); });
  BOOST_TEST(e.code() == ErrorCode::invalid_model, e.describe());
  BOOST_TEST(std::string(e.what()).find("1576 parameters; the hub's config allows at most 1000") != std::string::npos,
             e.what());
  e = refused([&] { create(hub.manager(), dense_spec("s", "1", R"({"steps":2000000000000})")); });
  BOOST_TEST(std::string(e.what()).find("2000000000000 steps per round; the hub's config allows at most 100") !=
                 std::string::npos,
             e.what());
  BOOST_CHECK_NO_THROW(create(hub.manager(), dense_spec("s", "1", R"({"steps":100})")));
}

BOOST_AUTO_TEST_CASE(metrics_are_bounded_at_the_upload) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "m", 0, "");
  auto alice = hub.client(hub.add_participant("alice"));
  auto with_metrics = [](std::vector<std::pair<std::string, double>> metrics) {
    ContributionMeta meta;
    meta.model = "m";
    meta.num_samples = 10;
    meta.metrics = std::move(metrics);
    return build_contribution(meta, tiny_weights(1));
  };
  std::vector<std::pair<std::string, double>> many;
  for (int i = 0; i < 17; ++i) many.emplace_back(std::string("m").append(std::to_string(i)), 1.0);
  auto e = refused([&] { alice->upload(with_metrics(many)); });
  BOOST_TEST(e.code() == ErrorCode::bad_contribution, e.describe());
  BOOST_TEST(std::string(e.what()).find("17 metrics; at most 16") != std::string::npos, e.what());
  e = refused([&] { alice->upload(with_metrics({{"loss", 0.5}, {std::string(100, 'n'), 1.0}})); });
  BOOST_TEST(e.code() == ErrorCode::bad_contribution, e.describe());
  BOOST_TEST(std::string(e.what()).find("metric 1 has a name of 100 bytes") != std::string::npos, e.what());
  const auto receipt = alice->upload(with_metrics({{"loss", 0.5}, {"accuracy", 0.75}}));
  BOOST_TEST(receipt.base_version == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
