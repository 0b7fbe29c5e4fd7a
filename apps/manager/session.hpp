// The fl-manager console's commands and what they share: the session (one
// hub connection) and helpers for parsing and printing.
#pragma once

#include <boost/program_options.hpp>
#include <caf/actor_system.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/hub_client.hpp"
#include "datasets/dataset.hpp"
#include "messages/model_package.hpp"
#include "messages/response_generated.h"
#include "training/trainer.hpp"

namespace fedhub::manager {

namespace po = boost::program_options;
using nlohmann::json;

struct Session {
  caf::actor_system& system;
  std::string hub;
  std::string key;
  std::chrono::milliseconds timeout;
  bool json_output = false;
  std::unique_ptr<HubClient> client;

  HubClient& connect() {
    if (!client) {
      auto [host, port] = parse_host_port(hub);
      client = std::make_unique<HubClient>(system, host, port, key, timeout);
    }
    return *client;
  }
};

using Args = std::vector<std::string>;

// ---- helpers (session.cpp) ----
std::string read_text(const std::string& path, const char* what);
std::string format_time(uint64_t ms);  // "YYYY-MM-DD HH:MM:SS" in UTC
const char* role_name(fb::Role r);
po::variables_map parse(const Args& args, po::options_description& opts,
                        po::positional_options_description* pos = nullptr);
// Parses a command whose one positional argument is the model's NAME.
po::variables_map parse_named(const Args& args, po::options_description& o);
// That NAME; UsageError naming the command when it is missing.
std::string one_name(const po::variables_map& vm, const char* command);
// The value of a required string option; UsageError naming it otherwise.
std::string need(const po::variables_map& vm, const char* name, const char* command);
json summary_json(const fb::ModelSummary& m);
// Downloads and verifies a version (-1: current); raw keeps the package bytes.
LoadedModel fetch(Session& s, const std::string& name, int64_t version, Buffer* raw = nullptr);
training::Evaluation evaluate(const LoadedModel& m, const datasets::Dataset& data);
fb::MergeReceiptT merge(Session& s, const std::string& name, uint64_t base);
void print_merge(const Session& s, const fb::MergeReceiptT& r);

// ---- commands: each returns the exit code ----
int cmd_create(Session& s, const Args& args);  // model_commands.cpp
int cmd_list(Session& s, const Args& args);
int cmd_status(Session& s, const Args& args);
int cmd_download(Session& s, const Args& args);
int cmd_evaluate(Session& s, const Args& args);
int cmd_merge(Session& s, const Args& args);  // merge_commands.cpp
int cmd_watch(Session& s, const Args& args);
int cmd_policy(Session& s, const Args& args);
int cmd_keys(Session& s, const Args& args);  // key_commands.cpp
int cmd_whoami(Session& s, const Args& args);
int cmd_delete(Session& s, const Args& args);  // registry_commands.cpp
int cmd_archive(Session& s, const Args& args);
int cmd_unarchive(Session& s, const Args& args);
int cmd_rollback(Session& s, const Args& args);
int cmd_export(Session& s, const Args& args);
int cmd_import(Session& s, const Args& args);
int cmd_history(Session& s, const Args& args);  // crowd_commands.cpp
int cmd_verify(Session& s, const Args& args);
int cmd_eval_set(Session& s, const Args& args);
int cmd_leaderboard(Session& s, const Args& args);
int cmd_unflag(Session& s, const Args& args);
void print_leaderboard(const fb::Leaderboard& board);

}  // namespace fedhub::manager
