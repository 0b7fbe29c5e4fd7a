#include "client/throwaway_certificate.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

namespace fedhub {

namespace {

template <class T, void (*Free)(T*)>
struct Freer {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Freer<X509, X509_free>>;

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string("throwaway TLS certificate: ") + what);
}

void write_pem(const std::string& path, auto&& write) {
  std::FILE* f = std::fopen(path.c_str(), "wx");  // the directory is ours (mode 0700)
  if (!f) fail("cannot write a temporary file");
  const bool ok = write(f) == 1;
  if (std::fclose(f) != 0 || !ok) fail("cannot write PEM");
}

}  // namespace

ThrowawayCertificate::ThrowawayCertificate() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("cannot make a key");
  Cert cert(X509_new());
  if (!cert) fail("cannot make a certificate");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("fedhub-client"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) fail("cannot sign");

  std::string pattern = (std::filesystem::temp_directory_path() / "fedhub-tls-XXXXXX").string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) fail("cannot make a temporary directory");
  dir_ = buf.data();
  certificate_ = dir_ + "/client.pem";
  key_ = dir_ + "/client.key";
  try {
    write_pem(key_,
              [&](std::FILE* f) { return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
    write_pem(certificate_, [&](std::FILE* f) { return PEM_write_X509(f, cert.get()); });
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw;
  }
}

ThrowawayCertificate::~ThrowawayCertificate() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace fedhub
