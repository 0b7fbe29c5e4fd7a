// Helpers the console's commands share.
#include "apps/manager/session.hpp"

#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "apps/cli.hpp"
#include "client/json_views.hpp"
#include "client/requests.hpp"

namespace fedhub::manager {

std::string read_text(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(std::string("cannot read the ") + what + " file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string format_time(uint64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

const char* role_name(fb::Role r) { return json_views::role_name(r); }

po::variables_map parse(const Args& args, po::options_description& opts, po::positional_options_description* pos) {
  po::variables_map vm;
  auto parser = po::command_line_parser(args).options(opts).style(cli::kStyle);
  if (pos) parser.positional(*pos);
  po::store(parser.run(), vm);
  po::notify(vm);
  return vm;
}

std::string need(const po::variables_map& vm, const char* name, const char* command) {
  if (!vm.count(name)) {
    // The NAME is positional in every command's usage line ("status NAME").
    if (std::string(name) == "name")
      throw cli::UsageError(std::string(command) + " needs a NAME: " + command + " NAME ...");
    throw cli::UsageError(std::string(command) + " needs --" + name);
  }
  return vm[name].as<std::string>();
}

// ---- commands ----

json summary_json(const fb::ModelSummary& m) { return json_views::model_summary(m); }

LoadedModel fetch(Session& s, const std::string& name, int64_t version, Buffer* raw) {
  Buffer package = s.connect().download_package(name, version);
  LoadedModel m = read_model_package(package);
  if (raw) *raw = std::move(package);
  return m;
}

training::Evaluation evaluate(const LoadedModel& m, const datasets::Dataset& data) {
  return training::evaluate(m.spec.architecture, m.weights, data);
}

fb::MergeReceiptT merge(Session& s, const std::string& name, uint64_t base) {
  Buffer holder;
  fb::MergeReceiptT receipt;
  s.connect().call_as<fb::MergeReceipt>(requests::merge(s.key, name, base), holder)->UnPackTo(&receipt);
  return receipt;
}

void print_merge(const Session& s, const fb::MergeReceiptT& r) {
  if (s.json_output) {
    std::cout << json_views::merge_receipt(r).dump() << "\n";
  } else {
    std::cout << "merged " << r.contributors.size() << " contribution(s) to version " << r.base_version << " of '"
              << r.model << "' into version " << r.new_version << " (" << r.total_samples << " samples)\n";
  }
}

std::string one_name(const po::variables_map& vm, const char* command) {
  if (!vm.count("name")) throw cli::UsageError(std::string(command) + " needs a NAME");
  return vm["name"].as<std::string>();
}

po::variables_map parse_named(const Args& args, po::options_description& o) {
  o.add_options()("name", po::value<std::string>(), "model name");
  po::positional_options_description pos;
  pos.add("name", 1);
  return parse(args, o, &pos);
}

}  // namespace fedhub::manager
