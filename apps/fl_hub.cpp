// fl-hub: the federated learning hub. Holds models, accepts contributions,
// merges them into new versions; every acknowledged write is durable.
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>

#include "actors/start_hub.hpp"
#include "apps/cli.hpp"
#include "apps/completion.hpp"
#include "apps/hub/backup_commands.hpp"
#include "apps/hub/caf_door.hpp"
#include "apps/hub/offline_store.hpp"
#include "apps/hub/tls_commands.hpp"
#include "client/system_config.hpp"
#include "config/hub_config.hpp"
#include "http/server.hpp"
#include "hub/key_registry.hpp"
#include "messages/files.hpp"
#include "tls/plain_policy.hpp"

using namespace fedhub;
namespace po = boost::program_options;

namespace {

const char* kUsage =
    "Usage: fl-hub [--config FILE] [--bind ADDR] [--port N] [--data-dir DIR] [--threads N]\n"
    "              [--http-port N [--http-bind ADDR]]\n"
    "       fl-hub [--config FILE] [--data-dir DIR] <command>\n"
    "       fl-hub completion bash     (a bash completion script: source <(fl-hub completion bash))\n"
    "\n"
    "Runs a hub: participants download models and upload training results, managers\n"
    "create models and merge contributions into new versions. State lives in the data\n"
    "directory (RocksDB) and survives crashes. On first start the hub creates a manager\n"
    "key and writes it to <data-dir>/manager.key (mode 0600). A port that is in use is\n"
    "refused before anything is written. Stops cleanly on SIGINT or SIGTERM.\n"
    "Limits of new models (max_parameters, max_model_bytes, max_steps, max_batch_size)\n"
    "and every other setting: docs/operations.md (example: config/hub.example.json).\n";

// ---------------------------------------------------------------- the port

// Whether something listens on (bind, port) now: a trial bind with the
// options CAF's publish uses (SO_REUSEADDR), so that a port in TIME_WAIT is
// free and one another process listens on is not. Throws for an address
// that cannot be used at all.
bool port_in_use(const std::string& bind, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(bind.empty() ? nullptr : bind.c_str(), service.c_str(), &hints, &found); rc != 0)
    throw std::runtime_error("cannot listen on " + bind + ":" + service + ": " + ::gai_strerror(rc));
  bool in_use = false;
  for (const addrinfo* a = found; a && !in_use; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EADDRINUSE) {
        in_use = true;
        break;
      }
      ::freeaddrinfo(found);
      throw std::runtime_error("cannot listen on " + bind + ":" + service + ": " + std::strerror(err));
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return in_use;
}

std::runtime_error port_taken(uint16_t port) {
  return std::runtime_error("port " + std::to_string(port) +
                            " is in use (by another fl-hub?): choose another with --port");
}

// ---------------------------------------------------------------- commands

// reset-manager-key: for an operator with file access who lost the manager
// key (or fears it leaked). One synced batch adds a new manager key and
// revokes every other manager key; the new key goes to <data-dir>/manager.key.
int reset_manager_key(const HubConfig& cfg, const std::vector<std::string>& args) {
  if (!args.empty()) throw cli::UsageError("reset-manager-key takes no arguments, not '" + args[0] + "'");
  auto store = cli::open_offline(cfg.data_dir);
  KeyRegistry keys(*store);
  std::set<std::string> taken;  // key names are never reused
  for (const auto& k : keys.list()) taken.insert(k.name);
  std::string name = "manager";
  for (int i = 1; taken.count(name); ++i) name = "manager-" + std::to_string(i);
  std::vector<KeyRegistry::Change> changes;
  changes.push_back(keys.prepare_add(name, Role::manager));
  keys.apply(changes.back());  // so that the old ones are not the last manager keys
  std::string revoked;
  for (const auto& k : keys.list())
    if (k.role == Role::manager && !k.revoked && k.name != name) {
      changes.push_back(keys.prepare_revoke(k.name));
      revoked += (revoked.empty() ? "" : ", ") + k.name;
    }
  std::vector<const StoreBatch*> batches;
  for (const auto& c : changes) batches.push_back(&c.batch);
  store->commit(batches, true);  // one atomic, synced batch
  const auto path = (std::filesystem::path(cfg.data_dir) / "manager.key").string();
  write_file_atomic(path, changes.front().key + "\n", 0600);
  std::cout << "fl-hub: revoked the manager key(s) " << (revoked.empty() ? "(none)" : revoked)
            << "; the new manager key '" << name << "' is in " << path << " (keep it secret)" << std::endl;
  return cli::kOk;
}

// Commands on a data directory instead of serving it. Each gets the
// configuration and the words after its name (and parses its own options).
struct Command {
  const char* name;
  const char* synopsis;  // the command line, as help and completion show it
  const char* help;
  int (*run)(const HubConfig& cfg, const std::vector<std::string>& args);
};

const Command kCommands[] = {
    {"reset-manager-key", "reset-manager-key",
     "with the hub stopped: revoke every manager key and write a new one to\n"
     "                                 <data-dir>/manager.key (mode 0600)",
     reset_manager_key},
    {"backup", "backup --out DIR [--key KEY | --key-file F] [--timeout S] [--ca-file CA [--cert C --cert-key K]]",
     "a consistent copy of the data directory in DIR (a new directory),\n"
     "                                 taken by the running hub (a RocksDB checkpoint; the key is\n"
     "                                 --key, --key-file, FEDHUB_KEY or <data-dir>/manager.key) or,\n"
     "                                 with the hub stopped, by this command; a hub with TLS needs\n"
     "                                 --ca-file (or FEDHUB_CA_FILE; the CA of fl-hub init-tls),\n"
     "                                 with tls_client_ca also --cert and --cert-key",
     cli::backup_command},
    {"restore", "restore --from DIR",
     "with the hub stopped: make the backup DIR the data directory (which\n"
     "                                 must not exist yet); the backup itself is left unchanged",
     cli::restore_command},
    {"init-tls", "init-tls DIR [--name NAME]... [--client NAME]... [--force]",
     "make a CA, the hub's certificate for the names (default: localhost,\n"
     "                                 127.0.0.1, ::1, this host) and client certificates in DIR,\n"
     "                                 and print the config lines (fl-hub init-tls --help)",
     cli::init_tls_command},
};

std::string commands_help() {
  std::string out = "Commands:\n";
  for (const auto& c : kCommands)
    out += "  " + std::string(c.synopsis) + "\n                                 " + c.help + "\n";
  return out;
}

// ---------------------------------------------------------------- serving

HubOptions hub_options(const HubConfig& cfg) {
  HubOptions o;
  o.download_chunk_bytes = cfg.download_chunk_bytes;
  o.request_timeout = std::chrono::milliseconds(cfg.request_timeout_ms);
  o.merge_timeout = std::chrono::milliseconds(cfg.merge_timeout_ms);
  o.limits.part_bytes = cfg.upload_part_bytes;
  o.limits.window = cfg.upload_window;
  o.limits.session_idle_ms = cfg.upload_idle_seconds * 1000;
  o.limits.max_sessions = cfg.max_uploads_per_model;
  o.limits.max_sessions_per_key = cfg.quota_open_uploads;
  o.upload_bytes_per_minute = cfg.quota_upload_bytes_per_minute;
  o.auth_failures_before_backoff = cfg.auth_failures_before_backoff;
  o.auth_backoff_max_ms = cfg.auth_backoff_max_ms;
  o.limits.fold_threshold_bytes = cfg.fold_threshold_bytes;
  o.limits.max_samples = cfg.max_samples;
  o.readers = cfg.readers;
  o.model_limits = cfg.model_limits;
  return o;
}

int hub_main(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help")("config", po::value<std::string>(),
                                                 "JSON config file (see config/hub.example.json)")(
      "bind", po::value<std::string>(), "address to listen on (default 127.0.0.1)")(
      "port", po::value<uint16_t>(), "port to listen on (default 7461; 0 = any free port)")(
      "data-dir", po::value<std::string>(), "directory of the hub's state (default fedhub-data)")(
      "threads", po::value<int>(), "actor scheduler threads (default 2; 1-64)")(
      "http-port", po::value<uint16_t>(),
      "also serve the HTTP API and dashboard on this port (off by default; 0 = any)")(
      "http-bind", po::value<std::string>(), "address of the HTTP door (default 127.0.0.1)");
  po::variables_map vm;
  // Words that are not fl-hub's options are a command and its arguments.
  const auto parsed = po::command_line_parser(argc, argv).options(opts).style(cli::kStyle).allow_unregistered().run();
  po::store(parsed, vm);
  po::notify(vm);
  if (vm.count("help")) {
    if (const auto w = po::collect_unrecognized(parsed.options, po::include_positional);
        !w.empty() && w[0] == "init-tls") {
      std::cout << cli::kInitTlsHelp;
      return cli::kOk;
    }
    std::cout << kUsage << "\n" << commands_help() << "\n" << opts;
    return cli::kOk;
  }
  auto words = po::collect_unrecognized(parsed.options, po::include_positional);
  if (!words.empty() && words[0] == "completion")
    return cli::completion_main(
        words, {"fl-hub", cli::completion_options(opts), cli::completion_commands(commands_help())}, std::cout);
  const Command* command = nullptr;
  if (!words.empty()) {
    for (const auto& c : kCommands)
      if (words[0] == c.name) command = &c;
    if (!command)
      throw cli::UsageError(words[0].rfind('-', 0) == 0 ? "unknown option '" + words[0] + "'"
                                                        : "unknown command '" + words[0] + "'");
    words.erase(words.begin());
  }
  HubConfig cfg = vm.count("config") ? load_hub_config(vm["config"].as<std::string>()) : HubConfig{};
  if (vm.count("bind")) cfg.bind = vm["bind"].as<std::string>();
  if (vm.count("port")) cfg.port = vm["port"].as<uint16_t>();
  if (vm.count("data-dir")) cfg.data_dir = vm["data-dir"].as<std::string>();
  if (vm.count("threads")) {
    cfg.threads = vm["threads"].as<int>();
    if (cfg.threads < 1 || cfg.threads > 64) throw cli::UsageError("--threads must be 1 to 64");
  }
  if (vm.count("http-port")) cfg.http_port = vm["http-port"].as<uint16_t>();
  if (vm.count("http-bind")) cfg.http_bind = vm["http-bind"].as<std::string>();
  if (command) return command->run(cfg, words);
  // Plain TCP beyond loopback needs allow_plain_remote (tls/plain_policy.hpp),
  // on the CAF door and on the HTTP door.
  {
    const auto plain = tls::check_plain_listener("the CAF door", "bind", cfg.bind, !cfg.tls_certificate.empty(),
                                                 cfg.allow_plain_remote);
    if (plain.verdict == tls::PlainVerdict::refuse) throw std::runtime_error(plain.message);
    if (plain.verdict == tls::PlainVerdict::warn) std::cerr << "fl-hub: " << plain.message << std::endl;
  }
  if (cfg.http_port >= 0) {
    const auto plain = tls::check_plain_listener("the HTTP door", "http_bind", cfg.http_bind,
                                                 !cfg.tls_certificate.empty(), cfg.allow_plain_remote);
    if (plain.verdict == tls::PlainVerdict::refuse) throw std::runtime_error(plain.message);
    if (plain.verdict == tls::PlainVerdict::warn) std::cerr << "fl-hub: " << plain.message << std::endl;
  }
  // Before anything is written (the data directory, the manager key).
  if (cfg.port != 0 && port_in_use(cfg.bind, cfg.port)) throw port_taken(cfg.port);

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  SystemConfig sys_cfg(cfg.threads);
  caf::actor_system system{sys_cfg};
  auto started = start_hub(system, Store::open(cfg.data_dir), hub_options(cfg));
  auto hub = started.hub;
  if (started.created_manager_key) {
    const auto path = (std::filesystem::path(cfg.data_dir) / "manager.key").string();
    write_file_atomic(path, *started.created_manager_key + "\n", 0600);
    std::cout << "fl-hub: created a manager key in " << path << " (keep it secret)" << std::endl;
  }
  for (const auto& problem : started.unreadable_models)
    std::cerr << "fl-hub: a stored model record cannot be read and is not served: " << problem << std::endl;
  std::unique_ptr<CafDoor> caf_door;
  try {
    caf_door = std::make_unique<CafDoor>(system, hub, cfg);
  } catch (...) {
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
    if (cfg.port != 0 && port_in_use(cfg.bind, cfg.port)) throw port_taken(cfg.port);  // taken since the check
    throw;
  }
  std::cout << "fl-hub: listening on " << cfg.bind << ":" << caf_door->port() << (caf_door->tls() ? " (TLS)" : "")
            << " (data: " << cfg.data_dir << ")" << std::endl;
  std::unique_ptr<http::HttpServer> http_door;
  if (cfg.http_port >= 0) {
    http::HttpOptions ho;
    ho.bind = cfg.http_bind;
    ho.port = static_cast<uint16_t>(cfg.http_port);
    ho.max_connections = cfg.http_max_connections;
    ho.head_timeout = std::chrono::milliseconds(cfg.http_head_timeout_ms);
    ho.io_timeout = std::chrono::milliseconds(cfg.http_io_timeout_ms);
    ho.hub_timeout = std::chrono::milliseconds(cfg.request_timeout_ms);
    ho.tls_certificate = cfg.tls_certificate;
    ho.tls_key = cfg.tls_key;
    ho.tls_client_ca = cfg.tls_client_ca;
    ho.api.auth_failures_before_backoff = cfg.auth_failures_before_backoff;
    ho.api.auth_backoff_max_ms = cfg.auth_backoff_max_ms;
    try {
      http_door = std::make_unique<http::HttpServer>(system, hub, ho);
    } catch (...) {
      caf_door->close();
      caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
      throw;
    }
    std::cout << "fl-hub: HTTP API and dashboard on " << (http_door->tls() ? "https://" : "http://") << cfg.http_bind
              << ":" << http_door->port() << "/" << std::endl;
  }

  int sig = 0;
  sigwait(&stop, &sig);
  std::cout << "fl-hub: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down" << std::endl;
  if (http_door) http_door->stop();
  caf_door->close();
  caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
  return cli::kOk;  // the actor system's destructor waits for the actors
}

}  // namespace

int main(int argc, char** argv) { return cli::run_guarded("fl-hub", hub_main, argc, argv); }
