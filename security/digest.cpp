#include "security/digest.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace fedhub {

struct Sha256Hasher::Context {
  EVP_MD_CTX* md = nullptr;
  ~Context() { EVP_MD_CTX_free(md); }
};

Sha256Hasher::Sha256Hasher() : ctx_(std::make_unique<Context>()) {
  ctx_->md = EVP_MD_CTX_new();
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL cannot start a SHA-256 digest");
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::update(std::span<const char> bytes) {
  if (!bytes.empty() && EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size()) != 1)
    throw std::runtime_error("OpenSSL's SHA-256 update failed");
}

Sha256 Sha256Hasher::finish() {
  Sha256 out{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_->md, out.data(), &n) != 1 || n != out.size())
    throw std::runtime_error("OpenSSL's SHA-256 final step failed");
  return out;
}

Sha256 sha256(std::span<const char> bytes) {
  Sha256Hasher h;
  h.update(bytes);
  return h.finish();
}

std::string to_hex(const Sha256& digest) {
  static const char* const kDigits = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (uint8_t b : digest) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

}  // namespace fedhub
