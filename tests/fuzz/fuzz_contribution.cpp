// Contributions: a bare contribution header ("FHCT", what UploadBegin and
// the HTTP door's upload carry) through verify_contribution_header and the
// metrics checks, and a whole contribution file (framed, what
// `fl-participant train` writes and `evaluate` reads) through
// read_contribution with its data hash.
#include <memory>

#include "fuzz_support.hpp"
#include "messages/contribution.hpp"
#include "messages/errors.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Buffer b = fuzz::buffer(data, size);
  fuzz::refused_ok<RequestError>([&] {
    const fb::Contribution* header = verify_contribution_header(b);
    const auto metrics = read_metrics(header->metrics());
    (void)check_metrics(metrics);
    std::unique_ptr<fb::ContributionT> all(header->UnPack());
  });
  fuzz::refused_ok<RequestError>([&] {
    const ContributionView view = read_contribution(b, true);
    (void)check_metrics(read_metrics(view.header->metrics()));
    volatile char sink = 0;
    for (char c : view.data) sink = static_cast<char>(sink ^ c);  // the data section is inside the buffer
  });
  return 0;
}
