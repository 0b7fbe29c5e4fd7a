// Keras's HDF5 weights files from outside (fl-manager create --weights
// FILE.h5 | FILE.weights.h5): keras_h5_layout and read_keras_h5 against a
// small conv + dense architecture (formats/keras_h5). libhdf5's own parser
// of the file's structure is part of what runs here: a crash inside it is a
// defect of Debian's libhdf5 1.10, reported as any other.
#include <stdexcept>

#include "formats/keras_h5.hpp"
#include "fuzz_support.hpp"

using namespace fedhub;

#ifndef LLVMFuzzerTestOneInput  // the libFuzzer program alone, not fuzz_replay
// libhdf5 asks malloc for sizes it read from the file and turns a NULL into
// its "memory allocation failed" error, which is what a release build does;
// and it leaks on some failed opens of damaged files. Neither is a defect of
// ours: malloc may return NULL here, and leaks inside libhdf5 are not
// reported (our own handles are checked by keras_h5_test).
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
extern "C" const char* __lsan_default_suppressions() { return "leak:libhdf5_serial.so\n"; }
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Buffer b = fuzz::buffer(data, size);
  const std::vector<TensorSpec> layout{
      {"conv2d/kernel", {3, 3, 1, 2}}, {"conv2d/bias", {2}}, {"dense/kernel", {8, 3}}, {"dense/bias", {3}}};
  fuzz::refused_ok<std::runtime_error>([&] { (void)formats::keras_h5_layout(b); });
  fuzz::refused_ok<std::runtime_error>([&] {
    // In this process, for libFuzzer to see libhdf5's coverage and crashes
    // (fl-manager reads in a separate, restricted process).
    const auto w = formats::read_keras_h5(b, layout, {.separate_process = false});
    if (w.size() != layout.size()) throw std::logic_error("read_keras_h5 returned another number of tensors");
    for (size_t i = 0; i < w.size(); ++i)
      if (w[i].name != layout[i].name || w[i].shape != layout[i].shape ||
          w[i].values.size() != static_cast<size_t>(element_count(w[i].shape)))
        throw std::logic_error("read_keras_h5 returned a tensor that is not the architecture's");
  });
  return 0;
}
