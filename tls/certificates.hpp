// Certificates for the hub's TLS (docs/operations.md, "TLS"): a certificate
// authority of the deployment, the hub's server certificate signed by it and
// participants' client certificates, made with OpenSSL 3's API (no openssl
// command is run). `fl-hub init-tls` is built on these functions.
//
// Every key is ECDSA on P-256; every certificate is X.509 v3 with a random
// 159-bit serial number, SHA-256 signed, valid from one hour ago (clock
// skew) for the stated time:
//
//   CA       subject CN=<name>, basicConstraints critical CA:TRUE (path
//            length 0), keyUsage critical keyCertSign + cRLSign, subject key
//            identifier; self-signed; 10 years by default.
//   server   subject CN=<first name>, subjectAltName with each name as a DNS
//            name or, when it parses as an IPv4 or IPv6 address, an IP
//            address; basicConstraints CA:FALSE, keyUsage digitalSignature,
//            extendedKeyUsage serverAuth; 2 years by default.
//   client   subject CN=<participant name>, extendedKeyUsage clientAuth,
//            otherwise as the server's; 2 years by default.
//
// Errors are exceptions: TlsError (a std::runtime_error) whose message names
// the file or the value that is wrong. Nothing here keeps state; every
// function is safe to call from several threads at once.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace fedhub::tls {

// What every function of tls/ throws.
struct TlsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A certificate and its private key, both as PEM text ("-----BEGIN
// CERTIFICATE-----...", "-----BEGIN PRIVATE KEY-----...", PKCS#8, not
// encrypted).
struct CertifiedKey {
  std::string certificate_pem;
  std::string key_pem;
};

// Validity periods.
inline constexpr std::chrono::days kCaValidity{3650};
inline constexpr std::chrono::days kLeafValidity{730};

// A new self-signed certificate authority named `common_name` (e.g.
// "fedhub CA"). Throws TlsError when OpenSSL fails (no randomness, an empty
// name).
CertifiedKey make_ca(const std::string& common_name, std::chrono::days validity = kCaValidity);

// A server certificate signed by `ca` (as make_ca returns it, or read with
// read_certified_key) for `names`: host names ("localhost", "hub.example.org")
// and IP addresses ("127.0.0.1", "::1"), at least one. Throws TlsError for
// an empty list, an empty or malformed name (spaces, control characters, a
// trailing dot), or a `ca` whose certificate is not a CA or whose key is not
// its key.
CertifiedKey make_server_certificate(const CertifiedKey& ca, const std::vector<std::string>& names,
                                     std::chrono::days validity = kLeafValidity);

// A client certificate signed by `ca` for a participant (or manager):
// CN = `name`, which must be a key name (1-64 characters of
// [A-Za-z0-9._@-]); TlsError otherwise, or for a `ca` as above.
CertifiedKey make_client_certificate(const CertifiedKey& ca, const std::string& name,
                                     std::chrono::days validity = kLeafValidity);

// Whether `name` is an IPv4 or IPv6 address (as make_server_certificate
// tells names apart).
bool is_ip_address(const std::string& name);

// Writes the certificate to `certificate_path` (mode 0644) and the key to
// `key_path` (mode 0600, never readable by others even for a moment). Each
// file is written to PATH.tmp, synced and renamed over PATH, so a crash
// leaves the old file or the new one, never a part. Throws TlsError naming
// the path that cannot be written.
void write_certified_key(const CertifiedKey& pair, const std::string& certificate_path, const std::string& key_path);

// Writes `text` to `path` atomically (as write_certified_key) with `mode`.
void write_file_atomic(const std::string& path, const std::string& text, unsigned mode);

// Reads a pair written by write_certified_key. Throws TlsError naming the
// file that is missing or holds no PEM certificate or key, or when the key
// is not the certificate's.
CertifiedKey read_certified_key(const std::string& certificate_path, const std::string& key_path);

// The subject's common name of a PEM certificate; TlsError if it is not one.
std::string common_name(const std::string& certificate_pem);

}  // namespace fedhub::tls
