// Issue 10 item 4, who belongs, through the hub's actors over CAF remoting:
// revoking a key ends its open subscriptions and upload sessions at once.
#include <boost/test/unit_test.hpp>
#include <chrono>

#include "client/requests.hpp"
#include "messages/events.hpp"
#include "messages/framed.hpp"
#include "test_hub.hpp"

using namespace fedhub;
using namespace fedhub::testing;

BOOST_AUTO_TEST_SUITE(who_belongs)

BOOST_AUTO_TEST_CASE(revoking_a_key_ends_its_subscriptions_and_uploads_at_once) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "m", 0.0f, R"({"merge":"manual","aggregator":{"name":"fedavg"}})", 2);
  const std::string key = hub.add_participant("eve");
  const std::string other = hub.add_participant("bob");
  auto eve = hub.client(key);
  auto eve_upload_client = hub.client(key);
  auto bob = hub.client(other);
  eve->subscribe("m");
  bob->subscribe("m");

  // An upload of eve's is open: its header is in, no data yet.
  const Buffer whole = tiny_contribution("m", 0, 1.0f, 10);
  const auto prefix = read_frame_prefix(whole, "contribution");
  auto open = std::make_unique<UploadStream>(*eve_upload_client, key, prefix.header);
  BOOST_TEST(status(hub.manager(), "m").summary->open_uploads == 1u);

  Buffer holder;
  hub.manager().call_as<fb::Ack>(requests::revoke_key(hub.manager().key(), "eve"), holder);

  // The subscription ends: the next wait is refused, not silent.
  const auto started = std::chrono::steady_clock::now();
  BOOST_TEST((refusal([&] { eve->next_event(std::chrono::seconds(30)); }) == ErrorCode::unauthorized));
  const bool at_once = std::chrono::steady_clock::now() - started < std::chrono::seconds(30);
  BOOST_TEST(at_once, "it ended at once, not at the wait's end");
  // The upload is gone from the model (nothing staged is kept) ...
  BOOST_TEST(status(hub.manager(), "m").summary->open_uploads == 0u);
  // ... and its next part is refused for the key.
  BOOST_TEST((refusal([&] {
                open->write(std::span<const char>(whole).subspan(prefix.data_offset));
                open->commit();
              }) == ErrorCode::unauthorized));
  open.reset();
  // Bob's subscription goes on: his contribution is announced to him.
  bob->upload(tiny_contribution("m", 0, 2.0f, 5));
  bool accepted = false;
  for (int i = 0; i < 10 && !accepted; ++i)
    if (auto e = bob->next_event(std::chrono::seconds(10)))
      accepted = flatbuffers::GetRoot<fb::Event>(e->data())->body_type() == fb::EventBody::ContributionAccepted;
  BOOST_TEST(accepted);
}

BOOST_AUTO_TEST_SUITE_END()
