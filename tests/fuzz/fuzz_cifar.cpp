// CIFAR-10 binary batches (cifar:FILE sources): a batch file and optionally
// a batches.meta.txt beside it, written to a scratch directory and loaded
// with load_dataset and probe_source.
//
// Input: u8 flags (bit 0: write batches.meta.txt, bit 1: keep classes
// "cat,dog" only), u8 input shape, u16 length of the meta file, the meta
// file, the batch file (3073-byte records: label, 3072 pixel bytes).
#include <cstdio>
#include <stdexcept>

#include "datasets/dataset.hpp"
#include "datasets/probe.hpp"
#include "datasets_fuzz.hpp"
#include "fuzz_support.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  const uint8_t flags = in.u8();
  const auto shape = fuzz::input_shape(in.u8());
  const std::string meta = in.bytes(in.u16());
  const std::string batch = in.rest();

  const std::string dir = fuzz::scratch_dir();
  fuzz::write_file(dir + "/test_batch.bin", batch);
  if (flags & 1)
    fuzz::write_file(dir + "/batches.meta.txt", meta);
  else
    std::remove((dir + "/batches.meta.txt").c_str());

  const std::string source = "cifar:" + dir + "/test_batch.bin" + ((flags & 2) ? ":cat,dog" : "");
  fuzz::refused_ok<std::runtime_error>([&] {
    const auto d = datasets::load_dataset(source, fuzz::load_options(shape, fuzz::kCifarLabels));
    if (d.pixels.size() != static_cast<size_t>(d.size() * d.sample_size())) __builtin_trap();
  });
  fuzz::refused_ok<std::runtime_error>([&] { (void)datasets::probe_source(source); });
  return 0;
}
