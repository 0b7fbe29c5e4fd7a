// "Plain TCP stays available for loopback only" (docs/operations.md, "TLS"):
// the rule both of fl-hub's doors apply to the address they listen on when
// they speak without TLS. Pure functions; no sockets are opened.
#pragma once

#include <string>

namespace fedhub::tls {

// Whether a listening address reaches this machine only: 127.0.0.0/8, ::1,
// ::ffff:127.x.y.z and "localhost". Anything else, the wildcards "0.0.0.0",
// "::" and "" included, and names that are not addresses, is not.
bool is_loopback(const std::string& address);

enum class PlainVerdict {
  fine,    // TLS is on, or the address is loopback: nothing to say
  warn,    // plain beyond loopback, allowed by allow_plain_remote: print `message` and go on
  refuse,  // plain beyond loopback: do not start; `message` says why and what to do
};

struct PlainCheck {
  PlainVerdict verdict = PlainVerdict::fine;
  std::string message;  // one line without a program prefix; empty when fine
};

// The rule for one door: `door` names it in the message (e.g. "the HTTP
// door"), `setting` is the config key of its address (e.g. "http_bind"),
// `address` the address it binds, `tls` whether it speaks TLS.
PlainCheck check_plain_listener(const std::string& door, const std::string& setting, const std::string& address,
                                bool tls, bool allow_plain_remote);

}  // namespace fedhub::tls
