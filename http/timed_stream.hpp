// A socket stream whose reads and writes end at a deadline: Beast's
// synchronous algorithms (http::read, http::write) run on it as on a socket,
// but a peer that stops sending or reading makes them fail with
// asio::error::timed_out instead of blocking a connection's thread for
// ever. (SO_RCVTIMEO does not do this: Asio's synchronous operations wait
// again after it fires.) The socket is put in non-blocking mode; each
// operation polls for readiness until its deadline.
//
// With an SSL object (the HTTPS door) the bytes go through TLS: SSL_read and
// SSL_write on the same non-blocking socket, waiting for whatever OpenSSL
// wants (WANT_READ: readable, WANT_WRITE: writable) within the same
// deadline, so a slow TLS client is bounded exactly as a slow plain one.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

#include "http/socket_bio.hpp"

namespace fedhub::http {

class TimedStream {
 public:
  using clock = std::chrono::steady_clock;
  using executor_type = boost::asio::ip::tcp::socket::executor_type;

  // `ssl`, when given, is a server SSL object not yet attached to a socket:
  // it is attached to `socket` here and used by every read and write (after
  // handshake()). The stream does not own it.
  explicit TimedStream(boost::asio::ip::tcp::socket& socket, SSL* ssl = nullptr) : socket_(socket), ssl_(ssl) {
    socket_.non_blocking(true);
    if (ssl_) {
      BIO* bio = new_socket_bio(socket_.native_handle());  // sends with MSG_NOSIGNAL
      if (!bio) throw std::runtime_error("cannot make a socket BIO");
      SSL_set_bio(ssl_, bio, bio);
      SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }
  }

  executor_type get_executor() { return socket_.get_executor(); }
  boost::asio::ip::tcp::socket& socket() { return socket_; }
  SSL* ssl() const { return ssl_; }

  // Operations from now on end at `deadline`.
  void deadline(clock::time_point t) { deadline_ = t; }
  void expires_after(std::chrono::milliseconds d) { deadline_ = clock::now() + d; }

  // Why a TLS handshake failed.
  enum class HandshakeFault { none, timeout, closed, plain_http, refused };

  // The server side of the TLS handshake, within the deadline. Returns
  // none when it completed; otherwise the fault, and OpenSSL's reason in
  // `why` (e.g. "peer did not return a certificate").
  HandshakeFault handshake(std::string& why) {
    while (true) {
      ERR_clear_error();
      const int r = SSL_accept(ssl_);
      if (r == 1) return HandshakeFault::none;
      const int e = SSL_get_error(ssl_, r);
      short events = 0;
      if (e == SSL_ERROR_WANT_READ) {
        events = POLLIN;
      } else if (e == SSL_ERROR_WANT_WRITE) {
        events = POLLOUT;
      } else {
        const unsigned long err = ERR_peek_error();
        why = describe_errors();
        if (e == SSL_ERROR_SSL && ERR_GET_LIB(err) == ERR_LIB_SSL &&
            (ERR_GET_REASON(err) == SSL_R_HTTP_REQUEST || ERR_GET_REASON(err) == SSL_R_HTTPS_PROXY_REQUEST))
          return HandshakeFault::plain_http;
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && err == 0)) return HandshakeFault::closed;
        return HandshakeFault::refused;
      }
      boost::system::error_code ec;
      if (!wait(events, ec)) {
        why = ec.message();
        return ec == boost::asio::error::timed_out ? HandshakeFault::timeout : HandshakeFault::closed;
      }
    }
  }

  // Sends TLS's close_notify if the socket takes it at once; never waits.
  void close_tls() {
    if (!ssl_) return;
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }

  template <class Buffers>
  size_t read_some(const Buffers& b, boost::system::error_code& ec) {
    if (ssl_) {
      for (auto it = boost::asio::buffer_sequence_begin(b); it != boost::asio::buffer_sequence_end(b); ++it) {
        const boost::asio::mutable_buffer m(*it);
        if (m.size() > 0) return tls_io(false, m.data(), m.size(), ec);
      }
      ec = {};
      return 0;
    }
    return io(POLLIN, ec, [&](boost::system::error_code& e) { return socket_.read_some(b, e); });
  }
  template <class Buffers>
  size_t read_some(const Buffers& b) {
    boost::system::error_code ec;
    const size_t n = read_some(b, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class Buffers>
  size_t write_some(const Buffers& b, boost::system::error_code& ec) {
    if (ssl_) return tls_write(b, ec);
    return io(POLLOUT, ec, [&](boost::system::error_code& e) { return socket_.write_some(b, e); });
  }
  template <class Buffers>
  size_t write_some(const Buffers& b) {
    boost::system::error_code ec;
    const size_t n = write_some(b, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  template <class Op>
  size_t io(short events, boost::system::error_code& ec, Op op) {
    while (true) {
      const size_t n = op(ec);
      if (ec != boost::asio::error::would_block && ec != boost::asio::error::try_again) return n;
      if (!wait(events, ec)) return 0;
    }
  }

  // Waits until the socket is ready for `events` or the deadline passes
  // (false, ec = timed_out) or poll fails (false).
  bool wait(short events, boost::system::error_code& ec) {
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock::now()).count();
      if (left <= 0) {
        ec = boost::asio::error::timed_out;
        return false;
      }
      pollfd p{socket_.native_handle(), events, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
      if (r < 0 && errno != EINTR) {
        ec = boost::system::error_code(errno, boost::system::system_category());
        return false;
      }
      if (r > 0) {
        ec = {};
        return true;  // ready, or an error or hang-up the next operation reports
      }
    }
  }

  // Writes the first buffer or, when it is small and more follow (a
  // response's head and its body), up to 16 KiB of them gathered into one
  // TLS record.
  template <class Buffers>
  size_t tls_write(const Buffers& b, boost::system::error_code& ec) {
    auto it = boost::asio::buffer_sequence_begin(b);
    const auto end = boost::asio::buffer_sequence_end(b);
    while (it != end && boost::asio::const_buffer(*it).size() == 0) ++it;
    if (it == end) {
      ec = {};
      return 0;
    }
    const boost::asio::const_buffer first(*it);
    if (first.size() >= staging_.size() || std::next(it) == end) return tls_io(true, first.data(), first.size(), ec);
    size_t n = 0;
    for (; it != end && n < staging_.size(); ++it) {
      const boost::asio::const_buffer c(*it);
      const size_t take = std::min(c.size(), staging_.size() - n);
      std::memcpy(staging_.data() + n, c.data(), take);
      n += take;
    }
    return tls_io(true, staging_.data(), n, ec);
  }

  size_t tls_io(bool writing, const void* data, size_t size, boost::system::error_code& ec) {
    while (true) {
      ERR_clear_error();
      size_t done = 0;
      const int r =
          writing ? SSL_write_ex(ssl_, data, size, &done) : SSL_read_ex(ssl_, const_cast<void*>(data), size, &done);
      if (r == 1) {
        ec = {};
        return done;
      }
      const int e = SSL_get_error(ssl_, r);
      short events = 0;
      if (e == SSL_ERROR_WANT_READ) {
        events = POLLIN;
      } else if (e == SSL_ERROR_WANT_WRITE) {
        events = POLLOUT;
      } else if (e == SSL_ERROR_ZERO_RETURN) {
        ec = boost::asio::error::eof;  // the peer's close_notify
        return 0;
      } else if (e == SSL_ERROR_SYSCALL) {
        ec = errno != 0 && ERR_peek_error() == 0 ? boost::system::error_code(errno, boost::system::system_category())
                                                 : boost::system::error_code(boost::asio::error::eof);
        ERR_clear_error();
        return 0;
      } else {
        // A peer that closes without close_notify (most HTTP clients) reads
        // as the end of the stream; anything else breaks the connection.
        const unsigned long err = ERR_peek_error();
        ec = ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING
                 ? boost::system::error_code(boost::asio::error::eof)
                 : boost::system::error_code(boost::asio::error::connection_aborted);
        ERR_clear_error();
        return 0;
      }
      if (!wait(events, ec)) return 0;
    }
  }

  static std::string describe_errors() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
      const char* reason = ERR_reason_error_string(e);
      out += (out.empty() ? "" : "; ") + std::string(reason ? reason : "an OpenSSL error");
    }
    return out.empty() ? "the connection ended" : out;
  }

  boost::asio::ip::tcp::socket& socket_;
  SSL* ssl_ = nullptr;
  std::array<char, 16 * 1024> staging_{};
  clock::time_point deadline_ = clock::now() + std::chrono::seconds(30);
};

}  // namespace fedhub::http
