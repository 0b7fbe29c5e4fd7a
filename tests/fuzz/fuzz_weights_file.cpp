// Weights files from outside (fl-manager create --weights): safetensors,
// NumPy .npz and .npy, and the matching to a small architecture in both
// kernel layouts (formats/).
#include <stdexcept>

#include "formats/npz.hpp"
#include "formats/safetensors.hpp"
#include "formats/weights_file.hpp"
#include "fuzz_support.hpp"
#include "messages/errors.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Buffer b = fuzz::buffer(data, size);
  const std::vector<TensorSpec> layout{{"dense/kernel", {3, 2}}, {"dense/bias", {2}}};
  fuzz::refused_ok<std::runtime_error>([&] { (void)formats::read_safetensors(b); });
  fuzz::refused_ok<std::runtime_error>([&] { (void)formats::read_npz(b); });
  fuzz::refused_ok<std::runtime_error>([&] { (void)formats::read_npy(b, "x"); });
  for (auto kind : {formats::KernelLayout::keras, formats::KernelLayout::torch})
    fuzz::refused_ok<std::runtime_error>([&] { (void)formats::read_weights_file(b, "fuzz", layout, kind); });
  return 0;
}
