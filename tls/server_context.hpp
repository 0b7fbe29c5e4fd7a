// OpenSSL contexts for the hub's doors and for clients that check the hub
// (docs/operations.md, "TLS"). A server context speaks TLS 1.2 or later with
// the hub's certificate and key and, for mutual TLS, asks every client for a
// certificate signed by a given CA and refuses the handshake without one. A
// client context verifies the server's certificate against a CA file (never
// "accept any certificate") and may present a client certificate.
//
// The files are checked before OpenSSL takes them, so that an operator reads
// which file is wrong and how: TlsError (tls/certificates.hpp) with messages
// such as
//   certificate file '/etc/fedhub/hub.pem': no such file
//   certificate file 'hub.pem': holds no PEM certificate (-----BEGIN CERTIFICATE-----)
//   key file 'hub.key': is not the key of certificate file 'hub.pem'
//   certificate file 'hub.pem': expired on 2026-01-02 10:00:00 UTC
//   certificate file 'client.pem': is not a server certificate (its extendedKeyUsage lacks serverAuth)
//
//   auto ctx = tls::make_server_context({.certificate = c, .key = k});
//   SSL* ssl = SSL_new(ctx.get());  ...
//
// With Boost.Asio: configure_server_context(asio_ctx.native_handle(), files).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "tls/certificates.hpp"

namespace fedhub::tls {

struct ServerFiles {
  std::string certificate;  // PEM: the server's certificate, then any intermediate CAs
  std::string key;          // PEM: its private key (unencrypted)
  std::string client_ca;    // PEM CA certificate(s); empty: no client certificates asked
};

struct ClientFiles {
  std::string ca;           // PEM CA certificate(s) the server's certificate must chain to; required
  std::string certificate;  // PEM client certificate for mutual TLS; empty: none
  std::string key;          // its key; set exactly when `certificate` is
};

// Deletes an SSL_CTX (SSL_CTX_free).
struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const;
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// Sets up an existing server context (one of TLS_server_method(), or Boost
// Asio's ssl::context::native_handle()): minimum TLS 1.2, no renegotiation,
// the certificate chain and key of `files` and, with files.client_ca,
// SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT against that CA (whose
// names are also sent as the acceptable client CAs). Checks first that each
// file exists and holds PEM of the right kind, that the certificate is valid
// now and usable by a TLS server, and that the key is its key; TlsError
// naming the file and the fault otherwise (the context may then be half
// configured: discard it).
void configure_server_context(SSL_CTX* ctx, const ServerFiles& files);

// A new context of TLS_server_method() set up by configure_server_context.
SslCtxPtr make_server_context(const ServerFiles& files);

// Sets up an existing client context: minimum TLS 1.2, SSL_VERIFY_PEER with
// files.ca as the only trust anchors (the system's CAs are not used), and the
// client certificate and key when given (checked as the server's are, for
// clientAuth). TlsError naming the file otherwise, or when files.ca is empty.
// The server's name is checked per connection: set_expected_host.
void configure_client_context(SSL_CTX* ctx, const ClientFiles& files);

// A new context of TLS_client_method() set up by configure_client_context.
SslCtxPtr make_client_context(const ClientFiles& files);

// Makes the handshake of the client connection `ssl` fail unless the
// server's certificate is for `host`: an IP address is matched against the
// certificate's IP addresses, a name against its DNS names; also sends the
// name as SNI. TlsError when OpenSSL refuses the value.
void set_expected_host(SSL* ssl, const std::string& host);

// OpenSSL's error queue of this thread as one line ("...; ..."), emptied;
// "no OpenSSL error" when it is empty. For messages about failed handshakes.
std::string take_openssl_errors();

}  // namespace fedhub::tls
