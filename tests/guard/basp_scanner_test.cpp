// BaspScanner: frames split anywhere, the limits, operations and the
// handshake rule; PeerSlots: the limits and giving slots back.
#include "guard/basp_scanner.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "guard/peer_slots.hpp"

using namespace fedhub::guard;

namespace {

// One BASP frame: a header with `operation` and a payload of `payload` bytes
// (the announced length is `announced`, by default the payload's).
std::string frame(unsigned operation, size_t payload, int64_t announced = -1) {
  const uint32_t len = announced < 0 ? static_cast<uint32_t>(payload) : static_cast<uint32_t>(announced);
  std::string f(kBaspHeaderSize, '\0');
  f[0] = static_cast<char>(operation);
  f[3] = 0x01;  // flags are not looked at
  f[4] = static_cast<char>(len >> 24);
  f[5] = static_cast<char>(len >> 16);
  f[6] = static_cast<char>(len >> 8);
  f[7] = static_cast<char>(len);
  for (size_t i = 8; i < kBaspHeaderSize; ++i) f[i] = static_cast<char>(0xA0 + i);
  f.append(payload, 'x');
  return f;
}

std::optional<BaspProblem> feed_in_pieces(BaspScanner& s, const std::string& bytes, size_t piece) {
  std::optional<BaspProblem> p;
  for (size_t at = 0; at < bytes.size() && !p; at += piece)
    p = s.feed({bytes.data() + at, std::min(piece, bytes.size() - at)});
  return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(basp_scanner)

BOOST_AUTO_TEST_CASE(a_handshake_then_messages_pass_in_pieces_of_any_size) {
  const std::string stream = frame(1, 300) + frame(2, 5000) + frame(6, 0) + frame(3, 17) + frame(2, 0);
  for (size_t piece : {size_t{1}, size_t{7}, size_t{31}, size_t{32}, size_t{33}, size_t{4096}, stream.size()}) {
    BaspScanner s({.max_payload = 5000, .max_handshake_payload = 300});
    BOOST_TEST(!s.handshake_done());
    BOOST_TEST(!feed_in_pieces(s, stream, piece).has_value(), "piece " << piece);
    BOOST_TEST(s.handshake_done());
    BOOST_TEST(s.frames() == 5u, "piece " << piece);
  }
}

BOOST_AUTO_TEST_CASE(the_handshake_is_done_only_when_its_payload_is_whole) {
  BaspScanner s;
  const std::string hs = frame(1, 100);
  BOOST_TEST(!s.feed({hs.data(), hs.size() - 1}).has_value());
  BOOST_TEST(!s.handshake_done());
  BOOST_TEST(!s.feed({hs.data() + hs.size() - 1, 1}).has_value());
  BOOST_TEST(s.handshake_done());
}

BOOST_AUTO_TEST_CASE(an_announced_payload_over_the_limit_is_refused_from_its_header_alone) {
  BaspScanner s({.max_payload = 1 << 20});
  BOOST_TEST(!s.feed(frame(1, 10)).has_value());
  const std::string huge = frame(2, 0, 0xFFFFFFFFll);  // the header only: nothing else needs to arrive
  BOOST_TEST((s.feed(huge) == BaspProblem::oversized_frame));
  BOOST_TEST(s.last_announced() == 0xFFFFFFFFull);
  // The problem sticks.
  BOOST_TEST((s.feed(frame(2, 1)) == BaspProblem::oversized_frame));
  // Exactly at the limit passes.
  BaspScanner at({.max_payload = 1 << 20});
  BOOST_TEST(!at.feed(frame(1, 10) + frame(2, 0, 1 << 20)).has_value());
  BaspScanner over({.max_payload = 1 << 20});
  BOOST_TEST((over.feed(frame(1, 10) + frame(2, 0, (1 << 20) + 1)) == BaspProblem::oversized_frame));
}

BOOST_AUTO_TEST_CASE(the_handshake_has_its_own_smaller_limit) {
  BaspScanner s({.max_payload = 1 << 30, .max_handshake_payload = 1024});
  BOOST_TEST((s.feed(frame(1, 0, 4096)) == BaspProblem::oversized_frame));
  BaspScanner later({.max_payload = 1 << 30, .max_handshake_payload = 1024});
  BOOST_TEST((later.feed(frame(1, 8) + frame(0, 0, 2048)) == BaspProblem::oversized_frame));
}

BOOST_AUTO_TEST_CASE(the_first_frame_must_be_the_clients_handshake) {
  for (unsigned op : {0u, 2u, 3u, 4u, 5u, 6u}) {
    BaspScanner s;
    BOOST_TEST((s.feed(frame(op, 4)) == BaspProblem::not_a_handshake), "operation " << op);
  }
}

BOOST_AUTO_TEST_CASE(operations_basp_does_not_have_are_refused) {
  for (unsigned op : {7u, 8u, 0x47u /* 'G' of "GET / HTTP/1.1" */, 0xFFu}) {
    BaspScanner first;
    BOOST_TEST((first.feed(frame(op, 0)) == BaspProblem::bad_operation), "operation " << op);
    BaspScanner later;
    BOOST_TEST((later.feed(frame(1, 3) + frame(op, 0)) == BaspProblem::bad_operation), "operation " << op);
  }
  BaspScanner http;
  BOOST_TEST((http.feed(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n.....")) == BaspProblem::bad_operation));
  BOOST_TEST(std::string(name(BaspProblem::bad_operation)) == "bad_operation");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(peer_slots)

BOOST_AUTO_TEST_CASE(per_peer_and_total_limits_hold_and_slots_come_back) {
  auto slots = PeerSlots::make({.total = 3, .per_peer = 2});
  PeerSlots::Refusal why{};
  auto a1 = slots->admit("10.0.0.1");
  auto a2 = slots->admit("10.0.0.1");
  BOOST_TEST(a1.has_value());
  BOOST_TEST(a2.has_value());
  BOOST_TEST(!slots->admit("10.0.0.1", &why).has_value());
  BOOST_TEST((why == PeerSlots::Refusal::too_many_from_peer));
  auto b1 = slots->admit("10.0.0.2");
  BOOST_TEST(b1.has_value());
  BOOST_TEST(!slots->admit("10.0.0.3", &why).has_value());
  BOOST_TEST((why == PeerSlots::Refusal::too_many_connections));
  BOOST_TEST(slots->open() == 3);
  a1.reset();  // the ticket goes: its slot comes back
  BOOST_TEST(slots->open() == 2);
  BOOST_TEST(slots->open_from("10.0.0.1") == 1);
  auto a3 = slots->admit("10.0.0.1");
  BOOST_TEST(a3.has_value());
  // A moved ticket gives its slot back once.
  PeerSlots::Ticket moved = std::move(*a3);
  a3.reset();
  BOOST_TEST(slots->open() == 3);
  { PeerSlots::Ticket gone = std::move(moved); }
  BOOST_TEST(slots->open() == 2);
  b1.reset();
  a2.reset();
  BOOST_TEST(slots->open() == 0);
  BOOST_TEST(slots->open_from("10.0.0.1") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
