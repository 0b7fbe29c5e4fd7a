#include "bench/transfer/bench_models.hpp"

#include <cstring>
#include <stdexcept>

#include "client/requests.hpp"
#include "messages/checksum.hpp"
#include "messages/contribution.hpp"
#include "messages/framed.hpp"

namespace fedhub::bench {

std::vector<TensorSpec> dense_layout(uint64_t parameters) {
  if (parameters < 4 || parameters % 2 != 0)
    throw std::invalid_argument("a model's parameter count must be even and at least 4, not " +
                                std::to_string(parameters));
  const auto inputs = static_cast<int64_t>(parameters / 2 - 1);
  return {{"dense/kernel", {inputs, 2}}, {"dense/bias", {2}}};
}

void create_dense_model(HubClient& manager, const std::string& name, uint64_t parameters,
                        const std::string& policy_json) {
  const auto layout = dense_layout(parameters);
  fb::ModelSpecT spec;
  spec.name = name;
  spec.architecture_json =
      R"({"input":[)" + std::to_string(layout[0].shape[0]) + R"(],"layers":[{"type":"dense","units":2}]})";
  spec.labels = {"a", "b"};
  spec.recipe_json = "{}";
  Buffer holder;
  manager.call_as<fb::CreateReceipt>(requests::create_model(manager.key(), spec, {}, 1, policy_json), holder);
}

Buffer random_contribution(const std::string& model, uint64_t base, uint64_t parameters, uint64_t seed,
                           uint64_t samples) {
  const auto layout = dense_layout(parameters);
  ContributionMeta meta;
  meta.model = model;
  meta.base_version = base;
  meta.num_samples = samples;
  // The header's size does not depend on the hash's value (a non-zero
  // ulong): size the file with a placeholder, write the data in place, then
  // the real header.
  const Buffer placeholder = contribution_header(meta, layout, 1);
  const uint64_t offset = frame_data_offset(static_cast<uint32_t>(placeholder.size()));
  Buffer file(offset + parameters * sizeof(float));
  float* values = reinterpret_cast<float*>(file.data() + offset);
  uint64_t z = seed * 0x9E3779B97F4A7C15ull;
  for (uint64_t i = 0; i < parameters; ++i) {
    uint64_t x = z + i * 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    values[i] = static_cast<float>(x >> 40) * (1.0f / 16777216.0f) - 0.5f;
  }
  const uint64_t hash = data_hash({file.data() + offset, parameters * sizeof(float)});
  if (hash == 0) throw std::logic_error("a data hash of 0 (the header would omit it): use another seed");
  const Buffer prefix = frame_prefix(contribution_header(meta, layout, hash));
  if (prefix.size() != offset) throw std::logic_error("the contribution header changed size with its hash");
  std::memcpy(file.data(), prefix.data(), prefix.size());
  read_contribution(file, true);  // throws if anything above is wrong
  return file;
}

uint64_t parse_count(const std::string& text) {
  if (text.empty()) throw std::invalid_argument("an empty count");
  uint64_t scale = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'k':
    case 'K':
      scale = 1000;
      break;
    case 'm':
    case 'M':
      scale = 1000000;
      break;
    case 'g':
    case 'G':
      scale = 1000000000;
      break;
    default:
      break;
  }
  if (scale != 1) digits.pop_back();
  size_t used = 0;
  uint64_t n = 0;
  try {
    n = std::stoull(digits, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != digits.size() || digits.empty() || digits[0] == '-')
    throw std::invalid_argument("'" + text + "' is not a count (e.g. 250M, 10k, 4096)");
  return n * scale;
}

std::string count_name(uint64_t n) {
  if (n >= 1000000 && n % 1000000 == 0) return std::to_string(n / 1000000) + "M";
  if (n >= 1000 && n % 1000 == 0) return std::to_string(n / 1000) + "k";
  return std::to_string(n);
}

}  // namespace fedhub::bench
