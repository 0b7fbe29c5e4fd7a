#include "apps/hub/tls_commands.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>

#include "apps/cli.hpp"
#include "tls/certificates.hpp"

namespace fedhub::cli {

namespace fs = std::filesystem;

const char* const kInitTlsHelp =
    "Usage: fl-hub init-tls DIR [--name NAME]... [--client NAME]... [--force]\n"
    "\n"
    "Makes what a hub needs for TLS on both doors, with OpenSSL (ECDSA P-256 keys):\n"
    "  DIR/ca.pem, DIR/ca.key           a certificate authority (10 years)\n"
    "  DIR/hub.pem, DIR/hub.key         the hub's certificate, signed by the CA, for the\n"
    "                                   names (2 years)\n"
    "  DIR/clients/NAME.pem, NAME.key   a client certificate per --client (CN = NAME; for\n"
    "                                   mutual TLS, 2 years)\n"
    "Keys are written mode 0600. Then prints the config lines (tls_certificate, tls_key,\n"
    "tls_client_ca) and the clients' options.\n"
    "\n"
    "An existing CA is never replaced without --force: with only --client, client\n"
    "certificates are added to it (an existing one is kept: remove it to make it anew).\n"
    "\n"
    "Options:\n"
    "  --name NAME     a host name or IP address clients reach the hub at (repeatable;\n"
    "                  default: localhost, 127.0.0.1, ::1 and this machine's host name)\n"
    "  --client NAME   a client certificate for NAME (repeatable)\n"
    "  --force         make a new CA even if DIR holds one (every certificate of the old\n"
    "                  one stops working)\n"
    "  -h, --help      this help\n";

namespace {

std::vector<std::string> default_names() {
  std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) {
    const std::string h = host;
    if (!h.empty() && h != "localhost" && h.find_first_of(" \t") == std::string::npos) names.push_back(h);
  }
  return names;
}

std::vector<std::string> unique(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& s : in)
    if (seen.insert(s).second) out.push_back(s);
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// A JSON string (paths with quotes or backslashes are rare, but possible).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void make_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  if (fs::exists(dir, ec)) throw std::runtime_error("'" + dir.string() + "' exists and is not a directory");
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error("cannot make the directory '" + dir.string() + "': " + std::strerror(errno));
}

}  // namespace

int init_tls_command(const HubConfig&, const std::vector<std::string>& args) {
  po::options_description o("init-tls options");
  o.add_options()("help,h", "this help")("dir", po::value<std::string>(), "the directory to write into")(
      "name", po::value<std::vector<std::string>>(), "a host name or IP address of the hub")(
      "client", po::value<std::vector<std::string>>(), "a client certificate for NAME")(
      "force", "make a new CA even if DIR holds one");
  po::positional_options_description pos;
  pos.add("dir", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(o).positional(pos).style(kStyle).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kInitTlsHelp;
    return kOk;
  }
  if (!vm.count("dir"))
    throw UsageError("init-tls needs a directory: fl-hub init-tls DIR (see fl-hub init-tls --help)");
  const fs::path dir = fs::absolute(vm["dir"].as<std::string>()).lexically_normal();
  const bool force = vm.count("force") > 0;
  const auto clients =
      unique(vm.count("client") ? vm["client"].as<std::vector<std::string>>() : std::vector<std::string>{});
  const bool names_given = vm.count("name") > 0;
  const auto names = unique(names_given ? vm["name"].as<std::vector<std::string>>() : default_names());

  const fs::path ca_pem = dir / "ca.pem", ca_key = dir / "ca.key";
  const fs::path hub_pem = dir / "hub.pem", hub_key = dir / "hub.key";
  const fs::path client_dir = dir / "clients";
  const bool has_ca = fs::exists(ca_pem) || fs::exists(ca_key);
  const bool add_clients_only = has_ca && !force && !names_given && !clients.empty();
  if (has_ca && !force && !add_clients_only)
    throw std::runtime_error("'" + dir.string() +
                             "' already holds a CA (ca.pem, ca.key): add client certificates to it with --client "
                             "NAME alone, or give --force to make a new CA (the certificates of the old one stop "
                             "working)");
  for (const auto& c : clients)
    if (add_clients_only && fs::exists(client_dir / (c + ".pem")))
      throw std::runtime_error("'" + (client_dir / (c + ".pem")).string() +
                               "' exists: remove it (and its .key) to make a new certificate for '" + c + "'");

  // Everything is made in memory first: a bad name writes nothing.
  tls::CertifiedKey ca;
  tls::CertifiedKey hub;
  if (add_clients_only) {
    ca = tls::read_certified_key(ca_pem.string(), ca_key.string());
  } else {
    ca = tls::make_ca("fedhub CA");
    hub = tls::make_server_certificate(ca, names);
  }
  std::vector<tls::CertifiedKey> made;
  for (const auto& c : clients) made.push_back(tls::make_client_certificate(ca, c));

  make_dir(dir);
  if (!add_clients_only) {
    tls::write_certified_key(ca, ca_pem.string(), ca_key.string());
    tls::write_certified_key(hub, hub_pem.string(), hub_key.string());
  }
  if (!clients.empty()) make_dir(client_dir);
  for (size_t i = 0; i < clients.size(); ++i)
    tls::write_certified_key(made[i], (client_dir / (clients[i] + ".pem")).string(),
                             (client_dir / (clients[i] + ".key")).string());

  if (add_clients_only) {
    std::cout << "fl-hub: added client certificates for " << join(clients) << " to the CA in " << dir.string() << " ("
              << (client_dir / "NAME.pem").string() << ", NAME.key)" << std::endl;
  } else {
    std::cout << "fl-hub: made a CA (" << ca_pem.string() << ", ca.key), the hub's certificate for " << join(names)
              << " (" << hub_pem.string() << ", hub.key)";
    if (!clients.empty())
      std::cout << " and client certificates for " << join(clients) << " (" << (client_dir / "NAME.pem").string()
                << ", NAME.key)";
    std::cout << "; keys are mode 0600: keep ca.key offline if you can\n"
              << "\nIn the hub's config file (both doors then speak only TLS):\n"
              << "  \"tls_certificate\": " << quoted(hub_pem.string()) << ",\n"
              << "  \"tls_key\": " << quoted(hub_key.string()) << ",\n"
              << "and for mutual TLS (clients must also present a certificate of this CA):\n"
              << "  \"tls_client_ca\": " << quoted(ca_pem.string()) << ",\n";
  }
  const std::string client = clients.empty() ? "NAME" : clients.front();
  const std::string cpem = (client_dir / (client + ".pem")).string(), ckey = (client_dir / (client + ".key")).string();
  std::cout << "\nClients verify the hub against " << ca_pem.string() << " (copy it to them; never ca.key):\n"
            << "  fl-participant, fl-manager:  --ca-file " << ca_pem.string() << "  [--cert " << cpem << " --cert-key "
            << ckey << "]\n"
            << "  Python (fedhub_client):      --hub https://HOST:PORT --ca-file " << ca_pem.string() << "  [--cert "
            << cpem << " --cert-key " << ckey << "]\n"
            << "  curl:                        curl --cacert " << ca_pem.string() << "  [--cert " << cpem << " --key "
            << ckey << "] https://HOST:PORT/api/v1/whoami\n";
  if (!add_clients_only && !names_given)
    std::cout << "HOST must be one of " << join(names) << ": give others with --name (and --force to remake).\n";
  std::cout << std::flush;
  return kOk;
}

}  // namespace fedhub::cli
