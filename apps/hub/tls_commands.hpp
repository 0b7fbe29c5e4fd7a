// `fl-hub init-tls` (docs/operations.md, "TLS").
#pragma once

#include <string>
#include <vector>

#include "config/hub_config.hpp"

namespace fedhub::cli {

// What `fl-hub init-tls --help` prints.
extern const char* const kInitTlsHelp;

// init-tls DIR [--name NAME]... [--client NAME]... [--force]: makes a CA
// (DIR/ca.pem, DIR/ca.key), the hub's certificate for the names (DIR/hub.pem,
// DIR/hub.key; default names localhost, 127.0.0.1, ::1 and this machine's
// host name) and client certificates (DIR/clients/NAME.pem, NAME.key), keys
// mode 0600, and prints the config lines and client options. An existing CA
// is kept: with only --client the clients are added to it; anything else is
// refused unless --force (a new CA, and every file made again). The config
// is not used.
int init_tls_command(const HubConfig& cfg, const std::vector<std::string>& args);

}  // namespace fedhub::cli
