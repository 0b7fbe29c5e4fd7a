#include "datasets/probe.hpp"

#include <stb/stb_image.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "datasets/file_bytes.hpp"
#include "datasets/source_spec.hpp"
#include "model/labels.hpp"

namespace fedhub::datasets {
namespace {

namespace fs = std::filesystem;

// The class names of Fashion-MNIST (Zalando's README, label index order);
// the IDX files carry only indices.
const std::vector<std::string> kFashionMnist{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                             "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

std::string existing(const std::string& plain, const std::string& source) {
  std::error_code ec;
  if (fs::exists(plain, ec)) return plain;
  if (fs::exists(plain + ".gz", ec)) return plain + ".gz";
  throw std::runtime_error(source + ": neither '" + plain + "' nor '" + plain + ".gz' exists");
}

// The first `n` bytes of a file, gzip-compressed or not.
std::vector<uint8_t> head_bytes(const std::string& path, size_t n) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  if (!f) throw std::runtime_error("cannot open '" + path + "'");
  std::vector<uint8_t> out(n);
  const int got = gzread(f.get(), out.data(), static_cast<unsigned>(n));
  if (got != static_cast<int>(n)) throw std::runtime_error("'" + path + "' is too short for an IDX header");
  return out;
}

uint32_t be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

std::vector<std::string> index_names(int64_t n) {
  std::vector<std::string> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(std::to_string(i));
  return out;
}

bool names_fashion_mnist(std::string path) {
  std::transform(path.begin(), path.end(), path.begin(), [](unsigned char c) { return std::tolower(c); });
  return path.find("fashion-mnist") != std::string::npos || path.find("fashion_mnist") != std::string::npos;
}

SourceInfo probe_idx(const SourceSpec& spec, const std::string& labels_file, const std::string& source) {
  SourceInfo info;
  const auto images = existing(spec.path + "-images-idx3-ubyte", source);
  const auto h = head_bytes(images, 16);
  if (be32(h.data()) != 0x803) throw std::runtime_error("IDX images file '" + images + "' has a wrong magic number");
  info.shape = {static_cast<int64_t>(be32(h.data() + 8)), static_cast<int64_t>(be32(h.data() + 12)), 1};
  if (!labels_file.empty()) {
    info.labels = read_labels_file(labels_file);
    info.labels_from = labels_file;
  } else if (names_fashion_mnist(spec.path)) {
    info.labels = kFashionMnist;
    info.labels_from = "Fashion-MNIST's class names";
  } else {
    const auto labels = read_file_bytes(existing(spec.path + "-labels-idx1-ubyte", source));
    int64_t n = 0;
    for (size_t i = 8; i < labels.size(); ++i) n = std::max<int64_t>(n, labels[i] + 1);
    info.labels = index_names(n);
    info.labels_from = "class indices (name them with --data-labels FILE)";
  }
  return info;
}

SourceInfo probe_cifar(const SourceSpec& spec, const std::string& labels_file) {
  SourceInfo info;
  info.shape = {32, 32, 3};
  std::error_code ec;
  const fs::path dir = fs::is_regular_file(spec.path, ec) ? fs::path(spec.path).parent_path() : fs::path(spec.path);
  const auto meta = dir / "batches.meta.txt";
  if (fs::exists(meta, ec)) {
    info.labels = read_labels_file(meta.string());
    info.labels_from = meta.string();
  } else if (!labels_file.empty()) {
    info.labels = read_labels_file(labels_file);
    info.labels_from = labels_file;
  } else {
    info.labels = index_names(10);
    info.labels_from = "class indices (name them with --data-labels FILE)";
  }
  return info;
}

SourceInfo probe_folder(const SourceSpec& spec, const std::string& source) {
  SourceInfo info;
  std::error_code ec;
  if (!fs::is_directory(spec.path, ec))
    throw std::runtime_error(source + ": '" + spec.path + "' is not a directory (expected one sub-folder per class)");
  std::vector<fs::path> classes;
  for (fs::directory_iterator it(spec.path, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) classes.push_back(it->path());
  std::sort(classes.begin(), classes.end(),
            [](const auto& a, const auto& b) { return a.filename().string() < b.filename().string(); });
  for (const auto& c : classes) info.labels.push_back(c.filename().string());
  info.labels_from = "the sub-folder names";
  for (const auto& c : classes) {
    std::vector<fs::path> files;
    for (fs::directory_iterator it(c, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec)) files.push_back(it->path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      int w = 0, h = 0, channels = 0;
      if (stbi_info(f.c_str(), &w, &h, &channels)) {
        info.shape = {h, w, channels <= 2 ? 1 : 3};
        return info;
      }
    }
  }
  throw std::runtime_error(source + ": no image found in the sub-folders of '" + spec.path + "'");
}

}  // namespace

SourceInfo probe_source(const std::string& source, const std::string& labels_file) {
  const auto spec = parse_source_spec(source);
  if (spec.kind == "idx") return probe_idx(spec, labels_file, source);
  if (spec.kind == "cifar") return probe_cifar(spec, labels_file);
  return probe_folder(spec, source);
}

}  // namespace fedhub::datasets
