// A self-signed certificate and key made for one process, in temporary files
// removed when the object goes: CAF 0.17's OpenSSL module verifies a peer only
// when it has a certificate of its own, so a client that verifies the hub but
// has no certificate to show (no mutual TLS) presents this one. A hub that
// requires client certificates refuses it (it is signed by no CA).
#pragma once

#include <string>

namespace fedhub {

class ThrowawayCertificate {
 public:
  // Makes an ECDSA P-256 key and a certificate for CN=fedhub-client valid for
  // a day; throws std::runtime_error when OpenSSL or the files fail.
  ThrowawayCertificate();
  ~ThrowawayCertificate();
  ThrowawayCertificate(const ThrowawayCertificate&) = delete;
  ThrowawayCertificate& operator=(const ThrowawayCertificate&) = delete;

  const std::string& certificate() const { return certificate_; }
  const std::string& key() const { return key_; }

 private:
  std::string dir_, certificate_, key_;
};

}  // namespace fedhub
