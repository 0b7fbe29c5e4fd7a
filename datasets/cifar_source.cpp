// cifar:PATH[:CLASSES] — the CIFAR-10 binary version: records of 1 label byte
// and 3072 pixel bytes (the 32x32 red plane, then green, then blue).
#include <algorithm>
#include <array>
#include <filesystem>
#include <stdexcept>

#include "datasets/file_bytes.hpp"
#include "datasets/image_convert.hpp"
#include "datasets/label_mapping.hpp"
#include "datasets/parallel.hpp"
#include "datasets/sources.hpp"
#include "model/labels.hpp"

namespace fedhub::datasets {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSide = 32;
constexpr int64_t kPlane = kSide * kSide;
constexpr int64_t kRecord = 1 + 3 * kPlane;  // 3073
constexpr int64_t kCifar10Classes = 10;

// The number N of a "data_batch_N.bin" file name, or -1.
int64_t batch_number(const std::string& name) {
  const std::string head = "data_batch_", tail = ".bin";
  if (name.size() <= head.size() + tail.size() || name.compare(0, head.size(), head) != 0 ||
      name.compare(name.size() - tail.size(), tail.size(), tail) != 0)
    return -1;
  const std::string digits = name.substr(head.size(), name.size() - head.size() - tail.size());
  if (digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoll(digits);
}

// The batch files PATH stands for, and the directory holding batches.meta.txt.
std::vector<std::string> batch_files(const std::string& path, const std::string& source, fs::path& meta_dir) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    meta_dir = fs::path(path).parent_path();
    return {path};
  }
  if (!fs::is_directory(path, ec))
    throw std::runtime_error(source + ": '" + path +
                             "' is neither a CIFAR-10 batch file nor a directory holding data_batch_*.bin");
  meta_dir = path;
  std::vector<std::pair<int64_t, std::string>> found;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    const int64_t number = batch_number(entry.path().filename().string());
    if (number >= 0 && entry.is_regular_file()) found.emplace_back(number, entry.path().string());
  }
  if (ec) throw std::runtime_error(source + ": cannot list '" + path + "': " + ec.message());
  if (found.empty())
    throw std::runtime_error(source + ": '" + path +
                             "' holds no data_batch_*.bin files (the training set of the CIFAR-10 binary version, "
                             "cifar-10-batches-bin); for the test set name the file: cifar:" +
                             (fs::path(path) / "test_batch.bin").string());
  std::sort(found.begin(), found.end());
  std::vector<std::string> files;
  for (auto& [number, file] : found) files.push_back(std::move(file));
  return files;
}

std::string not_cifar(const std::string& file, int64_t size) {
  return "'" + file + "' is " + std::to_string(size) + " bytes, not a whole number of " + std::to_string(kRecord) +
         "-byte CIFAR-10 records (1 label byte + 3072 pixel bytes); it is truncated or not the CIFAR-10 binary "
         "version (CIFAR-100 records have 2 label bytes and are not supported)";
}

}  // namespace

Dataset load_cifar(const SourceSpec& spec, const DataOptions& options, const std::string& source) {
  const TargetShape target = check_target_shape(options.input_shape);
  fs::path meta_dir;
  const auto files = batch_files(spec.path, source, meta_dir);

  int64_t records = 0;
  for (const auto& file : files) {
    std::error_code ec;
    const auto size = static_cast<int64_t>(fs::file_size(file, ec));
    if (ec) throw std::runtime_error(source + ": cannot read '" + file + "': " + ec.message());
    if (size == 0 || size % kRecord != 0) throw std::runtime_error(source + ": " + not_cifar(file, size));
    records += size / kRecord;
  }

  SourceClasses classes;
  const fs::path meta = meta_dir / "batches.meta.txt";
  std::error_code ec;
  if (fs::exists(meta, ec)) {
    classes.names = read_labels_file(meta.string());
    classes.names_from = meta.string();
    if (!options.labels_file.empty())
      warn(options, source + ": class names come from '" + meta.string() + "'; the labels file '" +
                        options.labels_file + "' is not used");
  } else {
    classes.names = index_source_names(options);
    classes.names_from = options.labels_file;
  }
  classes.count = classes.names.empty() ? kCifar10Classes : static_cast<int64_t>(classes.names.size());
  const auto to_model =
      map_classes(classes, select_classes(spec.classes, classes, source), options.model_labels, source);

  Dataset data;
  data.sample_shape = options.input_shape;
  data.pixels.reserve(static_cast<size_t>(records * target.size));
  int64_t done = 0;
  for (const auto& file : files) {
    const auto bytes = read_file_bytes(file);
    const auto size = static_cast<int64_t>(bytes.size());
    if (size == 0 || size % kRecord != 0) throw std::runtime_error(source + ": " + not_cifar(file, size));
    std::vector<int64_t> selected;
    for (int64_t r = 0; r < size / kRecord; ++r) {
      const uint8_t label = bytes[static_cast<size_t>(r * kRecord)];
      if (label >= classes.count)
        throw std::runtime_error(source + ": record " + std::to_string(r) + " of '" + file + "' has label " +
                                 std::to_string(label) + " but there are only " + std::to_string(classes.count) +
                                 " classes" +
                                 (classes.names_from.empty() ? "" : " (names from " + classes.names_from + ")"));
      if (to_model[label] >= 0) {
        selected.push_back(r);
        data.labels.push_back(to_model[label]);
      }
    }
    const auto base = static_cast<int64_t>(data.pixels.size());
    data.pixels.resize(static_cast<size_t>(base + static_cast<int64_t>(selected.size()) * target.size));
    const int64_t before = done;
    parallel_chunks(
        static_cast<int64_t>(selected.size()), kProgressChunk, options.threads,
        [&](int64_t j) {
          const uint8_t* record = bytes.data() + selected[static_cast<size_t>(j)] * kRecord + 1;
          std::array<uint8_t, 3 * kPlane> hwc;
          for (int64_t p = 0; p < kPlane; ++p)
            for (int64_t k = 0; k < 3; ++k) hwc[static_cast<size_t>(p * 3 + k)] = record[k * kPlane + p];
          convert_image(ImageView{hwc.data(), kSide, kSide, 3}, target, data.pixels.data() + base + j * target.size,
                        "record " + std::to_string(selected[static_cast<size_t>(j)]) + " of '" + file + "'");
        },
        [&](int64_t chunk_done) {
          // Progress counts records read, kept or not.
          const int64_t read = chunk_done == static_cast<int64_t>(selected.size())
                                   ? size / kRecord
                                   : chunk_done * (size / kRecord) / std::max<int64_t>(1, selected.size());
          report_progress(options, before + read, records);
        });
    done += size / kRecord;
    if (selected.empty()) report_progress(options, done, records);
  }
  data.pixels.shrink_to_fit();
  return data;
}

}  // namespace fedhub::datasets
