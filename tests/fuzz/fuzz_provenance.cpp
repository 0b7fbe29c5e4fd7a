// The records of docs/crowd.md as the hub reads them back from its store and
// a manager reads them from history and status answers: Provenance
// ("FHPV") and VersionScores ("FHSC"), verified and unpacked.
#include "fuzz_support.hpp"
#include "messages/errors.hpp"
#include "messages/provenance.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Buffer b = fuzz::buffer(data, size);
  fuzz::refused_ok<RequestError>([&] {
    const auto p = read_provenance(b);
    for (const auto& m : p.members) (void)m->participant.size();
  });
  fuzz::refused_ok<RequestError>([&] {
    const auto s = read_scores(b);
    double sum = 0;
    for (double v : s.per_class_accuracy) sum += v;
    (void)sum;
  });
  return 0;
}
