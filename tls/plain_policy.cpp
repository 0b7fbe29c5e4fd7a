#include "tls/plain_policy.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace fedhub::tls {

bool is_loopback(const std::string& address) {
  if (address == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

PlainCheck check_plain_listener(const std::string& door, const std::string& setting, const std::string& address,
                                bool tls, bool allow_plain_remote) {
  if (tls || is_loopback(address)) return {};
  const std::string where = address.empty() ? "every address" : address;
  if (allow_plain_remote)
    return {PlainVerdict::warn, "warning: " + door + " listens on " + where +
                                    " without TLS (allow_plain_remote): API keys and weights cross the network "
                                    "in the clear"};
  return {PlainVerdict::refuse,
          door + " would listen on " + where + " (" + setting +
              ") without TLS, so API keys and weights would cross the network in the clear: set tls_certificate "
              "and tls_key (fl-hub init-tls DIR makes them), bind it to a loopback address, or set "
              "allow_plain_remote to true for a network you trust"};
}

}  // namespace fedhub::tls
