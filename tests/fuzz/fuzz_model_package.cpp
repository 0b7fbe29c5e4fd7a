// Model packages ("FHFB" frame, "FHMP" header) as participants download them
// and fl-participant/fl-manager read them from files: read_package_header
// from the first bytes, view_model_package with the hash, and
// read_model_package (the spec documents, tensors against the architecture,
// finite values, the weights copied out).
#include <algorithm>

#include "fuzz_support.hpp"
#include "messages/errors.hpp"
#include "messages/framed.hpp"
#include "messages/model_package.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Buffer b = fuzz::buffer(data, size);
  fuzz::refused_ok<RequestError>([&] {
    const PackageHeader header = read_package_header(b);
    (void)version_meta(*header.root->version());
  });
  fuzz::refused_ok<RequestError>([&] { (void)view_model_package(b, true); });
  fuzz::refused_ok<RequestError>([&] {
    const LoadedModel m = read_model_package(b);
    (void)m.spec.architecture.to_json();
  });
  return 0;
}
