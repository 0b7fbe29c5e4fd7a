// ONNX models in (fl-manager create --onnx FILE): a graph that is a
// sequence of the layers fedhub trains becomes fedhub's architecture JSON
// (model/architecture.hpp) and its weights. Pure C++ on Debian's
// libonnx_proto; no CAF, and no generated protobuf type in this header.
//
// What is read (docs/models.md, "ONNX"):
//   - one graph input, float, [N, C, H, W] (an image: fedhub's "input" is
//     [H, W, C], channels last) or [N, D] (a vector: [D]); N may be symbolic;
//   - Conv (group 1, dilations 1, pads 0 = "valid" or exactly the padding of
//     Keras's "same": floor(total/2) top/left, the rest bottom/right) ->
//     conv2d, its weight OIHW transposed to [kh, kw, in, out];
//   - Relu -> the activation of the conv2d or dense before it, otherwise a
//     relu layer; MaxPool (no padding, ceil_mode 0, dilations 1) ->
//     maxpool2d; Dropout -> dropout (its ratio; 0.5 when not given);
//   - Flatten (axis 1), or Reshape to [N, -1] with its shape constant or
//     computed the way PyTorch exports x.view(x.size(0), -1) (Shape, Gather,
//     Unsqueeze, Concat, Constant) -> flatten; the first dense after it has
//     its input rows reordered from (c, h, w) to (h, w, c);
//   - Gemm (transA 0, alpha 1, beta 1; transB 0 or 1) or MatMul followed by
//     Add of a bias -> dense; Identity -> nothing;
//   - a Softmax as the very last operation -> the last dense's "softmax"
//     activation (fedhub's outputs are logits either way).
// Weights must be initializers (float32, float64, float16 or bfloat16,
// converted to float32 and checked finite) used by one layer each.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "model/tensor.hpp"

namespace fedhub::formats {

struct OnnxImport {
  // fedhub's architecture, canonical (Architecture::to_json). Layers with
  // weights are named after their initializers ("conv1.weight" -> conv1)
  // when those names are plain ([A-Za-z0-9_.-]), otherwise as fedhub names
  // layers by default (conv2d, dense_1, ...).
  std::string architecture_json;
  // The weights in the architecture's order (Architecture::parameters).
  Weights weights;
  // What the import changed or left out, one line each, for the user: a
  // Relu folded into a layer's activation, a Softmax taken as the
  // activation, initializers no layer uses.
  std::vector<std::string> notes;
};

// Reads an ONNX model (the bytes of a .onnx file; `path` names it in
// errors). Throws std::runtime_error naming the node (by index, name and op
// type), tensor or attribute that is wrong and what to do: a file that is
// not ONNX protobuf or is truncated, an op fedhub does not train, an
// attribute it cannot honour (group, dilations, ceil_mode, pads that are
// neither valid nor same), a node that reads a value no earlier node,
// initializer or input produced (out of order or a cycle), a graph that is
// not one chain, tensors whose data lives in external files, tensors whose
// dims are negative, overflow or do not match the data stored. Sizes are
// checked against the stored bytes before anything is allocated: nothing
// larger than the file itself is allocated.
OnnxImport read_onnx(std::span<const char> file, const std::string& path);

}  // namespace fedhub::formats
