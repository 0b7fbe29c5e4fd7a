// fl-hub: the federated learning hub. Holds models, accepts contributions,
// merges them into new versions; every acknowledged write is durable.
#include <signal.h>
#include <sys/stat.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <filesystem>
#include <iostream>

#include "actors/hub_actor.hpp"
#include "apps/cli.hpp"
#include "client/system_config.hpp"
#include "config/hub_config.hpp"
#include "hub/key_registry.hpp"
#include "messages/files.hpp"

using namespace fedhub;
namespace po = boost::program_options;

namespace {

const char* kUsage =
    "Usage: fl-hub [--config FILE] [--bind ADDR] [--port N] [--data-dir DIR] [--threads N]\n"
    "\n"
    "Runs a hub: participants download models and upload training results, managers\n"
    "create models and merge contributions into new versions. State lives in the data\n"
    "directory (RocksDB) and survives crashes. On first start the hub creates a manager\n"
    "key and writes it to <data-dir>/manager.key (mode 0600).\n"
    "Stops cleanly on SIGINT or SIGTERM.\n";

HubOptions hub_options(const HubConfig& cfg) {
  HubOptions o;
  o.download_chunk_bytes = cfg.download_chunk_bytes;
  o.request_timeout = std::chrono::milliseconds(cfg.request_timeout_ms);
  o.merge_timeout = std::chrono::milliseconds(cfg.merge_timeout_ms);
  o.limits.part_bytes = cfg.upload_part_bytes;
  o.limits.window = cfg.upload_window;
  o.limits.session_idle_ms = cfg.upload_idle_seconds * 1000;
  o.limits.max_sessions = cfg.max_uploads_per_model;
  o.limits.fold_threshold_bytes = cfg.fold_threshold_bytes;
  o.limits.max_samples = cfg.max_samples;
  o.readers = cfg.readers;
  return o;
}

int hub_main(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help")("config", po::value<std::string>(),
                                                 "JSON config file (see config/hub.example.json)")(
      "bind", po::value<std::string>(), "address to listen on (default 127.0.0.1)")(
      "port", po::value<uint16_t>(), "port to listen on (default 7461; 0 = any free port)")(
      "data-dir", po::value<std::string>(), "directory of the hub's state (default fedhub-data)")(
      "threads", po::value<int>(), "actor scheduler threads (default 2; 1-64)");
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(opts).style(cli::kStyle).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << opts;
    return cli::kOk;
  }
  HubConfig cfg = vm.count("config") ? load_hub_config(vm["config"].as<std::string>()) : HubConfig{};
  if (vm.count("bind")) cfg.bind = vm["bind"].as<std::string>();
  if (vm.count("port")) cfg.port = vm["port"].as<uint16_t>();
  if (vm.count("data-dir")) cfg.data_dir = vm["data-dir"].as<std::string>();
  if (vm.count("threads")) {
    cfg.threads = vm["threads"].as<int>();
    if (cfg.threads < 1 || cfg.threads > 64) throw cli::UsageError("--threads must be 1 to 64");
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  std::shared_ptr<Store> store = Store::open(cfg.data_dir);
  auto keys = std::make_unique<KeyRegistry>(*store);
  if (auto key = keys->ensure_manager_key(*store)) {
    const auto path = (std::filesystem::path(cfg.data_dir) / "manager.key").string();
    const std::string line = *key + "\n";
    write_file_atomic(path, line, 0600);
    std::cout << "fl-hub: created a manager key in " << path << " (keep it secret)" << std::endl;
  }
  std::vector<std::string> models;
  for (const auto& [name, problem] : stored_model_names(*store)) {
    if (name.empty())
      std::cerr << "fl-hub: a stored model record cannot be read and is not served: " << problem << std::endl;
    else
      models.push_back(name);
  }

  SystemConfig sys_cfg(cfg.threads);
  caf::actor_system system{sys_cfg};
  auto hub = system.spawn(hub_actor, store, hub_options(cfg), std::move(keys), std::move(models));
  store.reset();  // the actors own it now
  auto port = caf::io::publish(hub, cfg.port, cfg.bind.c_str(), true);
  if (!port) {
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
    throw std::runtime_error("cannot listen on " + cfg.bind + ":" + std::to_string(cfg.port) + ": " +
                             system.render(port.error()));
  }
  std::cout << "fl-hub: listening on " << cfg.bind << ":" << *port << " (data: " << cfg.data_dir << ")" << std::endl;

  int sig = 0;
  sigwait(&stop, &sig);
  std::cout << "fl-hub: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down" << std::endl;
  caf::io::unpublish(hub, *port);
  caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
  return cli::kOk;  // the actor system's destructor waits for the actors
}

}  // namespace

int main(int argc, char** argv) { return cli::run_guarded("fl-hub", hub_main, argc, argv); }
