// Response envelopes ("FHRS") and events ("FHEV") as a client receives them
// from a hub: responses::verify and events::verify, responses::expect for a
// few body types (an Error body is thrown as its RequestError), and every
// field of a verified buffer through the object API.
#include <memory>

#include "fuzz_support.hpp"
#include "messages/errors.hpp"
#include "messages/events.hpp"
#include "messages/responses.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Buffer b = fuzz::buffer(data, size);
  fuzz::refused_ok<RequestError>([&] {
    const fb::ResponseEnvelope* env = responses::verify(b);
    std::unique_ptr<fb::ResponseEnvelopeT> all(env->UnPack());
    fuzz::refused_ok<RequestError>([&] { (void)responses::expect<fb::DownloadChunk>(*env); });
    fuzz::refused_ok<RequestError>([&] { (void)responses::expect<fb::ModelStatus>(*env); });
    fuzz::refused_ok<RequestError>([&] { (void)responses::expect<fb::Ack>(*env)->message(); });
  });
  fuzz::refused_ok<RequestError>([&] {
    const fb::Event* event = events::verify(b);
    std::unique_ptr<fb::EventT> all(event->UnPack());
  });
  return 0;
}
