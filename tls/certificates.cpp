#include "tls/certificates.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace fedhub::tls {

namespace {

template <class T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Free<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION, X509_EXTENSION_free>>;

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "no OpenSSL error" : out;
}

[[noreturn]] void fail(const std::string& what) { throw TlsError(what + ": " + openssl_errors()); }

PkeyPtr new_p256_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) fail("cannot make an ECDSA P-256 key");
  return key;
}

std::string to_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) fail("cannot write a certificate as PEM");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("cannot write a private key as PEM");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// Never prompts for a pass phrase: encrypted keys fail to read.
int no_passphrase(char*, int, int, void*) { return -1; }

X509Ptr cert_from_pem(const std::string& pem, const std::string& what) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
  if (!cert) {
    ERR_clear_error();
    throw TlsError(what + ": holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  }
  return cert;
}

PkeyPtr key_from_pem(const std::string& pem, const std::string& what) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    ERR_clear_error();
    throw TlsError(what + ": holds no unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)");
  }
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    fail("cannot add the extension " + std::string(OBJ_nid2sn(nid)) + " = " + value);
}

// A certificate for `key` named `cn`, valid for `validity` from an hour ago,
// with a random positive serial number; not yet signed.
X509Ptr new_cert(EVP_PKEY* key, const std::string& cn, std::chrono::days validity) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) fail("cannot make a certificate");
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
    fail("cannot make a serial number");
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(validity.count()), 0, nullptr))
    fail("cannot set the validity");
  if (X509_set_pubkey(cert.get(), key) != 1) fail("cannot set the public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1)
    fail("cannot set the common name '" + cn + "'");
  return cert;
}

void sign(X509* cert, EVP_PKEY* key) {
  if (X509_sign(cert, key, EVP_sha256()) <= 0) fail("cannot sign the certificate");
}

struct Ca {
  X509Ptr cert;
  PkeyPtr key;
};

Ca load_ca(const CertifiedKey& ca) {
  Ca out{cert_from_pem(ca.certificate_pem, "the CA"), key_from_pem(ca.key_pem, "the CA's key")};
  if (X509_check_ca(out.cert.get()) == 0)
    throw TlsError("the CA's certificate is not a CA (no basicConstraints CA:TRUE)");
  if (X509_check_private_key(out.cert.get(), out.key.get()) != 1) {
    ERR_clear_error();
    throw TlsError("the CA's key is not the key of the CA's certificate");
  }
  return out;
}

CertifiedKey make_leaf(const CertifiedKey& ca_pem, const std::string& cn, std::chrono::days validity,
                       const std::string& usage, const std::string& san) {
  Ca ca = load_ca(ca_pem);
  PkeyPtr key = new_p256_key();
  X509Ptr cert = new_cert(key.get(), cn, validity);
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.cert.get())) != 1) fail("cannot set the issuer");
  add_ext(cert.get(), ca.cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), ca.cert.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(cert.get(), ca.cert.get(), NID_ext_key_usage, usage);
  add_ext(cert.get(), ca.cert.get(), NID_subject_key_identifier, "hash");
  add_ext(cert.get(), ca.cert.get(), NID_authority_key_identifier, "keyid:always");
  if (!san.empty()) add_ext(cert.get(), ca.cert.get(), NID_subject_alt_name, san);
  sign(cert.get(), ca.key.get());
  return {to_pem(cert.get()), to_pem(key.get())};
}

// A DNS name as a certificate may hold it: labels of letters, digits, '-'
// and '_' (and a leading "*." wildcard), separated by single dots.
bool valid_dns_name(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return false;
  size_t label = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
               (c == '*' && i == 0 && name.size() > 2 && name[1] == '.')) {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool valid_key_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '@' && c != '-') return false;
  return true;
}

std::string read_all(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw TlsError(what + " '" + path + "': no such file");
  if (std::filesystem::is_directory(path, ec)) throw TlsError(what + " '" + path + "': is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TlsError(what + " '" + path + "': cannot be read (" + std::strerror(errno) + ")");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

bool is_ip_address(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

CertifiedKey make_ca(const std::string& common_name, std::chrono::days validity) {
  if (common_name.empty()) throw TlsError("a CA needs a name");
  PkeyPtr key = new_p256_key();
  X509Ptr cert = new_cert(key.get(), common_name, validity);
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1) fail("cannot set the issuer");
  add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  sign(cert.get(), key.get());
  return {to_pem(cert.get()), to_pem(key.get())};
}

CertifiedKey make_server_certificate(const CertifiedKey& ca, const std::vector<std::string>& names,
                                     std::chrono::days validity) {
  if (names.empty()) throw TlsError("a server certificate needs at least one name (a host name or an IP address)");
  std::string san;
  for (const auto& n : names) {
    std::string entry;
    if (is_ip_address(n))
      entry = "IP:" + n;
    else if (valid_dns_name(n))
      entry = "DNS:" + n;
    else
      throw TlsError("'" + n + "' is neither a host name nor an IP address");
    san += (san.empty() ? "" : ",") + entry;
  }
  return make_leaf(ca, names.front(), validity, "serverAuth", san);
}

CertifiedKey make_client_certificate(const CertifiedKey& ca, const std::string& name, std::chrono::days validity) {
  if (!valid_key_name(name))
    throw TlsError("'" + name + "' is not a participant name (1-64 characters of A-Z a-z 0-9 . _ @ -)");
  return make_leaf(ca, name, validity, "clientAuth", "");
}

void write_file_atomic(const std::string& path, const std::string& text, unsigned mode) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // a leftover of a crash, perhaps with other permissions
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw TlsError("cannot write '" + path + "': " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;  // the umask does not widen it, but may narrow a certificate's: set it
  for (size_t done = 0; ok && done < text.size();) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      ok = false;
    else
      done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = ok ? errno : err;
    ::unlink(tmp.c_str());
    throw TlsError("cannot write '" + path + "': " + std::strerror(e));
  }
  const auto dir = std::filesystem::path(path).parent_path();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_certified_key(const CertifiedKey& pair, const std::string& certificate_path, const std::string& key_path) {
  write_file_atomic(key_path, pair.key_pem, 0600);
  write_file_atomic(certificate_path, pair.certificate_pem, 0644);
}

CertifiedKey read_certified_key(const std::string& certificate_path, const std::string& key_path) {
  CertifiedKey out{read_all(certificate_path, "certificate file"), read_all(key_path, "key file")};
  X509Ptr cert = cert_from_pem(out.certificate_pem, "certificate file '" + certificate_path + "'");
  PkeyPtr key = key_from_pem(out.key_pem, "key file '" + key_path + "'");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    throw TlsError("key file '" + key_path + "': is not the key of certificate file '" + certificate_path + "'");
  }
  return out;
}

std::string common_name(const std::string& certificate_pem) {
  X509Ptr cert = cert_from_pem(certificate_pem, "the certificate");
  X509_NAME* name = X509_get_subject_name(cert.get());
  const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return "";
  ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) fail("cannot read the common name");
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace fedhub::tls
