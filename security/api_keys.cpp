#include "security/api_keys.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cctype>
#include <stdexcept>

namespace fedhub {

std::string generate_api_key() {
  unsigned char raw[24];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("cannot generate an API key: no system randomness");
  static const char* hex = "0123456789abcdef";
  std::string key = "fhk_";
  for (unsigned char c : raw) {
    key += hex[c >> 4];
    key += hex[c & 15];
  }
  return key;
}

KeyHash hash_api_key(const std::string& key) { return sha256({key.data(), key.size()}); }

std::string check_key_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return "a key name has 1 to 64 characters";
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' && c != '@')
      return std::string("a key name holds only letters, digits, '.', '_', '-' and '@', not '") + c + "'";
  return {};
}

bool hashes_equal(const KeyHash& a, const KeyHash& b) { return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0; }

}  // namespace fedhub
