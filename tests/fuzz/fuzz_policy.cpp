// Merge policy JSON (hub/merge_policy.hpp), what `fl-manager policy`, the
// HTTP door's PATCH .../policy and ImportBegin carry: MergePolicy::from_json,
// patched() over it, the canonical round trip, and AggregatorConfig's own
// parser. Input: a policy, optionally followed by a NUL byte and a patch.
#include <stdexcept>

#include "federation/aggregator.hpp"
#include "fuzz_support.hpp"
#include "hub/merge_policy.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string all = fuzz::text(data, size);
  const size_t nul = all.find('\0');
  const std::string policy = all.substr(0, nul);
  const std::string patch = nul == std::string::npos ? std::string() : all.substr(nul + 1);
  fuzz::refused_ok<std::invalid_argument>([&] {
    const MergePolicy p = MergePolicy::from_json(policy);
    (void)p.versions_to_keep();
    (void)p.oldest_accepted_base(1000);
    const std::string canonical = p.to_json();
    if (MergePolicy::from_json(canonical).to_json() != canonical) __builtin_trap();
    if (!patch.empty()) (void)p.patched(patch).to_json();
  });
  fuzz::refused_ok<std::invalid_argument>([&] { (void)federation::AggregatorConfig::from_json(policy).resolved(); });
  return 0;
}
