#include "client/system_config.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <filesystem>
#include <stdexcept>

#include "client/throwaway_certificate.hpp"

namespace fedhub {

namespace {

void need_file(const char* option, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw std::runtime_error(std::string(option) + ": no file '" + path + "'");
}

}  // namespace

SystemConfig::SystemConfig(int threads, const ClientTls& tls) {
  load<caf::io::middleman>();
  set("scheduler.max-threads", static_cast<size_t>(threads < 1 ? 1 : threads));
  // Programs print their own errors; keep CAF's console logger quiet.
  set("logger.console", caf::atom("none"));
  if (tls.certificate.empty() != tls.key.empty())
    throw std::runtime_error("--cert and --cert-key go together (a client certificate and its private key)");
  if (!tls.certificate.empty() && !tls.enabled())
    throw std::runtime_error("--cert needs --ca-file (the CA that signed the hub's certificate)");
  if (!tls.enabled()) return;
  need_file("--ca-file", tls.ca_file);
  if (!tls.certificate.empty()) {
    need_file("--cert", tls.certificate);
    need_file("--cert-key", tls.key);
  }
  load<caf::openssl::manager>();
  // With a CA file CAF verifies the peer (SSL_VERIFY_PEER against it) and
  // allows no anonymous cipher (libcaf_openssl, session.cpp).
  openssl_cafile = tls.ca_file;
  if (tls.certificate.empty()) {
    // CAF's OpenSSL module verifies only with a certificate of its own.
    throwaway_ = std::make_unique<ThrowawayCertificate>();
    openssl_certificate = throwaway_->certificate();
    openssl_key = throwaway_->key();
  } else {
    openssl_certificate = tls.certificate;
    openssl_key = tls.key;
  }
}

SystemConfig::~SystemConfig() = default;

}  // namespace fedhub
