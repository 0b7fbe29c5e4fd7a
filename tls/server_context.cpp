#include "tls/server_context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace fedhub::tls {

namespace {

template <class T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;

int no_passphrase(char*, int, int, void*) { return -1; }

std::string label(const std::string& what, const std::string& path) { return what + " '" + path + "'"; }

std::string read_all(const std::string& what, const std::string& path) {
  if (path.empty()) throw TlsError(what + ": no file given");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw TlsError(label(what, path) + ": no such file");
  if (std::filesystem::is_directory(path, ec)) throw TlsError(label(what, path) + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TlsError(label(what, path) + ": cannot be read (" + std::strerror(errno) + ")");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every certificate of a PEM file, in order; at least one.
std::vector<X509Ptr> read_certificates(const std::string& what, const std::string& path) {
  const std::string pem = read_all(what, path);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> out;
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) out.emplace_back(c);
  ERR_clear_error();  // the end of the file reads as an error
  if (out.empty()) throw TlsError(label(what, path) + ": holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  return out;
}

PkeyPtr read_key(const std::string& what, const std::string& path) {
  const std::string pem = read_all(what, path);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    ERR_clear_error();
    throw TlsError(label(what, path) + (pem.find("ENCRYPTED") != std::string::npos
                                            ? ": holds an encrypted private key (give an unencrypted one)"
                                            : ": holds no PEM private key (-----BEGIN PRIVATE KEY-----)"));
  }
  return key;
}

std::string utc(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "(an unreadable time)";
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

void check_valid_now(const std::string& what, const std::string& path, X509* cert) {
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
    throw TlsError(label(what, path) + ": is not valid before " + utc(X509_get0_notBefore(cert)) +
                   " (check this machine's clock)");
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
    throw TlsError(label(what, path) + ": expired on " + utc(X509_get0_notAfter(cert)) +
                   " (make a new one: fl-hub init-tls)");
}

// The leaf of a certificate file and its key, checked; returns both.
std::pair<std::vector<X509Ptr>, PkeyPtr> read_pair(const std::string& cert_path, const std::string& key_path,
                                                   bool server) {
  auto chain = read_certificates("certificate file", cert_path);
  X509* leaf = chain.front().get();
  check_valid_now("certificate file", cert_path, leaf);
  const int purpose = server ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT;
  if (X509_check_purpose(leaf, purpose, 0) != 1) {
    ERR_clear_error();
    throw TlsError(label("certificate file", cert_path) +
                   (server ? ": is not a server certificate" : ": is not a client certificate") +
                   " (its keyUsage or extendedKeyUsage do not allow " + (server ? "serverAuth)" : "clientAuth)"));
  }
  PkeyPtr key = read_key("key file", key_path);
  if (X509_check_private_key(leaf, key.get()) != 1) {
    ERR_clear_error();
    throw TlsError(label("key file", key_path) + ": is not the key of " + label("certificate file", cert_path));
  }
  return {std::move(chain), std::move(key)};
}

void use_pair(SSL_CTX* ctx, const std::string& cert_path, const std::string& key_path, bool server) {
  auto [chain, key] = read_pair(cert_path, key_path, server);
  if (SSL_CTX_use_certificate(ctx, chain.front().get()) != 1)
    throw TlsError(label("certificate file", cert_path) + ": OpenSSL refuses it: " + take_openssl_errors());
  SSL_CTX_clear_chain_certs(ctx);
  for (size_t i = 1; i < chain.size(); ++i)
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1)
      throw TlsError(label("certificate file", cert_path) + ": OpenSSL refuses certificate " + std::to_string(i + 1) +
                     " of its chain: " + take_openssl_errors());
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    throw TlsError(label("key file", key_path) + ": OpenSSL refuses it: " + take_openssl_errors());
}

// Makes the CA certificates of a file the context's only trust anchors.
void trust(SSL_CTX* ctx, const std::string& what, const std::string& path) {
  auto cas = read_certificates(what, path);
  for (const auto& c : cas)
    if (X509_check_ca(c.get()) == 0)
      throw TlsError(label(what, path) +
                     ": holds a certificate that is not a CA (no basicConstraints CA:TRUE): give the CA's "
                     "certificate (ca.pem of fl-hub init-tls)");
  X509_STORE* store = X509_STORE_new();
  if (!store) throw TlsError("cannot make a certificate store: " + take_openssl_errors());
  for (const auto& c : cas) X509_STORE_add_cert(store, c.get());
  SSL_CTX_set_cert_store(ctx, store);  // takes it
}

void common(SSL_CTX* ctx) {
  if (!ctx) throw TlsError("no SSL_CTX to configure");
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
    throw TlsError("cannot require TLS 1.2: " + take_openssl_errors());
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
}

}  // namespace

void SslCtxFree::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }

void configure_server_context(SSL_CTX* ctx, const ServerFiles& files) {
  common(ctx);
  use_pair(ctx, files.certificate, files.key, true);
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  static const unsigned char kSessionContext[] = "fedhub";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (files.client_ca.empty()) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return;
  }
  trust(ctx, "client CA file", files.client_ca);
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca.c_str());
  if (!names) throw TlsError(label("client CA file", files.client_ca) + ": " + take_openssl_errors());
  SSL_CTX_set_client_CA_list(ctx, names);  // takes it
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  X509_VERIFY_PARAM_set_purpose(SSL_CTX_get0_param(ctx), X509_PURPOSE_SSL_CLIENT);
}

SslCtxPtr make_server_context(const ServerFiles& files) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) throw TlsError("cannot make a TLS server context: " + take_openssl_errors());
  configure_server_context(ctx.get(), files);
  return ctx;
}

void configure_client_context(SSL_CTX* ctx, const ClientFiles& files) {
  common(ctx);
  if (files.ca.empty())
    throw TlsError("a TLS client needs the CA file that signed the hub's certificate (ca.pem of fl-hub init-tls)");
  if (files.certificate.empty() != files.key.empty())
    throw TlsError("a client certificate and its key go together (give both, or neither)");
  trust(ctx, "CA file", files.ca);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  X509_VERIFY_PARAM_set_purpose(SSL_CTX_get0_param(ctx), X509_PURPOSE_SSL_SERVER);
  if (!files.certificate.empty()) use_pair(ctx, files.certificate, files.key, false);
}

SslCtxPtr make_client_context(const ClientFiles& files) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) throw TlsError("cannot make a TLS client context: " + take_openssl_errors());
  configure_client_context(ctx.get(), files);
  return ctx;
}

void set_expected_host(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (is_ip_address(host)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1)
      throw TlsError("cannot expect the IP address '" + host + "': " + take_openssl_errors());
    return;
  }
  if (SSL_set1_host(ssl, host.c_str()) != 1)
    throw TlsError("cannot expect the host name '" + host + "': " + take_openssl_errors());
  SSL_set_tlsext_host_name(ssl, host.c_str());
}

std::string take_openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "no OpenSSL error" : out;
}

}  // namespace fedhub::tls
