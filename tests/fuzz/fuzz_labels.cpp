// Label files (model/labels.hpp; config/*-labels.txt, --data-labels,
// batches.meta.txt): parse_labels, label_key and find_label.
#include <stdexcept>

#include "fuzz_support.hpp"
#include "model/labels.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::text(data, size);
  fuzz::refused_ok<std::invalid_argument>([&] {
    const auto labels = parse_labels(text);
    for (size_t i = 0; i < labels.size(); ++i)
      if (find_label(labels, labels[i]) != static_cast<int>(i)) __builtin_trap();  // keys are unique
  });
  (void)label_key(text);
  return 0;
}
