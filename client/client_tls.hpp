// The files a client needs for a hub whose CAF door speaks TLS (used by
// SystemConfig, client/system_config.hpp). No CAF here.
#pragma once

#include <string>

namespace fedhub {

// TLS to the hub's CAF door (docs/operations.md, "TLS"). With a CA file every
// HubClient of the system connects over TLS and refuses a hub whose
// certificate does not chain to that CA; without one, plain TCP.
struct ClientTls {
  std::string ca_file;      // the CA that signed the hub's certificate (fl-hub init-tls: DIR/ca.pem)
  std::string certificate;  // mutual TLS: this client's certificate (DIR/clients/NAME.pem)
  std::string key;          // and its private key (DIR/clients/NAME.key)
  bool enabled() const { return !ca_file.empty(); }
};

}  // namespace fedhub
