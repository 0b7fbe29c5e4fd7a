// Image files in folder sources (folder:DIR, one sub-folder per class):
// one file written as DIR/cat/image.<ext> and loaded with load_dataset
// (stb_image decoding, conversion to the model's input, undecodable files
// reported and skipped) and probe_source (stbi_info on the header).
//
// Input: u8 extension (png, jpg, bmp, gif, tga, ppm, pgm), u8 input shape,
// the file.
#include <filesystem>
#include <stdexcept>

#include "datasets/dataset.hpp"
#include "datasets/probe.hpp"
#include "datasets_fuzz.hpp"
#include "fuzz_support.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kExtensions[] = {"png", "jpg", "bmp", "gif", "tga", "ppm", "pgm"};
  fuzz::Reader in(data, size);
  const char* ext = kExtensions[in.u8() % 7];
  const auto shape = fuzz::input_shape(in.u8());
  const std::string file = in.rest();

  const std::string dir = fuzz::scratch_dir() + "/images";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir + "/cat");
  fuzz::write_file(dir + "/cat/image." + std::string(ext), file);

  fuzz::refused_ok<std::runtime_error>([&] {
    const auto d = datasets::load_dataset("folder:" + dir, fuzz::load_options(shape, {"dog", "cat"}));
    if (d.pixels.size() != static_cast<size_t>(d.size() * d.sample_size())) __builtin_trap();
  });
  fuzz::refused_ok<std::runtime_error>([&] { (void)datasets::probe_source("folder:" + dir); });
  return 0;
}
