// ONNX models out (fl-manager and fl-participant download --format onnx):
// a fedhub architecture and its weights as an ONNX model that onnx.checker
// accepts and onnxruntime or PyTorch runs. Pure C++ on Debian's
// libonnx_proto; no CAF, and no generated protobuf type in this header.
//
// The graph is NCHW, as ONNX and PyTorch expect: input "input" [N, C, H, W]
// (fedhub's [H, W, C]) or [N, D], N symbolic; output "logits" [N, K]. Opset
// 13, IR version 7. Layers become nodes named "<layer>/<Op>":
//   conv2d    -> Conv (pads 0 for "valid", Keras's "same" pads otherwise),
//                weight "<layer>.weight" OIHW, bias "<layer>.bias"
//   dense     -> Gemm (transB 1), weight "<layer>.weight" [out, in], bias;
//                the first dense after a flatten of an image has its input
//                columns in ONNX's (c, h, w) order
//   relu, and a "relu" activation -> Relu; maxpool2d -> MaxPool;
//   flatten   -> Flatten (axis 1); dropout -> Dropout (its ratio as an
//                initializer "<layer>.ratio": the identity at inference);
//   a "softmax" activation on the last layer -> Softmax (axis 1): the
//                outputs are then probabilities, as the Keras model's are.
// Initializers hold float32 raw_data (little-endian). read_onnx reads the
// file back to the same architecture and bit-identical weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/buffer.hpp"
#include "model/architecture.hpp"

namespace fedhub::formats {

struct OnnxExportInfo {
  std::string model_name;           // the graph's name and metadata "fedhub.model"
  int64_t version = 0;              // ModelProto.model_version and "fedhub.version"
  std::vector<std::string> labels;  // metadata "fedhub.labels", one per line, in output order
};

// The ONNX model of `arch` with `weights` (in the architecture's order and
// shapes; std::invalid_argument naming the first tensor that is not).
Buffer write_onnx(const Architecture& arch, const Weights& weights, const OnnxExportInfo& info);

}  // namespace fedhub::formats
