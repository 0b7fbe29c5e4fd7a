#include <boost/test/unit_test.hpp>
#include <cmath>

#include "federation/aggregator.hpp"

using namespace fedhub::federation;

BOOST_AUTO_TEST_SUITE(config_state)

BOOST_AUTO_TEST_CASE(defaults_per_strategy_are_flowers) {
  auto r = [](const std::string& name) {
    AggregatorConfig c;
    c.name = name;
    return c.resolved();
  };
  BOOST_TEST(r("fedavg").server_lr == 1.0);
  BOOST_TEST(r("fedavg").weighting == "samples");
  BOOST_TEST(r("mean").weighting == "uniform");
  BOOST_TEST(r("fedavgm").server_lr == 1.0);
  BOOST_TEST(r("fedavgm").momentum == 0.9);
  BOOST_TEST(r("fedadam").server_lr == 0.1);
  BOOST_TEST(r("fedadam").beta1 == 0.9);
  BOOST_TEST(r("fedadam").beta2 == 0.99);
  BOOST_TEST(r("fedadam").tau == 1e-9);
  BOOST_TEST(r("fedyogi").server_lr == 0.01);
  BOOST_TEST(r("fedyogi").tau == 1e-3);
  BOOST_TEST(r("fedadagrad").server_lr == 0.1);
  BOOST_TEST(r("fedadagrad").beta1 == 0.0);
  BOOST_TEST(r("fedadagrad").tau == 1e-9);
  BOOST_TEST(r("median").server_lr == 1.0);
  BOOST_TEST(r("trimmed-mean").trim_beta == 0.1);
  BOOST_TEST(r("krum").multi_krum == 1);
  AggregatorConfig c;
  c.name = "fedyogi";
  c.server_lr = 0.5;
  BOOST_TEST(c.resolved().server_lr == 0.5);
  c.beta2 = 1.0;
  BOOST_CHECK_THROW(c.resolved(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(config_json_round_trip) {
  AggregatorConfig c;
  c.name = "krum";
  c.server_lr = 0.75;  // momentum etc. stay unset (NaN -> null)
  c.krum_byzantine = 2;
  c.multi_krum = 3;
  c.dp.seed = 18446744073709551615ull;
  c.dp.clip_norm = 0.3;
  const auto json = c.to_json();
  BOOST_TEST(json.find("\"momentum\":null") != std::string::npos, json);
  const auto back = AggregatorConfig::from_json(json);
  BOOST_TEST(back.name == "krum");
  BOOST_TEST(back.server_lr == 0.75);
  BOOST_TEST(std::isnan(back.momentum));
  BOOST_TEST(back.krum_byzantine == 2);
  BOOST_TEST(back.multi_krum == 3);
  BOOST_TEST(back.dp.seed == 18446744073709551615ull);
  BOOST_TEST(back.dp.clip_norm == 0.3);
  BOOST_TEST(back.to_json() == json);
  // Absent fields keep their defaults.
  const auto partial = AggregatorConfig::from_json(R"({"name": "fedadam", "tau": 0.001})");
  BOOST_TEST(partial.tau == 0.001);
  BOOST_TEST(partial.resolved().server_lr == 0.1);
}

BOOST_AUTO_TEST_CASE(config_json_errors_name_the_problem) {
  auto expect = [](const std::string& json, const std::string& needle) {
    try {
      AggregatorConfig::from_json(json);
      BOOST_FAIL("expected std::invalid_argument for " << json);
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
  };
  expect(R"({"nmae": "fedavg"})", "nmae");
  expect(R"({"server_lr": "fast"})", "server_lr");
  expect(R"({"dp": {"noise": 1}})", "dp.noise");
  expect(R"({"name": )", "malformed");
  // Found by fuzz_policy (tests/fuzz): out_of_range, not parse_error, escaped.
  expect(R"({"server_lr": 5E444})", "malformed");
}

BOOST_AUTO_TEST_CASE(state_serialization_round_trip) {
  ServerState s;
  s.rounds = 42;
  s.vectors["m"] = {1.5f, -2.0f, 3e-8f};
  s.vectors["v"] = {};
  s.vectors["dp.clip_norm"] = {0.125f};
  const std::string bytes = s.serialize();
  BOOST_TEST(bytes.substr(0, 4) == "FHSS");
  const ServerState back = ServerState::deserialize(bytes);
  BOOST_TEST((back == s));
  BOOST_TEST((ServerState::deserialize(ServerState{}.serialize()) == ServerState{}));
}

BOOST_AUTO_TEST_CASE(state_deserialization_names_corruption) {
  ServerState s;
  s.rounds = 3;
  s.vectors["m"] = {1, 2, 3};
  const std::string bytes = s.serialize();
  auto expect = [](const std::string& b, const std::string& needle) {
    try {
      ServerState::deserialize(b);
      BOOST_FAIL("expected std::invalid_argument");
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
  };
  expect("XXXX" + bytes.substr(4), "magic");
  expect(bytes.substr(0, bytes.size() - 1), "truncated");
  expect(bytes.substr(0, 10), "truncated");
  expect(bytes + "x", "trailing");
  std::string v2 = bytes;
  v2[4] = 2;
  expect(v2, "version");
}

BOOST_AUTO_TEST_SUITE_END()
