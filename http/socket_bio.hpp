// An OpenSSL BIO over a connected non-blocking socket that never raises
// SIGPIPE: OpenSSL's own socket BIO writes with write(2), which kills a
// process that does not ignore SIGPIPE (fl-hub does not) when the peer has
// gone; this one sends with MSG_NOSIGNAL. Reads and writes that would block
// set BIO's retry flags, so SSL_get_error reports WANT_READ / WANT_WRITE.
#pragma once

#include <openssl/bio.h>

namespace fedhub::http {

// A new BIO on `fd` (not closed by the BIO), or nullptr when OpenSSL fails.
// Attach with SSL_set_bio(ssl, bio, bio).
BIO* new_socket_bio(int fd);

}  // namespace fedhub::http
