// Issue 11 across real processes: a hub, participants that train on
// Fashion-MNIST and upload, a manager that merges and then reads what went
// into each version (`fl-manager history`) and replays merges
// (`fl-manager verify`): FedAvg and FedAdam versions verify bit for bit, a
// refused upload is listed with the version its round became, and a
// contribution changed in the hub's data directory fails verification,
// naming its participant.
//
// Every wait is bounded: commands run under timeout(1), the hub's output is
// read with a watchdog, process ends are awaited with wait_at_most.
#include <signal.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "persistence/store.hpp"
#include "running_hub.hpp"

using namespace fedhub::testing;
using nlohmann::json;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The hub of these tests, with model "fm".
struct CrowdHub : RunningHub {
  // The same on Fashion-MNIST's `classes`, uploaded; returns the upload's
  // exit status and output.
  RunResult contribute(const std::string& key, const std::string& classes, const std::string& seed) const {
    return upload(key, train(key, "idx:" + kFashion + ":" + classes, seed));
  }
  // Model "fm": config/fmnist-mlp.arch.json, Adam for `steps` steps a round.
  void create_mlp(int steps) const {
    std::ofstream(dir / "recipe.json")
        << R"({"optimizer":{"name":"adam","learning_rate":0.002},"batch_size":32,"steps":)" << steps
        << R"(,"samples_per_round":)" << steps * 32 << "}";
    ok({"create", "fm", "--arch", kSrc + "/config/fmnist-mlp.arch.json", "--labels",
        kSrc + "/config/fashion-mnist-labels.txt", "--recipe", dir / "recipe.json"});
  }
};

json history(const CrowdHub& hub) { return json::parse(hub.ok({"--json", "history", "fm"}).out); }

}  // namespace

BOOST_AUTO_TEST_CASE(history_lists_what_went_in_and_verify_replays_merges) {
  CrowdHub hub;
  hub.start();
  hub.create_mlp(30);
  const auto ann = hub.key("ann"), ben = hub.key("ben"), cat = hub.key("cat");

  // Version 1: FedAvg of three participants.
  BOOST_REQUIRE(hub.contribute(ann, "0,1,2", "1").exit_code == 0);
  BOOST_REQUIRE(hub.contribute(ben, "3,4,5", "2").exit_code == 0);
  BOOST_REQUIRE(hub.contribute(cat, "6,7,8,9", "3").exit_code == 0);
  hub.ok({"merge", "fm", "--base", "0"});
  // An upload onto version 0 now is refused, and listed with version 2.
  const auto refused = hub.upload(ann, hub.dir / "out-1.fhc");
  BOOST_TEST(refused.exit_code == 1, refused.out << refused.err);

  // Version 2: FedAdam.
  hub.ok({"policy", "fm", "--aggregator", "fedadam", "--server-lr", "0.05"});
  BOOST_REQUIRE(hub.contribute(ann, "0,1,2", "4").exit_code == 0);
  BOOST_REQUIRE(hub.contribute(ben, "3,4,5", "5").exit_code == 0);
  hub.ok({"merge", "fm", "--base", "1"});

  auto h = history(hub);
  BOOST_REQUIRE(h.size() == 2u);
  BOOST_TEST(h[0]["version"] == 1);
  BOOST_TEST(h[0]["aggregator"] == "fedavg");
  BOOST_REQUIRE(h[0]["contributions"].size() == 3u);
  std::vector<std::string> who;
  double share = 0;
  for (const auto& c : h[0]["contributions"]) {
    who.push_back(c["participant"]);
    BOOST_TEST(c["base_version"] == 0);
    BOOST_TEST(c["staleness"] == 0);
    BOOST_TEST(c["num_samples"].get<uint64_t>() > 0u);
    BOOST_TEST(c["validation"] == "accepted");
    BOOST_TEST(c["update_norm"].get<double>() > 0.0);
    share += c["weight_share"].get<double>();
  }
  BOOST_TEST((who == std::vector<std::string>{"ann", "ben", "cat"}));
  BOOST_TEST(share == 1.0, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(h[0]["weights_sha256"].get<std::string>().size() == 64u);
  BOOST_TEST(h[0]["refused_total"] == 0);
  BOOST_TEST(h[1]["aggregator"] == "fedadam");
  BOOST_TEST(h[1]["aggregator_config"]["server_lr"] == 0.05);
  BOOST_TEST(h[1]["contributions"].size() == 2u);
  BOOST_TEST(h[1]["state_before_sha256"] != h[1]["state_after_sha256"]);
  BOOST_REQUIRE(h[1]["refused_total"] == 1);
  BOOST_TEST(h[1]["refused"][0]["participant"] == "ann");
  const std::string why = h[1]["refused"][0]["error"];
  BOOST_TEST((why == "stale" || why == "duplicate"), why);
  const auto text = hub.ok({"history", "fm"}).out;
  BOOST_TEST(has(text, "version 2"), text);
  BOOST_TEST(has(text, "fedadam onto version 1, 2 contributions"), text);

  for (const char* v : {"1", "2"}) {
    const auto r = hub.ok({"verify", "fm", "--version", v});
    BOOST_TEST(has(r.out, "bit for bit"), r.out);
  }
  auto j = json::parse(hub.ok({"--json", "verify", "fm", "--version", "2"}).out);
  BOOST_TEST(j["outcome"] == "identical");
  BOOST_TEST(j["replayed_sha256"] == h[1]["weights_sha256"]);
  BOOST_TEST(j["stored_sha256"] == h[1]["weights_sha256"]);
  // Version 0 is no merge: verify says so and fails.
  auto zero = hub.manager({"verify", "fm", "--version", "0"});
  BOOST_TEST(zero.exit_code == 1);
  BOOST_TEST(has(zero.out, "initial weights"), zero.out);

  // Someone changes ben's stored contribution to version 2 in the data directory.
  hub.stop();
  {
    auto store = fedhub::Store::open(hub.data);
    const uint64_t upload = h[1]["contributions"][1]["upload_id"];
    fedhub::StoreBatch b;
    bool changed = false;
    store->for_each_chunk("fm", upload, [&](uint64_t offset, std::span<const char> bytes) {
      if (changed) return;
      std::vector<char> copy(bytes.begin(), bytes.end());
      float v;
      std::memcpy(&v, copy.data() + 40, 4);
      v += 0.25f;
      std::memcpy(copy.data() + 40, &v, 4);
      b.put_chunk("fm", upload, offset, copy);
      changed = true;
    });
    BOOST_REQUIRE(changed);
    store->commit(b);
  }
  hub.start();
  const auto bad = hub.manager({"verify", "fm", "--version", "2"});
  BOOST_TEST(bad.exit_code == 1, bad.out << bad.err);
  BOOST_TEST(has(bad.out, "FAILED"), bad.out);
  BOOST_TEST(has(bad.out, "'ben'"), bad.out);
  BOOST_TEST(hub.manager({"verify", "fm", "--version", "1"}).exit_code == 0);
  hub.stop();
}

namespace {

// Fashion-MNIST's test images with their labels shuffled (IDX files of the
// test's own): a participant that trains on them sends noise.
std::string shuffled_labels_source(const TempDir& dir) {
  const std::string prefix = dir / "shuffled";
  auto images = run_bounded(
      {"/bin/sh", "-c", "gzip -dc " + kFashion + "-images-idx3-ubyte.gz > " + prefix + "-images-idx3-ubyte"});
  BOOST_REQUIRE(images.exit_code == 0);
  auto labels = run_bounded({"/bin/sh", "-c", "gzip -dc " + kFashion + "-labels-idx1-ubyte.gz"});
  BOOST_REQUIRE(labels.exit_code == 0 && labels.out.size() == 8 + 10000);
  std::string bytes = labels.out;
  std::mt19937 rng(11);
  std::shuffle(bytes.begin() + 8, bytes.end(), rng);
  std::ofstream(prefix + "-labels-idx1-ubyte", std::ios::binary) << bytes;
  return "idx:" + prefix;
}

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// The model's status once its newest evaluation is of `version` (polled with
// a deadline: the scorer works on its own thread).
json evaluation_of(const CrowdHub& hub, uint64_t version, bool evaluated = true) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    auto st = json::parse(hub.ok({"--json", "status", "fm"}).out);
    if (st.contains("evaluation") && st["evaluation"]["version"] == version &&
        st["evaluation"]["evaluated"] == evaluated)
      return st["evaluation"];
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                          "version " << version << " was not scored within 120 s: " << st.dump());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(hub_side_evaluation_scores_contributions_and_flags_noise) {
  CrowdHub hub;
  hub.start();
  hub.create_mlp(40);
  hub.ok({"policy", "fm", "--flag-margin", "0.4"});
  const auto ann = hub.key("ann"), ben = hub.key("ben"), mal = hub.key("mal");
  const auto noise = shuffled_labels_source(hub.dir);
  auto round = [&](uint64_t base, const std::string& seed) {
    BOOST_REQUIRE(hub.contribute(ann, "0,1,2,3,4,5,6,7,8,9", seed + "1").exit_code == 0);
    BOOST_REQUIRE(hub.contribute(ben, "0,1,2,3,4,5,6,7,8,9", seed + "2").exit_code == 0);
    // mal trains on shuffled labels
    const auto result = hub.train(mal, noise, seed + "3");
    BOOST_REQUIRE(hub.upload(mal, result).exit_code == 0);
    // From version 3 on, flagged participants are excluded.
    if (base == 2) hub.ok({"policy", "fm", "--exclude-flagged", "on"});
    hub.ok({"merge", "fm", "--base", std::to_string(base)});
  };
  round(0, "1");  // version 1: scored by cosine only (no evaluation source yet)
  auto v1 = evaluation_of(hub, 1, false);
  BOOST_REQUIRE(v1["contributions"].size() == 3u);
  BOOST_TEST(v1["contributions"][2]["flagged"] == true, v1.dump());  // flagged, not excluded yet
  BOOST_TEST(v1["contributions"][0]["flagged"] == false, v1.dump());

  // An upload while the hub evaluates: eval-set scores the current version
  // (60,000 images, and a leave-one-out merge and evaluation per
  // contribution), and the upload is answered before that ends.
  const auto result = hub.train(ann, "idx:" + kFashion, "21");
  const std::string train_set = "idx:/usr/share/datasets/fashion-mnist/train";
  hub.ok({"eval-set", "fm", "--data", train_set});
  BOOST_REQUIRE(hub.upload(ann, result).exit_code == 0);
  const uint64_t answered = now_ms();
  auto e1 = evaluation_of(hub, 1);
  BOOST_TEST(e1["evaluated"] == true);
  BOOST_TEST(e1["samples"] == 60000);
  BOOST_TEST(e1["scored_at_ms"].get<uint64_t>() > answered, "the evaluation ended before the upload was answered ("
                                                                << e1.dump() << ", answered at " << answered << ")");
  BOOST_TEST(e1["accuracy"].get<double>() > 0.3);
  BOOST_REQUIRE(e1["per_class_accuracy"].size() == 10u);

  // Version 2 with ann's upload above; version 3: leave-one-out ranks mal last.
  BOOST_REQUIRE(hub.contribute(ben, "0,1,2,3,4,5,6,7,8,9", "22").exit_code == 0);
  hub.ok({"merge", "fm", "--base", "1"});
  evaluation_of(hub, 2);
  round(2, "3");
  auto v3 = evaluation_of(hub, 3);
  BOOST_TEST(v3["evaluated"] == true);
  for (const auto& c : v3["contributions"]) {
    BOOST_TEST(c["loo_loss_change"].is_number(), c.dump());
    BOOST_TEST(c["cosine"].is_number(), c.dump());
  }
  auto board = json::parse(hub.ok({"--json", "leaderboard", "fm"}).out);
  BOOST_REQUIRE(board.size() == 3u);
  BOOST_TEST(board[2]["participant"] == "mal", board.dump());
  BOOST_TEST(board[0]["score"].get<double>() > board[2]["score"].get<double>());
  BOOST_TEST(board[0]["contributions"].get<int>() >= 2);
  // mal's noise is flagged, and the policy excludes it.
  auto h = history(hub);
  bool flagged = false;
  for (const auto& c : h[2]["scores"]["contributions"]) flagged |= c["participant"] == "mal" && c["flagged"] == true;
  BOOST_TEST(flagged, h[2]["scores"].dump());
  const auto refused = hub.upload(mal, hub.dir / "out-33.fhc");
  BOOST_TEST(refused.exit_code == 1);
  BOOST_TEST(has(refused.err, "excluded"), refused.err);
  BOOST_TEST(board[2]["excluded"] == true);
  // A participant sees its own row only.
  auto own = run_bounded(
      {kBin + "/fl-participant", "standing", "--hub", hub.address, "--key", mal, "--model", "fm", "--json"});
  BOOST_REQUIRE(own.exit_code == 0);
  auto row = json::parse(own.out);
  BOOST_TEST(row["participant"] == "mal");
  BOOST_TEST(row["rank"] == 3);
  hub.ok({"unflag", "fm", "mal"});
  BOOST_TEST(!has(hub.ok({"--json", "policy", "fm"}).out, "\"mal\""));
  hub.stop();
}
