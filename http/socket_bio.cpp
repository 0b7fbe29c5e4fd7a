#include "http/socket_bio.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <mutex>

namespace fedhub::http {

namespace {

int fd_of(BIO* b) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b))); }

bool retryable(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR; }

int bio_write(BIO* b, const char* data, int size) {
  BIO_clear_retry_flags(b);
  const auto n = ::send(fd_of(b), data, static_cast<size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && retryable(errno)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int bio_read(BIO* b, char* data, int size) {
  BIO_clear_retry_flags(b);
  const auto n = ::recv(fd_of(b), data, static_cast<size_t>(size), 0);
  if (n < 0 && retryable(errno)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}

int bio_puts(BIO* b, const char* s) { return bio_write(b, s, static_cast<int>(std::char_traits<char>::length(s))); }

long bio_ctrl(BIO*, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_PUSH:
    case BIO_CTRL_POP:
      return 1;
    default:
      return 0;
  }
}

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* method() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "fedhub socket (MSG_NOSIGNAL)");
    BIO_meth_set_write(bm, bio_write);
    BIO_meth_set_read(bm, bio_read);
    BIO_meth_set_puts(bm, bio_puts);
    BIO_meth_set_ctrl(bm, bio_ctrl);
    BIO_meth_set_create(bm, bio_create);
    return bm;
  }();
  return m;
}

}  // namespace

BIO* new_socket_bio(int fd) {
  BIO_METHOD* m = method();
  if (!m) return nullptr;
  BIO* b = BIO_new(m);
  if (b) BIO_set_data(b, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  return b;
}

}  // namespace fedhub::http
