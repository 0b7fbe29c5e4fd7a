// FrameGuard over real sockets, in front of an echo server standing in for
// CAF (the real CAF behind it: tests/integration/caf_door_test.cpp): bytes
// pass both ways unchanged; an oversized frame, a missing handshake and a
// peer over its slots end the connection; refusals are counted.
#include "guard/frame_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "guard/basp_scanner.hpp"
#include "metrics/registry.hpp"

using namespace fedhub::guard;
using namespace std::chrono_literals;

namespace {

std::string frame(unsigned operation, size_t payload, int64_t announced = -1) {
  const uint32_t len = announced < 0 ? static_cast<uint32_t>(payload) : static_cast<uint32_t>(announced);
  std::string f(kBaspHeaderSize, '\0');
  f[0] = static_cast<char>(operation);
  f[4] = static_cast<char>(len >> 24);
  f[5] = static_cast<char>(len >> 16);
  f[6] = static_cast<char>(len >> 8);
  f[7] = static_cast<char>(len);
  for (size_t i = 0; i < payload; ++i) f.push_back(static_cast<char>('a' + i % 26));
  return f;
}

int listen_loopback(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  BOOST_REQUIRE(::listen(fd, 64) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

// Stands in for CAF: greets each connection with "HELLO" (as CAF sends its
// handshake first) and echoes what it gets; counts connections and their ends.
class EchoServer {
 public:
  EchoServer() {
    fd_ = listen_loopback(port_);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        ++accepted_;
        std::lock_guard lock(mutex_);
        workers_.emplace_back([this, c] {
          (void)!::write(c, "HELLO", 5);
          char buf[65536];
          for (ssize_t n; (n = ::read(c, buf, sizeof buf)) > 0;) {
            received_ += static_cast<uint64_t>(n);
            for (ssize_t at = 0; at < n;) {
              const ssize_t w = ::write(c, buf + at, static_cast<size_t>(n - at));
              if (w <= 0) break;
              at += w;
            }
          }
          ::close(c);
          ++ended_;
        });
      }
    });
  }
  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    std::lock_guard lock(mutex_);
    for (auto& w : workers_) w.join();
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }
  int ended() const { return ended_; }
  uint64_t received() const { return received_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::atomic<int> accepted_{0}, ended_{0};
  std::atomic<uint64_t> received_{0};
};

// A client socket to the guard.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    BOOST_REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~Client() { ::close(fd_); }
  void send(const std::string& bytes) {
    for (size_t at = 0; at < bytes.size();) {
      const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return;  // the guard may have closed already
      at += static_cast<size_t>(n);
    }
  }
  // Reads `n` bytes, or fewer when the connection ends; fails the test when
  // neither happens within `limit`.
  std::string read(size_t n, std::chrono::milliseconds limit = 20000ms) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (out.size() < n) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        BOOST_FAIL("no bytes and no end of the connection within " << limit.count() << " ms");
      }
      char buf[65536];
      const ssize_t got = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (got <= 0) break;
      out.append(buf, static_cast<size_t>(got));
    }
    return out;
  }
  // Whether the connection ends (EOF or reset) within `limit`, reading and
  // dropping what comes.
  bool ends_within(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      if (::recv(fd_, buf, sizeof buf, 0) <= 0) return true;
    }
  }

 private:
  int fd_ = -1;
};

double refused(const char* reason) {
  return fedhub::metrics::global().value("fedhub_guard_refused_total", {{"reason", reason}});
}

GuardOptions options_for(const EchoServer& up) {
  GuardOptions o;
  o.upstream_port = up.port();
  o.max_frame_bytes = 1 << 20;
  o.handshake_timeout = 20000ms;
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(frame_guard)

BOOST_AUTO_TEST_CASE(frames_within_the_limit_pass_both_ways_unchanged) {
  EchoServer up;
  FrameGuard guard(options_for(up));
  Client c(guard.port());
  BOOST_TEST(c.read(5) == "HELLO");  // the upstream's greeting comes through
  const std::string stream = frame(1, 200) + frame(2, 1 << 20) + frame(6, 0) + frame(2, 70000);
  c.send(stream);
  BOOST_TEST(c.read(stream.size()) == stream);  // echoed: nothing changed, nothing lost
  BOOST_TEST(guard.open_connections() == 1);
}

BOOST_AUTO_TEST_CASE(a_header_announcing_4_gb_closes_the_connection_before_its_payload) {
  EchoServer up;
  FrameGuard guard(options_for(up));
  const double before = refused("oversized_frame");
  for (int i = 0; i < 3; ++i) {  // three connections, as the measured attack
    Client c(guard.port());
    c.send(frame(1, 16) + frame(2, 0, 0xFFFFFFFFll));
    BOOST_TEST(c.ends_within(20000ms));
  }
  BOOST_TEST(refused("oversized_frame") == before + 3);
  // And a first frame that is no handshake, and bytes that are not BASP.
  const double not_hs = refused("not_a_handshake"), bad_op = refused("bad_operation");
  {
    Client c(guard.port());
    c.send(frame(2, 0, 0xFFFFFFFFll));
    BOOST_TEST(c.ends_within(20000ms));
  }
  {
    Client c(guard.port());
    c.send("GET /metrics HTTP/1.1\r\nHost: hub.example.org\r\n\r\n");
    BOOST_TEST(c.ends_within(20000ms));
  }
  BOOST_TEST(refused("not_a_handshake") == not_hs + 1);
  BOOST_TEST(refused("bad_operation") == bad_op + 1);
}

BOOST_AUTO_TEST_CASE(a_connection_that_never_completes_its_handshake_is_closed_at_the_deadline) {
  EchoServer up;
  auto o = options_for(up);
  o.handshake_timeout = 300ms;
  FrameGuard guard(o);
  const double before = refused("handshake_timeout");
  Client idle(guard.port());
  Client half(guard.port());
  half.send(frame(1, 100).substr(0, 40));  // a handshake that stops halfway
  Client done(guard.port());
  done.send(frame(1, 10));
  BOOST_TEST(idle.ends_within(20000ms));
  BOOST_TEST(half.ends_within(20000ms));
  BOOST_TEST(refused("handshake_timeout") == before + 2);
  // The one that completed its handshake stays: it still echoes.
  BOOST_TEST(done.read(5 + 42) == "HELLO" + frame(1, 10));
  done.send(frame(6, 0));
  BOOST_TEST(done.read(32) == frame(6, 0));
}

BOOST_AUTO_TEST_CASE(a_peer_over_its_slots_is_refused_and_slots_come_back) {
  EchoServer up;
  auto o = options_for(up);
  o.max_connections_per_peer = 2;
  FrameGuard guard(o);
  const double before = refused("too_many_from_peer");
  auto a = std::make_unique<Client>(guard.port());
  Client b(guard.port());
  BOOST_TEST(a->read(5) == "HELLO");
  BOOST_TEST(b.read(5) == "HELLO");
  {
    Client third(guard.port());
    BOOST_TEST(third.ends_within(20000ms));
  }
  BOOST_TEST(refused("too_many_from_peer") == before + 1);
  BOOST_TEST(up.accepted() == 2);  // the third never reached the upstream
  a.reset();
  // The slot comes back once the guard has seen the end of `a`.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (guard.open_connections() > 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  BOOST_REQUIRE(guard.open_connections() == 1);
  Client again(guard.port());
  BOOST_TEST(again.read(5) == "HELLO");
}

BOOST_AUTO_TEST_SUITE_END()
