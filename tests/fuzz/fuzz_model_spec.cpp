// A model's spec as CreateModel and ImportBegin carry it (name,
// architecture, labels, recipe): check_model_name and make_model_spec, which
// parse the three documents and check that they fit together.
// Input: the four fields separated by NUL bytes.
#include <stdexcept>
#include <vector>

#include "fuzz_support.hpp"
#include "model/model_spec.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> f(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0 && f.size() < 4)
      f.emplace_back();
    else
      f.back() += static_cast<char>(data[i]);
  }
  f.resize(4);
  (void)check_model_name(f[0]);
  std::vector<std::string> labels;
  for (size_t at = 0; at <= f[2].size();) {
    const size_t nl = std::min(f[2].find('\n', at), f[2].size());
    labels.push_back(f[2].substr(at, nl - at));
    at = nl + 1;
  }
  fuzz::refused_ok<std::invalid_argument>([&] { (void)make_model_spec(f[0], f[1], labels, f[3]); });
  return 0;
}
