// IDX files (datasets/, idx:PREFIX sources; MNIST's format, plain or gzip):
// a labels file and an images file written to a scratch directory and loaded
// with load_dataset (header, sizes, labels against the model's, conversion
// to the model's input) and probe_source (fedhub-data-info).
//
// Input: u8 flags (bit 0: gzip the images file, bit 1: a labels file of
// Fashion-MNIST's names, bit 2: keep classes 0,2 only), u8 input shape, u16
// length of the labels file, the labels file, the images file.
#include <zlib.h>

#include <stdexcept>

#include "datasets/dataset.hpp"
#include "datasets/probe.hpp"
#include "datasets_fuzz.hpp"
#include "fuzz_support.hpp"

using namespace fedhub;

namespace {

void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (f == nullptr) throw std::logic_error("cannot write " + path);
  if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  const uint8_t flags = in.u8();
  const auto shape = fuzz::input_shape(in.u8());
  const std::string labels = in.bytes(in.u16());
  const std::string images = in.rest();

  const std::string dir = fuzz::scratch_dir();
  const std::string prefix = dir + "/idx";
  std::remove((prefix + "-images-idx3-ubyte").c_str());
  std::remove((prefix + "-images-idx3-ubyte.gz").c_str());
  fuzz::write_file(prefix + "-labels-idx1-ubyte", labels);
  if (flags & 1)
    write_gzip(prefix + "-images-idx3-ubyte.gz", images);
  else
    fuzz::write_file(prefix + "-images-idx3-ubyte", images);
  std::string names_file;
  if (flags & 2) {
    names_file = dir + "/idx-names.txt";
    std::string text;
    for (const auto& l : fuzz::kFashionLabels) text += l + "\n";
    fuzz::write_file(names_file, text);
  }

  const std::string source = "idx:" + prefix + ((flags & 4) ? ":0,2" : "");
  fuzz::refused_ok<std::runtime_error>([&] {
    auto o = fuzz::load_options(shape, fuzz::kFashionLabels);
    o.labels_file = names_file;
    const auto d = datasets::load_dataset(source, o);
    if (d.pixels.size() != static_cast<size_t>(d.size() * d.sample_size())) __builtin_trap();
    for (auto l : d.labels)
      if (l < 0 || l >= 10) __builtin_trap();
  });
  fuzz::refused_ok<std::runtime_error>([&] { (void)datasets::probe_source(source, names_file); });
  return 0;
}
