// docs/operations.md stays true to the code: every setting of
// config/hub.example.json is documented, and every row of the doc's settings
// table is a key the real parser (config/hub_config.cpp) takes, with the
// documented default (the code's) and the documented range (checked at both
// ends). The systemd unit starts fl-hub with a config file the doc names,
// and that file (config/hub.systemd.json) is one the parser takes, with the
// unit's state directory as its data directory.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/hub_config.hpp"
#include "support/temp_dir.hpp"

using fedhub::HubConfig;
using fedhub::load_hub_config;

namespace {

std::string read_source(const std::string& relative) {
  const std::string path = std::string(FEDHUB_SOURCE_DIR) + "/" + relative;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// One row of the doc's settings table: | `key` | `default` | accepted | meaning |
struct DocSetting {
  std::string key;
  nlohmann::json default_value;
  std::optional<std::pair<uint64_t, uint64_t>> range;  // "`lo` to `hi`" at the start of "accepted"
  std::string row;
};

const char* kTableHeading = "## Every setting";

std::vector<DocSetting> documented_settings(const std::string& doc) {
  std::vector<DocSetting> out;
  bool in_section = false;
  const std::regex range(R"(^`(\d+)` to `(\d+)`)");
  const std::regex quoted("`([^`]*)`");
  for (const auto& line : lines_of(doc)) {
    if (line.rfind("## ", 0) == 0) in_section = line == kTableHeading;
    if (!in_section || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) cells.push_back(trim(cell));
    if (cells.size() < 4) throw std::runtime_error("a settings row without 4 cells: " + line);
    DocSetting s;
    s.row = line;
    std::smatch m;
    if (!std::regex_search(cells[0], m, quoted)) throw std::runtime_error("no `key` in: " + line);
    s.key = m[1];
    if (!std::regex_search(cells[1], m, quoted)) throw std::runtime_error("no `default` in: " + line);
    s.default_value = nlohmann::json::parse(m[1].str());
    if (std::regex_search(cells[2], m, range)) s.range = {std::stoull(m[1]), std::stoull(m[2])};
    out.push_back(std::move(s));
  }
  return out;
}

// The first field in which two configurations differ, or "" when none does.
std::string difference(const HubConfig& a, const HubConfig& b) {
  if (a.bind != b.bind) return "bind";
  if (a.port != b.port) return "port";
  if (a.data_dir != b.data_dir) return "data_dir";
  if (a.threads != b.threads) return "threads";
  if (a.download_chunk_bytes != b.download_chunk_bytes) return "download_chunk_bytes";
  if (a.request_timeout_ms != b.request_timeout_ms) return "request_timeout_ms";
  if (a.merge_timeout_ms != b.merge_timeout_ms) return "merge_timeout_ms";
  if (a.upload_part_bytes != b.upload_part_bytes) return "upload_part_bytes";
  if (a.upload_window != b.upload_window) return "upload_window";
  if (a.upload_idle_seconds != b.upload_idle_seconds) return "upload_idle_seconds";
  if (a.max_uploads_per_model != b.max_uploads_per_model) return "max_uploads_per_model";
  if (a.fold_threshold_bytes != b.fold_threshold_bytes) return "fold_threshold_bytes";
  if (a.max_samples != b.max_samples) return "max_samples";
  if (a.readers != b.readers) return "readers";
  if (a.model_limits.max_parameters != b.model_limits.max_parameters) return "max_parameters";
  if (a.model_limits.max_model_bytes != b.model_limits.max_model_bytes) return "max_model_bytes";
  if (a.model_limits.max_steps != b.model_limits.max_steps) return "max_steps";
  if (a.model_limits.max_batch_size != b.model_limits.max_batch_size) return "max_batch_size";
  if (a.http_port != b.http_port) return "http_port";
  if (a.http_bind != b.http_bind) return "http_bind";
  if (a.http_max_connections != b.http_max_connections) return "http_max_connections";
  if (a.http_head_timeout_ms != b.http_head_timeout_ms) return "http_head_timeout_ms";
  if (a.http_io_timeout_ms != b.http_io_timeout_ms) return "http_io_timeout_ms";
  if (a.max_frame_bytes != b.max_frame_bytes) return "max_frame_bytes";
  if (a.max_connections != b.max_connections) return "max_connections";
  if (a.max_connections_per_peer != b.max_connections_per_peer) return "max_connections_per_peer";
  if (a.handshake_timeout_ms != b.handshake_timeout_ms) return "handshake_timeout_ms";
  if (a.tls_certificate != b.tls_certificate) return "tls_certificate";
  if (a.tls_key != b.tls_key) return "tls_key";
  if (a.tls_client_ca != b.tls_client_ca) return "tls_client_ca";
  if (a.allow_plain_remote != b.allow_plain_remote) return "allow_plain_remote";
  if (a.quota_upload_bytes_per_minute != b.quota_upload_bytes_per_minute) return "quota_upload_bytes_per_minute";
  if (a.quota_open_uploads != b.quota_open_uploads) return "quota_open_uploads";
  if (a.auth_failures_before_backoff != b.auth_failures_before_backoff) return "auth_failures_before_backoff";
  if (a.auth_backoff_max_ms != b.auth_backoff_max_ms) return "auth_backoff_max_ms";
  return "";
}

// Loads a config file holding `doc` with the real parser.
HubConfig load(const fedhub::testing::TempDir& dir, const nlohmann::json& doc) {
  const std::string path = dir / "hub.json";
  std::ofstream(path) << doc.dump();
  return load_hub_config(path);
}

// The error the parser gives for `doc`, or "" when it takes it.
std::string refusal(const fedhub::testing::TempDir& dir, const nlohmann::json& doc) {
  try {
    load(dir, doc);
    return "";
  } catch (const std::runtime_error& e) {
    return e.what();
  }
}

struct Files {
  std::string doc = read_source("docs/operations.md");
  nlohmann::json example = nlohmann::json::parse(read_source("config/hub.example.json"));
  std::vector<DocSetting> table = documented_settings(doc);
};

}  // namespace

BOOST_AUTO_TEST_SUITE(operations_doc)

BOOST_AUTO_TEST_CASE(every_setting_of_the_example_is_documented_in_the_table) {
  Files f;
  BOOST_REQUIRE(f.example.is_object());
  BOOST_REQUIRE_MESSAGE(!f.table.empty(), "docs/operations.md has no settings table under '" << kTableHeading << "'");
  std::set<std::string> tabled;
  for (const auto& s : f.table) {
    BOOST_TEST_MESSAGE("documented: " << s.key);
    BOOST_CHECK_MESSAGE(tabled.insert(s.key).second, "'" << s.key << "' is in the settings table twice");
  }
  for (auto it = f.example.begin(); it != f.example.end(); ++it) {
    BOOST_CHECK_MESSAGE(
        f.doc.find("`" + it.key() + "`") != std::string::npos,
        "'" << it.key() << "' of config/hub.example.json is not in docs/operations.md as `" << it.key() << "`");
    BOOST_CHECK_MESSAGE(tabled.count(it.key()),
                        "'" << it.key() << "' of config/hub.example.json is not in the doc's settings table");
  }
  // And the example is complete: it lists every documented setting.
  for (const auto& s : f.table)
    BOOST_CHECK_MESSAGE(f.example.contains(s.key),
                        "'" << s.key << "' is documented but not in config/hub.example.json");
}

BOOST_AUTO_TEST_CASE(the_example_holds_the_defaults_of_the_code) {
  Files f;
  fedhub::testing::TempDir dir;
  const auto field = difference(load(dir, f.example), HubConfig{});
  BOOST_CHECK_MESSAGE(field.empty(), "config/hub.example.json's '" << field << "' is not the code's default");
}

BOOST_AUTO_TEST_CASE(every_documented_setting_is_accepted_with_its_documented_default) {
  Files f;
  fedhub::testing::TempDir dir;
  for (const auto& s : f.table) {
    const nlohmann::json one = {{s.key, s.default_value}};
    const auto why = refusal(dir, one);
    BOOST_CHECK_MESSAGE(why.empty(), "the parser refuses the documented " << one.dump() << ": " << why);
    if (!why.empty()) continue;
    const auto field = difference(load(dir, one), HubConfig{});
    BOOST_CHECK_MESSAGE(field.empty(), "the documented default of '" << s.key << "' (" << s.default_value.dump()
                                                                     << ") is not the code's (it changes '" << field
                                                                     << "')");
  }
}

BOOST_AUTO_TEST_CASE(every_documented_range_is_the_one_checked) {
  Files f;
  fedhub::testing::TempDir dir;
  int ranges = 0;
  for (const auto& s : f.table) {
    if (!s.range) continue;
    ++ranges;
    const auto [lo, hi] = *s.range;
    for (uint64_t v : {lo, hi})
      BOOST_CHECK_MESSAGE(
          refusal(dir, {{s.key, v}}).empty(),
          "'" << s.key << "' = " << v << " is documented as accepted but refused: " << refusal(dir, {{s.key, v}}));
    std::vector<uint64_t> outside = {hi + 1};
    if (lo > 0) outside.push_back(lo - 1);
    for (uint64_t v : outside) {
      const auto why = refusal(dir, {{s.key, v}});
      BOOST_CHECK_MESSAGE(why.find("'" + s.key + "'") != std::string::npos,
                          "'" << s.key << "' = " << v << " is outside the documented range but "
                              << (why.empty() ? "accepted" : "refused without naming the key: " + why));
    }
  }
  BOOST_TEST(ranges > 0);
}

BOOST_AUTO_TEST_CASE(an_unknown_setting_is_refused_by_name) {
  fedhub::testing::TempDir dir;
  const auto why = refusal(dir, {{"no_such_setting", 1}});
  BOOST_TEST(why.find("unknown setting 'no_such_setting'") != std::string::npos, "error: " << why);
}

BOOST_AUTO_TEST_CASE(the_systemd_unit_starts_fl_hub_with_a_documented_config) {
  Files f;
  const auto unit = read_source("config/fedhub-hub.service");
  std::vector<std::string> exec, state_dirs;
  auto words_after = [](const std::string& line, const std::string& setting, std::vector<std::string>& into) {
    if (line.rfind(setting + "=", 0) != 0) return;
    std::istringstream words(line.substr(setting.size() + 1));
    for (std::string w; words >> w;) into.push_back(w);
  };
  for (const auto& line : lines_of(unit)) {
    words_after(line, "ExecStart", exec);
    words_after(line, "StateDirectory", state_dirs);
  }
  BOOST_REQUIRE_MESSAGE(!exec.empty(), "config/fedhub-hub.service has no ExecStart=");
  BOOST_TEST((exec[0] == "fl-hub" || exec[0].ends_with("/fl-hub")), "ExecStart runs " << exec[0]);
  std::string config;
  for (size_t i = 1; i + 1 < exec.size(); ++i)
    if (exec[i] == "--config") config = exec[i + 1];
  BOOST_REQUIRE_MESSAGE(!config.empty(), "ExecStart has no --config FILE");
  BOOST_CHECK_MESSAGE(f.doc.find(config) != std::string::npos,
                      "the unit's config file " << config << " is not in the doc");
  BOOST_CHECK(f.doc.find("config/fedhub-hub.service") != std::string::npos);

  // The file installed as that config: the parser takes it, and its data
  // directory is the unit's state directory.
  BOOST_CHECK(f.doc.find("config/hub.systemd.json") != std::string::npos);
  const HubConfig cfg = load_hub_config(std::string(FEDHUB_SOURCE_DIR) + "/config/hub.systemd.json");
  BOOST_REQUIRE(!state_dirs.empty());
  BOOST_TEST(cfg.data_dir == "/var/lib/" + state_dirs[0]);
  BOOST_CHECK(f.doc.find(cfg.data_dir) != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
