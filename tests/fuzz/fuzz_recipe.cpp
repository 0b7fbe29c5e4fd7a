// Recipe JSON (model/recipe.hpp): parse_recipe and the canonical round trip.
#include <stdexcept>

#include "fuzz_support.hpp"
#include "model/recipe.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json = fuzz::text(data, size);
  fuzz::refused_ok<std::invalid_argument>([&] {
    const std::string canonical = parse_recipe(json).to_json();
    if (parse_recipe(canonical).to_json() != canonical) __builtin_trap();
  });
  return 0;
}
