// The actor system configuration every fedhub program uses: CAF's I/O
// middleman (remoting) and a bounded number of scheduler threads, and for a
// hub whose CAF door speaks TLS, CAF's OpenSSL module with the files that
// verify the hub (and, for mutual TLS, identify this client).
#pragma once

#include <caf/actor_system_config.hpp>
#include <memory>
#include <string>

#include "client/client_tls.hpp"

namespace fedhub {

class SystemConfig : public caf::actor_system_config {
 public:
  // threads: CAF scheduler threads (CAF defaults to 4 even on 2 cores).
  // Throws std::runtime_error naming a TLS file that is missing, or a
  // certificate without its key or without a CA file.
  explicit SystemConfig(int threads = 2, const ClientTls& tls = {});
  ~SystemConfig() override;

 private:
  std::unique_ptr<class ThrowawayCertificate> throwaway_;
};

}  // namespace fedhub
