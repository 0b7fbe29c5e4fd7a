// `fl-hub backup` and `fl-hub restore` (docs/operations.md).
#pragma once

#include <string>
#include <vector>

#include "config/hub_config.hpp"

namespace fedhub::cli {

// backup --out DIR [--key K | --key-file F] [--timeout S] [--ca-file CA
// [--cert C --cert-key K]]: a consistent copy of cfg.data_dir in DIR (a new
// directory). With a hub running on the data directory, the hub writes it (a
// Backup request to cfg.bind:cfg.port with a manager key: the options,
// FEDHUB_KEY, or <data-dir>/manager.key; over TLS with --ca-file or
// FEDHUB_CA_FILE, which a config with tls_certificate requires); with none,
// this process opens the store and writes it.
int backup_command(const HubConfig& cfg, const std::vector<std::string>& args);

// restore --from DIR: with no hub running, makes the backup in DIR the data
// directory cfg.data_dir (which must not exist).
int restore_command(const HubConfig& cfg, const std::vector<std::string>& args);

}  // namespace fedhub::cli
