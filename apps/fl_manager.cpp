// fl-manager: the model manager's console. Creates models, lists them, shows
// contributions, merges, evaluates, manages API keys and merge policies; with
// no command it is an interactive console on one connection. The commands
// live in apps/manager/.
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "apps/cli.hpp"
#include "apps/completion.hpp"
#include "apps/manager/console.hpp"
#include "apps/manager/session.hpp"
#include "client/system_config.hpp"

using namespace fedhub;
using namespace fedhub::manager;

namespace {

// The commands, one entry each (also the console's help). Keep in step with
// run_command below.
const char* kCommands =
    "  create NAME --arch FILE --labels FILE --recipe FILE [--seed N]\n"
    "         [--min-contributions N] [--aggregator fedavg|mean] [--weights FILE [--layout keras|torch]]\n"
    "                                 create a model; version 0 is initialised from the architecture,\n"
    "                                 or read from FILE (fedhub package or result, safetensors, .npz,\n"
    "                                 Keras's .h5 or .weights.h5); layers with \"trainable\": false\n"
    "                                 or named in the recipe's \"freeze\" keep it (fine-tuning)\n"
    "  create NAME --onnx FILE --labels FILE --recipe FILE [...]\n"
    "                                 create a model from an ONNX file: its graph (Conv, Relu, MaxPool,\n"
    "                                 Flatten, Gemm, ...) is the architecture, its weights version 0\n"
    "  list                           models and their training status\n"
    "  status NAME [--version V]      current version, contributions for a version and from whom\n"
    "  merge NAME --base V            merge the contributions for version V into version V+1\n"
    "  download NAME [--version V] --out FILE [--format package|safetensors|npz|onnx] [--layout keras|torch]\n"
    "                                 save a model package (spec and weights), or its weights for\n"
    "                                 other tools (torch: a state_dict's names and layouts), or an\n"
    "                                 ONNX model (opset 13, NCHW) of the version\n"
    "  evaluate NAME [--version V] --data SPEC [--data-labels FILE]\n"
    "                                 accuracy, loss and per-class accuracy on local data\n"
    "  watch NAME [--merge-at N] [--versions R] [--data SPEC] [--data-labels FILE] [--reconnect S]\n"
    "                                 follow a model's events; merge whenever the current version has\n"
    "                                 N contributions; evaluate each new version; stop after R versions;\n"
    "                                 reconnect to a lost hub for up to S seconds (default 300)\n"
    "  policy NAME [--merge manual|buffered|async] [--k K] [--alpha A]\n"
    "         [--staleness drop|constant|polynomial|hinge|fedbuff] [--max-staleness S] [--a A] [--b B]\n"
    "         [--aggregator mean|fedavg|fedavgm|fedadam|fedyogi|fedadagrad|median|trimmed-mean|krum]\n"
    "         [--server-lr LR] [--norm-bound C] [--on-norm-exceeded reject|clip] [--interval T] ...\n"
    "                                 show the merge policy, or change the settings named\n"
    "                                 (unnamed settings keep their value; docs/aggregation.md)\n"
    "  keys add NAME --role participant|manager\n"
    "                                 create an API key (only the key is printed on stdout)\n"
    "  keys list                      API keys (names, roles; never the keys)\n"
    "  keys revoke NAME               revoke a key for good\n"
    "  whoami                         the name and role of your key\n"
    "  delete NAME --yes              delete a model with all its versions, contributions and state\n"
    "  archive NAME                   make a model read-only: downloads and status work, uploads and\n"
    "                                 merges are refused\n"
    "  unarchive NAME                 make an archived model writable again\n"
    "  rollback NAME --to V           make retained version V current again, as a new version\n"
    "  export NAME [--version V] --out FILE\n"
    "                                 save spec, policy, history and the retained versions' weights\n"
    "                                 (or only V's) in one file\n"
    "  import FILE [--name NEW]       create a model from an export file (version numbers kept)\n"
    "  history NAME [--from V] [--to V]\n"
    "                                 what went into each version: contributions with their weight,\n"
    "                                 staleness and checks, refusals, the policy, digests\n"
    "  verify NAME --version V        replay the merge that made version V from the stored inputs and\n"
    "                                 check it gives the stored weights bit for bit\n"
    "  eval-set NAME (--data SPEC [--data-labels FILE] | --off)\n"
    "                                 the hub evaluates every new version on SPEC (a path of the hub's\n"
    "                                 machine) and scores its contributions (docs/crowd.md)\n"
    "  leaderboard NAME               participants ranked by how much their contributions helped\n"
    "  unflag NAME PARTICIPANT        admit a participant whose flagged contributions excluded it\n";

const std::string kUsage =
    std::string(
        "Usage: fl-manager --hub HOST:PORT (--key KEY | --key-file F) [--json] <command> [args]\n"
        "\n"
        "Commands:\n") +
    kCommands +
    "  completion bash                print a bash completion script (source <(fl-manager completion bash))\n"
    "With no command, fl-manager reads commands from standard input (an interactive console).\n"
    "The key may also come from the environment variable FEDHUB_KEY. Progress of large downloads is\n"
    "drawn on stderr when it is a terminal (--quiet: none; --progress: whole lines into a pipe).\n"
    "Data sources (SPEC): idx:PREFIX[:CLASSES], cifar:PATH[:CLASSES], folder:DIR[:CLASSES] (docs/models.md).\n"
    "Exit status: 0 done, 1 refused or failed (the error's name is printed, e.g. 'stale'), 2 bad usage;\n"
    "the console exits 0 when every command succeeded, else with the status of the first that did not.\n"
    "With --json, results are JSON on stdout and errors JSON objects on stderr:\n"
    "  {\"error\":\"unknown_model\",\"message\":\"...\"} (\"usage\" for a wrong command line).\n";

std::string seconds_text(double s) {
  std::ostringstream o;
  o << s;
  return o.str();
}

// A hub's first start writes its manager key file before it listens: wait
// for the file (a bounded poll; the hub gives no other sign to a stranger).
void wait_for_file(const std::string& path, std::chrono::steady_clock::time_point deadline, double wait_s) {
  for (;;) {
    std::error_code ec;
    if (std::filesystem::file_size(path, ec) > 0 && !ec) return;
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("the key file '" + path + "' did not appear within " + seconds_text(wait_s) +
                               " s: is fl-hub starting with that --data-dir?");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Connects, retrying while the hub is not listening yet, until the deadline.
void connect_by(Session& s, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    try {
      s.connect();
      return;
    } catch (const RequestError& e) {
      if (e.code() != ErrorCode::unavailable || std::chrono::steady_clock::now() >= deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int run_command(Session& s, std::vector<std::string> args) {
  if (args.empty()) throw cli::UsageError("no command");
  const auto command = args[0];
  args.erase(args.begin());
  if (command == "create") return cmd_create(s, args);
  if (command == "list") return cmd_list(s, args);
  if (command == "status") return cmd_status(s, args);
  if (command == "merge") return cmd_merge(s, args);
  if (command == "download") return cmd_download(s, args);
  if (command == "evaluate") return cmd_evaluate(s, args);
  if (command == "watch") return cmd_watch(s, args);
  if (command == "keys") return cmd_keys(s, args);
  if (command == "policy") return cmd_policy(s, args);
  if (command == "whoami") return cmd_whoami(s, args);
  if (command == "delete") return cmd_delete(s, args);
  if (command == "archive") return cmd_archive(s, args);
  if (command == "unarchive") return cmd_unarchive(s, args);
  if (command == "rollback") return cmd_rollback(s, args);
  if (command == "export") return cmd_export(s, args);
  if (command == "import") return cmd_import(s, args);
  if (command == "history") return cmd_history(s, args);
  if (command == "verify") return cmd_verify(s, args);
  if (command == "eval-set") return cmd_eval_set(s, args);
  if (command == "leaderboard") return cmd_leaderboard(s, args);
  if (command == "unflag") return cmd_unflag(s, args);
  throw cli::UsageError("unknown command '" + command + "'");
}

int manager_main(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help")("json", "print results as JSON")(
      "wait", po::value<double>()->default_value(0),
      "seconds to wait for a hub that is still starting (for it to answer, and for --key-file to appear)");
  cli::add_hub_options(opts);
  po::variables_map vm;
  auto parsed = po::command_line_parser(argc, argv).options(opts).style(cli::kStyle).allow_unregistered().run();
  po::store(parsed, vm);
  po::notify(vm);
  auto rest = po::collect_unrecognized(parsed.options, po::include_positional);
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << opts;
    return cli::kOk;
  }
  if (!rest.empty() && rest[0].rfind("--", 0) == 0) throw cli::UsageError("unknown option '" + rest[0] + "'");
  if (!rest.empty() && rest[0] == "completion")
    return cli::completion_main(
        rest, {"fl-manager", cli::completion_options(opts), cli::completion_commands(kCommands)}, std::cout);
  HubClient::set_default_progress(cli::transfer_progress_factory(cli::progress_mode(vm)));
  const double wait_s = vm["wait"].as<double>();
  if (!(wait_s >= 0 && wait_s <= 86400)) throw cli::UsageError("--wait must be from 0 to 86400 seconds");
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(wait_s));
  if (wait_s > 0 && vm.count("key-file")) wait_for_file(vm["key-file"].as<std::string>(), deadline, wait_s);
  SystemConfig cfg(2, cli::client_tls(vm));
  caf::actor_system system{cfg};
  Session s{system,
            vm["hub"].as<std::string>(),
            cli::read_key(vm),
            std::chrono::milliseconds(static_cast<int64_t>(vm["timeout"].as<double>() * 1000)),
            vm.count("json") > 0,
            nullptr};
  if (wait_s > 0) connect_by(s, deadline);
  int rc =
      rest.empty() ? console(s, run_command, kCommands) : run_reported(s, run_command, rest, "see fl-manager --help");
  s.client.reset();
  return rc;
}

}  // namespace

int main(int argc, char** argv) { return cli::run_guarded("fl-manager", manager_main, argc, argv); }
