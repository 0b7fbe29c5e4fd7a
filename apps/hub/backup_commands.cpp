#include "apps/hub/backup_commands.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <filesystem>
#include <iostream>

#include "apps/cli.hpp"
#include "apps/hub/offline_store.hpp"
#include "client/hub_client.hpp"
#include "client/requests.hpp"
#include "client/system_config.hpp"
#include "hub/backup.hpp"

namespace fedhub::cli {

namespace fs = std::filesystem;

namespace {

po::variables_map parse_args(const std::vector<std::string>& args, po::options_description& o) {
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(o).style(kStyle).run(), vm);
  po::notify(vm);
  return vm;
}

// The address a local client reaches a hub listening on `bind` at.
std::string local_address(const std::string& bind) {
  if (bind.empty() || bind == "0.0.0.0") return "127.0.0.1";
  if (bind == "::") return "::1";
  return bind;
}

}  // namespace

int backup_command(const HubConfig& cfg, const std::vector<std::string>& args) {
  po::options_description o("backup options");
  o.add_options()("out", po::value<std::string>(), "the new directory to write the backup into")(
      "key", po::value<std::string>(), "a manager key (default: FEDHUB_KEY, else <data-dir>/manager.key)")(
      "key-file", po::value<std::string>(), "file holding a manager key")(
      "timeout", po::value<double>()->default_value(3600), "seconds to wait for the hub's backup");
  add_tls_options(o);
  const auto vm = parse_args(args, o);
  if (!vm.count("out")) throw UsageError("backup needs --out DIR (a directory that does not exist yet)");
  const std::string out = fs::absolute(vm["out"].as<std::string>()).lexically_normal().string();
  if (!fs::exists(fs::path(cfg.data_dir) / "CURRENT"))
    throw std::runtime_error("'" + cfg.data_dir + "' holds no hub data (no RocksDB database): check --data-dir");

  if (!store_locked(cfg.data_dir)) {
    check_backup_target(out);
    auto store = open_offline(cfg.data_dir);
    const std::string written = write_backup(*store, out);  // (nothing on stdout if it fails)
    std::cout << "fl-hub: " << written << " (the hub was not running)" << std::endl;
    return kOk;
  }
  std::string key;
  if (vm.count("key") || vm.count("key-file") || std::getenv("FEDHUB_KEY")) {
    key = read_key(vm);
  } else {
    po::variables_map file;
    file.emplace("key-file", po::variable_value((fs::path(cfg.data_dir) / "manager.key").string(), false));
    key = read_key(file);
  }
  const double timeout_s = vm["timeout"].as<double>();
  if (!(timeout_s > 0 && timeout_s <= 86400)) throw UsageError("--timeout must be from 0 to 86400 seconds");
  // The running hub's CAF door speaks TLS when its config names a certificate:
  // a plain connection would only fail at the handshake, so say what is missing.
  const ClientTls tls = client_tls(vm);
  if (!tls.enabled() && !cfg.tls_certificate.empty())
    throw UsageError(
        "the hub's CAF door speaks TLS (tls_certificate is set): backup needs --ca-file (the CA "
        "that signed " +
        cfg.tls_certificate + "; fl-hub init-tls DIR wrote DIR/ca.pem) or FEDHUB_CA_FILE");
  SystemConfig sys(1, tls);
  caf::actor_system system{sys};
  std::unique_ptr<HubClient> connected;
  try {
    connected = std::make_unique<HubClient>(system, local_address(cfg.bind), cfg.port, key,
                                            std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000)));
  } catch (const RequestError& e) {
    if (e.code() != ErrorCode::unavailable) throw;
    throw RequestError(ErrorCode::unavailable, std::string(e.what()) + "; a running hub holds " + cfg.data_dir +
                                                   ": give its --port (or the --config it runs with)");
  }
  auto& client = *connected;
  Buffer holder;
  const auto* ack = client.call_as<fb::Ack>(requests::backup(key, out), holder);
  std::cout << "fl-hub: " << ack->message()->str() << " (by the running hub)" << std::endl;
  return kOk;
}

int restore_command(const HubConfig& cfg, const std::vector<std::string>& args) {
  po::options_description o("restore options");
  o.add_options()("from", po::value<std::string>(), "the backup's directory (fl-hub backup --out)");
  const auto vm = parse_args(args, o);
  if (!vm.count("from")) throw UsageError("restore needs --from DIR (a backup written by fl-hub backup)");
  if (fs::exists(fs::path(cfg.data_dir) / "LOCK") && store_locked(cfg.data_dir))
    throw std::runtime_error("the hub is running on " + cfg.data_dir + ": stop it first");
  const std::string restored = restore_backup(vm["from"].as<std::string>(), cfg.data_dir);
  std::cout << "fl-hub: " << restored << "; start the hub with --data-dir " << cfg.data_dir
            << " (manager.key is not part of a backup: use your manager key, or fl-hub reset-manager-key)" << std::endl;
  return kOk;
}

}  // namespace fedhub::cli
