// fl-sim's scenario files (sim/scenario.hpp): parse_scenario on the JSON
// text, every field checked (std::invalid_argument naming it), with files it
// may name (an architecture, labels, a recipe, a labels file) in a scratch
// folder: arch.json, labels.txt, recipe.json. Nothing is run.
#include <filesystem>
#include <stdexcept>

#include "fuzz_support.hpp"
#include "sim/scenario.hpp"

using namespace fedhub;

namespace {

const std::string& folder() {
  static const std::string dir = [] {
    const std::string d = fuzz::scratch_dir() + "/scenario";
    std::filesystem::create_directories(d);
    fuzz::write_file(d + "/arch.json", R"({"input":[2],"layers":[{"type":"dense","units":3}]})");
    fuzz::write_file(d + "/labels.txt", "cat\ndog\nbird\n");
    fuzz::write_file(d + "/recipe.json", R"({"optimizer":{"name":"sgd","learning_rate":0.1},"batch_size":4})");
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::text(data, size);
  fuzz::refused_ok<std::invalid_argument, std::runtime_error>(
      [&] { (void)sim::parse_scenario(text, folder(), "fuzzed scenario"); });
  return 0;
}
