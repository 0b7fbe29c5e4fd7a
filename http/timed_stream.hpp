// A socket stream whose reads and writes end at a deadline: Beast's
// synchronous algorithms (http::read, http::write) run on it as on a socket,
// but a peer that stops sending or reading makes them fail with
// asio::error::timed_out instead of blocking a connection's thread for
// ever. (SO_RCVTIMEO does not do this: Asio's synchronous operations wait
// again after it fires.) The socket is put in non-blocking mode; each
// operation polls for readiness until its deadline.
#pragma once

#include <poll.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>

namespace fedhub::http {

class TimedStream {
 public:
  using clock = std::chrono::steady_clock;
  using executor_type = boost::asio::ip::tcp::socket::executor_type;

  explicit TimedStream(boost::asio::ip::tcp::socket& socket) : socket_(socket) { socket_.non_blocking(true); }

  executor_type get_executor() { return socket_.get_executor(); }
  boost::asio::ip::tcp::socket& socket() { return socket_; }

  // Operations from now on end at `deadline`.
  void deadline(clock::time_point t) { deadline_ = t; }
  void expires_after(std::chrono::milliseconds d) { deadline_ = clock::now() + d; }

  template <class Buffers>
  size_t read_some(const Buffers& b, boost::system::error_code& ec) {
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
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock::now()).count();
      if (left <= 0) {
        ec = boost::asio::error::timed_out;
        return 0;
      }
      pollfd p{socket_.native_handle(), events, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000))) < 0 && errno != EINTR) {
        ec = boost::system::error_code(errno, boost::system::system_category());
        return 0;
      }
    }
  }

  boost::asio::ip::tcp::socket& socket_;
  clock::time_point deadline_ = clock::now() + std::chrono::seconds(30);
};

}  // namespace fedhub::http
