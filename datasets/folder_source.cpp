// folder:DIR[:CLASSES] — one sub-folder per class holding image files,
// decoded with stb_image on every core.
#include <stb/stb_image.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "datasets/image_convert.hpp"
#include "datasets/label_mapping.hpp"
#include "datasets/parallel.hpp"
#include "datasets/sources.hpp"

namespace fedhub::datasets {
namespace {

namespace fs = std::filesystem;

// The largest image decoded (4096 x 4096): stb_image accepts headers of up
// to 2^24 x 2^24 and allocates what they declare, so a few bytes claiming a
// huge image would take gigabytes (found by tests/fuzz/fuzz_image).
constexpr int64_t kMaxImagePixels = int64_t{1} << 24;

// The file name extensions (lower case) of the formats stb_image decodes.
bool is_image_name(const fs::path& path) {
  static const std::array<std::string, 9> kExtensions{".jpg", ".jpeg", ".png", ".bmp", ".gif",
                                                      ".tga", ".ppm",  ".pgm", ".pnm"};
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

// The entries of `dir`, sorted by name.
std::vector<fs::directory_entry> sorted_entries(const fs::path& dir, const std::string& source) {
  std::error_code ec;
  std::vector<fs::directory_entry> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(*it);
  if (ec) throw std::runtime_error(source + ": cannot list '" + dir.string() + "': " + ec.message());
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path().filename().string() < b.path().filename().string(); });
  return entries;
}

bool is_dir(const fs::directory_entry& e) {
  std::error_code ec;
  return e.is_directory(ec);
}

struct ImageFile {
  std::string path;
  int32_t label;  // model label
};

}  // namespace

Dataset load_folder(const SourceSpec& spec, const DataOptions& options, const std::string& source) {
  const TargetShape target = check_target_shape(options.input_shape);
  std::error_code ec;
  if (!fs::is_directory(spec.path, ec))
    throw std::runtime_error(source + ": '" + spec.path + "' is not a directory (expected one sub-folder per class)");

  int64_t outside = 0, not_images = 0, undecodable = 0;
  std::vector<fs::path> class_dirs;
  SourceClasses classes;
  for (const auto& entry : sorted_entries(spec.path, source)) {
    if (is_dir(entry)) {
      class_dirs.push_back(entry.path());
      classes.names.push_back(entry.path().filename().string());
    } else {
      ++outside;
      warn(options, source + ": skipped '" + entry.path().string() + "': not inside a class sub-folder");
    }
  }
  if (class_dirs.empty())
    throw std::runtime_error(source + ": '" + spec.path +
                             "' has no sub-folders; put the images of each class in a sub-folder named after it");
  classes.count = static_cast<int64_t>(class_dirs.size());
  classes.names_from = "the sub-folders of " + spec.path;
  if (!options.labels_file.empty())
    warn(options,
         source + ": class names are the sub-folder names; the labels file '" + options.labels_file + "' is not used");
  const auto to_model =
      map_classes(classes, select_classes(spec.classes, classes, source), options.model_labels, source);

  std::vector<ImageFile> files;
  for (size_t c = 0; c < class_dirs.size(); ++c) {
    if (to_model[c] < 0) continue;
    const size_t before = files.size();
    for (const auto& entry : sorted_entries(class_dirs[c], source)) {
      if (is_dir(entry)) {
        ++outside;
        warn(options, source + ": skipped '" + entry.path().string() + "': sub-folders of a class folder are not read");
      } else if (!is_image_name(entry.path())) {
        ++not_images;
        warn(options, source + ": skipped '" + entry.path().string() +
                          "': not an image file name (.jpg, .jpeg, .png, .bmp, .gif, .tga, .ppm, .pgm, .pnm)");
      } else {
        files.push_back({entry.path().string(), to_model[c]});
      }
    }
    if (files.size() == before) warn(options, source + ": class folder '" + class_dirs[c].string() + "' has no images");
  }

  const auto total = static_cast<int64_t>(files.size());
  Dataset data;
  data.sample_shape = options.input_shape;
  data.pixels.resize(static_cast<size_t>(total * target.size));
  std::vector<std::string> failure(files.size());  // why a file could not be decoded; empty = decoded
  int64_t reported = 0;
  parallel_chunks(
      total, kProgressChunk, options.threads,
      [&](int64_t i) {
        const auto& file = files[static_cast<size_t>(i)];
        int w = 0, h = 0, c = 0;
        if (stbi_info(file.path.c_str(), &w, &h, &c) && int64_t{w} * h > kMaxImagePixels) {
          failure[static_cast<size_t>(i)] = "the image is " + std::to_string(w) + "x" + std::to_string(h) +
                                            " pixels, more than the " + std::to_string(kMaxImagePixels) + " decoded";
          return;
        }
        std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load(file.path.c_str(), &w, &h, &c, 0), stbi_image_free);
        if (!pixels) {
          const char* why = stbi_failure_reason();
          failure[static_cast<size_t>(i)] = why != nullptr ? why : "unknown error";
          return;
        }
        convert_image(ImageView{pixels.get(), h, w, c}, target, data.pixels.data() + i * target.size, file.path);
      },
      [&](int64_t done) {
        for (; reported < done; ++reported)
          if (const auto& why = failure[static_cast<size_t>(reported)]; !why.empty())
            warn(options, source + ": skipped '" + files[static_cast<size_t>(reported)].path +
                              "': cannot decode it (stb_image: " + why + ")");
        report_progress(options, done, total);
      });

  // Close the gaps the undecodable files left, keeping the order.
  int64_t kept = 0;
  for (int64_t i = 0; i < total; ++i) {
    if (!failure[static_cast<size_t>(i)].empty()) {
      ++undecodable;
      continue;
    }
    if (kept != i)
      std::memmove(data.pixels.data() + kept * target.size, data.pixels.data() + i * target.size,
                   static_cast<size_t>(target.size));
    data.labels.push_back(files[static_cast<size_t>(i)].label);
    ++kept;
  }
  data.pixels.resize(static_cast<size_t>(kept * target.size));
  data.pixels.shrink_to_fit();

  if (const int64_t skipped = outside + not_images + undecodable; skipped > 0)
    warn(options, source + ": loaded " + std::to_string(kept) + " images, skipped " + std::to_string(skipped) +
                      " entries: " + std::to_string(undecodable) + " files could not be decoded, " +
                      std::to_string(not_images) + " files are not images, " + std::to_string(outside) +
                      " files or folders are outside the class sub-folders or nested in them");
  return data;
}

}  // namespace fedhub::datasets
