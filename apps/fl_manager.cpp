// fl-manager: the model manager's console. Creates models, lists them, shows
// contributions, merges, evaluates, manages API keys and merge policies; with
// no command it is an interactive console on one connection. The commands
// live in apps/manager/.
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <iostream>

#include "apps/cli.hpp"
#include "apps/manager/session.hpp"
#include "client/system_config.hpp"

using namespace fedhub;
using namespace fedhub::manager;

namespace {

const char* kUsage =
    "Usage: fl-manager --hub HOST:PORT (--key KEY | --key-file F) [--json] <command> [args]\n"
    "\n"
    "Commands:\n"
    "  create NAME --arch FILE --labels FILE --recipe FILE [--seed N]\n"
    "         [--min-contributions N] [--aggregator fedavg|mean]\n"
    "                                 create a model; version 0 is initialised from the architecture\n"
    "  list                           models and their training status\n"
    "  status NAME [--version V]      current version, contributions for a version and from whom\n"
    "  merge NAME --base V            merge the contributions for version V into version V+1\n"
    "  download NAME [--version V] --out FILE\n"
    "                                 save a model package (spec and weights)\n"
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
    "With no command, fl-manager reads commands from standard input (an interactive console).\n"
    "Data sources (SPEC): idx:PREFIX[:CLASSES], cifar:PATH[:CLASSES], folder:DIR[:CLASSES] (docs/data.md).\n"
    "Exit status: 0 done, 1 refused or failed (the error's name is printed, e.g. 'stale'), 2 bad usage.\n";

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
  throw cli::UsageError("unknown command '" + command + "'");
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false, any = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (!quoted && (c == ' ' || c == '\t')) {
      if (any) words.push_back(word);
      word.clear();
      any = false;
    } else {
      word += c;
      any = true;
    }
  }
  if (any) words.push_back(word);
  return words;
}

// The interactive console: one command per line, errors do not end it.
int console(Session& s) {
  const bool tty = isatty(0);
  if (tty) std::cout << "fedhub manager console on " << s.hub << " (help, quit)\n";
  std::string line;
  int last = cli::kOk;
  while ((tty ? std::cout << "fedhub> " << std::flush : std::cout), std::getline(std::cin, line)) {
    auto words = split_words(line);
    if (words.empty() || words[0][0] == '#') continue;
    if (words[0] == "quit" || words[0] == "exit") break;
    if (words[0] == "help") {
      std::cout << kUsage;
      continue;
    }
    try {
      last = run_command(s, words);
    } catch (const cli::UsageError& e) {
      std::cerr << "fl-manager: " << e.what() << " (type help)\n";
      last = cli::kUsage;
    } catch (const po::error& e) {
      std::cerr << "fl-manager: " << e.what() << " (type help)\n";
      last = cli::kUsage;
    } catch (const RequestError& e) {
      std::cerr << "fl-manager: error: " << e.describe() << "\n";
      last = cli::kFailed;
      if (e.code() == ErrorCode::unavailable) s.client.reset();
    } catch (const std::exception& e) {
      std::cerr << "fl-manager: error: " << e.what() << "\n";
      last = cli::kFailed;
    }
  }
  return last;
}

int manager_main(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help")("json", "print results as JSON");
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
  SystemConfig cfg(2);
  caf::actor_system system{cfg};
  Session s{system,
            vm["hub"].as<std::string>(),
            cli::read_key(vm),
            std::chrono::milliseconds(static_cast<int64_t>(vm["timeout"].as<double>() * 1000)),
            vm.count("json") > 0,
            nullptr};
  int rc = rest.empty() ? console(s) : run_command(s, rest);
  s.client.reset();
  return rc;
}

}  // namespace

int main(int argc, char** argv) { return cli::run_guarded("fl-manager", manager_main, argc, argv); }
