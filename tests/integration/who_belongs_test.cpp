// Issue 10, item 4 against a real fl-hub process: the per-key upload quota
// (quota_upload_bytes_per_minute) and open-upload quota (quota_open_uploads)
// refuse with quota_exceeded before any weight is sent, and a refused begin
// costs no quota; a peer that keeps failing to authenticate is backed off on
// the CAF door (by node) and on the HTTP door (by address, with
// Retry-After), and the failures are counted in fedhub_auth_failures_total.
//
// The clients are this process's (CAF remoting over loopback, curl for
// HTTP). Every wait is bounded.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <caf/actor_system.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "bench/transfer/bench_models.hpp"
#include "client/hub_client.hpp"
#include "client/requests.hpp"
#include "client/system_config.hpp"
#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "messages/responses.hpp"
#include "process.hpp"
#include "support/temp_dir.hpp"

using namespace fedhub;
using namespace fedhub::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kBin = FEDHUB_BIN_DIR;
constexpr auto kLimit = std::chrono::seconds(30);
constexpr uint64_t kParams = 1000;  // contributions of 4,000 bytes of weights

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

struct Hub {
  TempDir dir;
  std::unique_ptr<Child> process;
  uint16_t port = free_port();
  uint16_t http_port = free_port();

  explicit Hub(const json& given) {
    json settings = given;
    settings["port"] = port;
    settings["http_port"] = http_port;
    settings["data_dir"] = dir.path() + "/data";
    std::ofstream(dir.path() + "/hub.json") << settings.dump();
    process = std::make_unique<Child>(std::vector<std::string>{kBin + "/fl-hub", "--config", dir.path() + "/hub.json"});
    wait_line(*process, "HTTP API");
  }
  ~Hub() {
    process->signal(SIGTERM);
    process->wait_at_most(kLimit);
  }
  std::string manager_key() const { return read_text(dir.path() + "/data/manager.key"); }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(http_port) + path; }
};

struct Clients {
  SystemConfig cfg{2};
  caf::actor_system system{cfg};
};

std::string add_participant(HubClient& manager, const std::string& name) {
  Buffer holder;
  return manager.call_as<fb::KeyCreated>(requests::add_key(manager.key(), name, fb::Role::participant), holder)
      ->key()
      ->str();
}

void merge(HubClient& manager, const std::string& model, uint64_t base) {
  Buffer holder;
  manager.call_as<fb::MergeReceipt>(requests::merge(manager.key(), model, base), holder);
}

uint64_t pending(HubClient& manager, const std::string& model) {
  Buffer holder;
  return manager.call_as<fb::ModelStatus>(requests::status(manager.key(), model, -1), holder)
      ->summary()
      ->pending_contributions();
}

// The code and message of the RequestError f throws (nullopt when none).
struct Refusal {
  std::optional<ErrorCode> code;
  std::string why;
};
Refusal refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const RequestError& e) {
    return {e.code(), e.what()};
  }
  return {};
}

Buffer contribution(uint64_t base, uint64_t seed) { return bench::random_contribution("m", base, kParams, seed, 100); }

// A metric's value in the hub's /metrics (0 when absent).
double metric(const Hub& hub, const std::string& series) {
  const auto r = run_bounded({"curl", "-sS", "--max-time", "10", hub.url("/metrics")});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto at = r.out.find(series + " ");
  return at == std::string::npos ? 0 : std::stod(r.out.substr(at + series.size() + 1));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(who_belongs)

BOOST_AUTO_TEST_CASE(the_upload_byte_quota_refuses_before_any_weight_and_refunds_refused_begins) {
  // Room for two contributions of this model per minute, not three.
  const uint64_t one = contribution(0, 1).size();
  Hub hub(json{{"quota_upload_bytes_per_minute", 2 * one + one / 2}});
  Clients c;
  HubClient manager(c.system, "127.0.0.1", hub.port, hub.manager_key(), kLimit);
  bench::create_dense_model(manager, "m", kParams, R"({"merge":"manual"})");
  HubClient org(c.system, "127.0.0.1", hub.port, add_participant(manager, "org-1"), kLimit);

  org.upload(contribution(0, 1));
  // A begin the model refuses (a duplicate) costs nothing.
  BOOST_TEST((refusal([&] { org.upload(contribution(0, 2)); }).code == ErrorCode::duplicate));
  merge(manager, "m", 0);
  org.upload(contribution(1, 3));  // the second within the minute
  merge(manager, "m", 1);
  const auto [code, why] = refusal([&] { org.upload(contribution(2, 4)); });
  BOOST_TEST((code == ErrorCode::quota_exceeded), why);
  BOOST_TEST(contains(why, "'org-1' has uploaded"), why);
  BOOST_TEST(contains(why, "quota_upload_bytes_per_minute"), why);
  BOOST_TEST(contains(why, "try again in"), why);
  BOOST_TEST(pending(manager, "m") == 0u);  // nothing of it was stored
  // Another key has a minute of its own.
  HubClient other(c.system, "127.0.0.1", hub.port, add_participant(manager, "org-2"), kLimit);
  other.upload(contribution(2, 5));
  BOOST_TEST(pending(manager, "m") == 1u);
}

BOOST_AUTO_TEST_CASE(open_uploads_per_key_are_bounded) {
  Hub hub(json{{"quota_open_uploads", 1}});
  Clients c;
  HubClient manager(c.system, "127.0.0.1", hub.port, hub.manager_key(), kLimit);
  bench::create_dense_model(manager, "m", kParams,
                            R"({"merge":"manual","staleness":{"kind":"constant","max_staleness":3}})");
  // Versions 0, 1, 2 from another key's contributions.
  HubClient helper(c.system, "127.0.0.1", hub.port, add_participant(manager, "org-2"), kLimit);
  for (uint64_t v = 0; v < 2; ++v) {
    helper.upload(contribution(v, 10 + v));
    merge(manager, "m", v);
  }
  const std::string key = add_participant(manager, "org-1");
  HubClient org(c.system, "127.0.0.1", hub.port, key, kLimit);
  HubClient org_again(c.system, "127.0.0.1", hub.port, key, kLimit);
  const Buffer first = contribution(1, 2);
  const auto header = read_contribution(first).header_bytes;
  // The first begin succeeds and stays open; the second is over the quota.
  const Buffer begun = org.call(requests::upload_begin(key, {header.begin(), header.end()}));
  BOOST_REQUIRE(flatbuffers::GetRoot<fb::ResponseEnvelope>(begun.data())->response_type() ==
                fb::Response::UploadSession);
  const auto [code, why] = refusal([&] { org_again.upload(contribution(2, 3)); });
  BOOST_TEST((code == ErrorCode::quota_exceeded), why);
  BOOST_TEST(contains(why, "quota_open_uploads"), why);
  BOOST_TEST(pending(manager, "m") == 0u);
}

BOOST_AUTO_TEST_CASE(a_node_that_keeps_failing_is_backed_off_on_the_caf_door) {
  Hub hub(json{{"auth_failures_before_backoff", 3}, {"auth_backoff_max_ms", 1000}});
  Clients c;
  HubClient manager(c.system, "127.0.0.1", hub.port, hub.manager_key(), kLimit);
  const std::string good = add_participant(manager, "org-1");
  // Another process's node: this one's must stay in good standing for `manager`.
  Clients other;
  HubClient bad(other.system, "127.0.0.1", hub.port, "fhk_" + std::string(48, '0'), kLimit);
  for (int i = 0; i < 3; ++i) {
    const auto [code, why] = refusal([&] { bad.call(requests::list_models(bad.key())); });
    BOOST_TEST((code == ErrorCode::unauthorized), why);
    BOOST_TEST(!contains(why, "unchecked"), why);
  }
  // Now even a good key from that node is refused unchecked, for a while.
  HubClient good_there(other.system, "127.0.0.1", hub.port, good, kLimit);
  const auto [code, why] = refusal([&] { good_there.call(requests::list_models(good)); });
  BOOST_TEST((code == ErrorCode::unauthorized), why);
  BOOST_TEST(contains(why, "refused unchecked for 1 s more"), why);
  // Other nodes are not affected.
  manager.call(requests::list_models(manager.key()));
  // The back-off ends (1 s): polled with a bounded deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::optional<ErrorCode> last = ErrorCode::unauthorized;
  while (last && std::chrono::steady_clock::now() < deadline) {
    last = refusal([&] { good_there.call(requests::list_models(good)); }).code;
    if (last) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_TEST(!last.has_value());
  BOOST_TEST(metric(hub, R"(fedhub_auth_failures_total{door="caf",reason="key"})") == 3);
  BOOST_TEST(metric(hub, R"(fedhub_auth_failures_total{door="caf",reason="backoff"})") >= 1);
}

BOOST_AUTO_TEST_CASE(an_address_that_keeps_failing_is_backed_off_on_the_http_door) {
  Hub hub(json{{"auth_failures_before_backoff", 2}, {"auth_backoff_max_ms", 60000}});
  auto get = [&](const std::string& key) {
    return run_bounded({"curl", "-sS", "--max-time", "10", "-D", "-", "-H", "Authorization: Bearer " + key,
                        hub.url("/api/v1/models")});
  };
  const std::string wrong = "fhk_" + std::string(48, '1');
  for (int i = 0; i < 2; ++i) {
    const auto r = get(wrong);
    BOOST_TEST(contains(r.out, "HTTP/1.1 401"), r.out);
    BOOST_TEST(!contains(r.out, "unchecked"), r.out);
  }
  const auto r = get(hub.manager_key());  // the right key, from the same address
  BOOST_TEST(contains(r.out, "HTTP/1.1 401"), r.out);
  BOOST_TEST(contains(r.out, "refused unchecked"), r.out);
  BOOST_TEST(contains(r.out, "Retry-After: "), r.out);
  BOOST_TEST(metric(hub, R"(fedhub_auth_failures_total{door="http",reason="key"})") == 2);
  BOOST_TEST(metric(hub, R"(fedhub_auth_failures_total{door="http",reason="backoff"})") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
