// fedhub-py-reference: what the Python client's tests compare against, computed
// with the project's own C++ libraries (test-only, tests/python/).
//
//   fedhub-py-reference hash FILE N
//       prints the XXH3-64 data_hash (messages/checksum.hpp) of every prefix of
//       FILE of 0..N bytes, then of the whole file, one hex value per line.
//   fedhub-py-reference logits PACKAGE SOURCE LABELS_FILE|- OUT
//       loads a model package (read_model_package) and a data source for it
//       (datasets::load_dataset, as fl-participant does), runs the C++ forward
//       pass in inference mode and writes OUT: u64 n, u64 values per sample,
//       u64 classes (little-endian), then the n samples' bytes, their n int32
//       labels and the n x classes float32 logits.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"
#include "messages/checksum.hpp"
#include "messages/files.hpp"
#include "messages/model_package.hpp"
#include "training/flat_weights.hpp"
#include "training/parallel_network.hpp"

namespace {

int hash_prefixes(const std::string& path, uint64_t n) {
  const fedhub::Buffer bytes = fedhub::read_file(path);
  const std::span<const char> all(bytes.data(), bytes.size());
  for (uint64_t len = 0; len <= n && len <= all.size(); ++len)
    std::printf("%016llx\n", static_cast<unsigned long long>(fedhub::data_hash(all.first(len))));
  std::printf("%016llx\n", static_cast<unsigned long long>(fedhub::data_hash(all)));
  return 0;
}

void put_u64(std::ofstream& out, uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
  out.write(reinterpret_cast<const char*>(b), 8);
}

int logits(const std::string& package, const std::string& source, const std::string& labels_file,
           const std::string& out_path) {
  const fedhub::Buffer raw = fedhub::read_file(package);
  const auto m = fedhub::read_model_package(std::span<const char>(raw.data(), raw.size()));
  fedhub::datasets::DataOptions opts;
  opts.input_shape = m.spec.architecture.input;
  opts.model_labels = m.spec.labels;
  if (labels_file != "-") opts.labels_file = labels_file;
  const auto data = fedhub::datasets::load_dataset(source, opts);
  const auto params = fedhub::training::flatten_weights(m.spec.architecture, m.weights);
  fedhub::training::ParallelNetwork net(m.spec.architecture, 1, 0);
  const auto classes = net.classes();
  std::vector<float> out(static_cast<size_t>(data.size() * classes));
  net.predict(params, data, 0, data.size(), out.data());
  std::ofstream f(out_path, std::ios::binary);
  put_u64(f, static_cast<uint64_t>(data.size()));
  put_u64(f, static_cast<uint64_t>(data.sample_size()));
  put_u64(f, static_cast<uint64_t>(classes));
  f.write(reinterpret_cast<const char*>(data.pixels.data()), static_cast<std::streamsize>(data.pixels.size()));
  f.write(reinterpret_cast<const char*>(data.labels.data()), static_cast<std::streamsize>(data.labels.size() * 4));
  f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size() * 4));
  if (!f) throw std::runtime_error("cannot write " + out_path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 3 && a[0] == "hash") return hash_prefixes(a[1], std::stoull(a[2]));
    if (a.size() == 5 && a[0] == "logits") return logits(a[1], a[2], a[3], a[4]);
    std::cerr << "usage: fedhub-py-reference hash FILE N | logits PACKAGE SOURCE LABELS_FILE|- OUT\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "fedhub-py-reference: " << e.what() << "\n";
    return 1;
  }
}
