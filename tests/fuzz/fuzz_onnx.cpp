// ONNX models from outside (fl-manager create --onnx): read_onnx on any
// bytes. A model it accepts must be a valid architecture with weights of
// exactly its layout, and must survive the export: write_onnx of the result
// reads back to the same architecture and bit-identical weights.
#include <cstring>
#include <stdexcept>

#include "formats/onnx_export.hpp"
#include "formats/onnx_import.hpp"
#include "fuzz_support.hpp"
#include "model/architecture.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Buffer b = fuzz::buffer(data, size);
  formats::OnnxImport in;
  try {
    in = formats::read_onnx(b, "fuzz.onnx");
  } catch (const std::runtime_error&) {
    return 0;  // refused, naming what is wrong
  }
  const Architecture arch = parse_architecture(in.architecture_json);
  if (!check_weights(in.weights, arch.parameters()).empty()) __builtin_trap();
  const auto back = formats::read_onnx(formats::write_onnx(arch, in.weights, {"fuzz", 0, {}}), "export.onnx");
  if (back.architecture_json != in.architecture_json || back.weights.size() != in.weights.size()) __builtin_trap();
  for (size_t i = 0; i < in.weights.size(); ++i)
    if (back.weights[i].shape != in.weights[i].shape ||
        std::memcmp(back.weights[i].values.data(), in.weights[i].values.data(), in.weights[i].values.size() * 4) != 0)
      __builtin_trap();
  return 0;
}
