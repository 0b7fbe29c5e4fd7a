// API keys: generation, hashing and naming rules. The hub stores only the
// SHA-256 of a key (keys carry 192 random bits, so a salt adds nothing).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "security/digest.hpp"  // Sha256, to_hex

namespace fedhub {

using KeyHash = Sha256;

// A new key: "fhk_" followed by 48 hex digits from the system's CSPRNG.
// Throws std::runtime_error when no randomness is available.
std::string generate_api_key();

KeyHash hash_api_key(const std::string& key);

// Key (and participant) names: 1-64 characters of [A-Za-z0-9._@-].
// Returns an empty string when valid, else the reason.
std::string check_key_name(const std::string& name);

// Compares two hashes in constant time.
bool hashes_equal(const KeyHash& a, const KeyHash& b);

}  // namespace fedhub
