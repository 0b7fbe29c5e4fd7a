// Request envelopes ("FHRQ") as the hub receives them from the CAF door:
// requests::verify (the envelope, every body, UploadBegin's nested
// contribution header, UploadPart's hash), then what the hub reads of a
// verified request (its model, every field through the object API).
#include <memory>

#include "fuzz_support.hpp"
#include "messages/errors.hpp"
#include "messages/requests.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Buffer b = fuzz::buffer(data, size);
  fuzz::refused_ok<RequestError>([&] {
    const fb::RequestEnvelope* env = requests::verify(b);
    (void)requests::model_of(*env);
    (void)fb::EnumNameRequest(env->request_type());
    std::unique_ptr<fb::RequestEnvelopeT> all(env->UnPack());  // reads every field of a verified buffer
  });
  return 0;
}
