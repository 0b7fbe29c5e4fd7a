// Architecture JSON (model/architecture.hpp), what a manager uploads and
// every package carries: parse_architecture, its layout and outputs, and the
// canonical JSON round trip (to_json parses back to the same canonical JSON).
#include <stdexcept>

#include "fuzz_support.hpp"
#include "model/architecture.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json = fuzz::text(data, size);
  fuzz::refused_ok<std::invalid_argument>([&] {
    const Architecture a = parse_architecture(json);
    (void)a.parameters();
    (void)a.output_size();
    const std::string canonical = a.to_json();
    if (parse_architecture(canonical).to_json() != canonical) __builtin_trap();  // the canonical form is stable
  });
  return 0;
}
