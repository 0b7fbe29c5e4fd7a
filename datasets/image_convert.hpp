// Conversion of one decoded image to a model's input shape (the rules are in
// dataset.hpp: bilinear resize with half-pixel centres, grey <-> colour,
// flattening for a [d] input), written as uint8 HWC.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace fedhub::datasets {

// A decoded image: height x width pixels of `channels` interleaved bytes
// (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA), rows top to bottom.
struct ImageView {
  const uint8_t* data = nullptr;
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;
};

// A model input shape checked for conversion: either an image [h, w, c] with
// c 1 or 3, or a flat vector [d].
struct TargetShape {
  bool flat = false;
  int64_t height = 0, width = 0, channels = 0;  // image input
  int64_t size = 0;                             // values per sample (d, or h*w*c)
};

// Throws std::runtime_error when `shape` is neither [h, w, 1|3] nor [d] with
// positive dimensions.
TargetShape check_target_shape(std::span<const int64_t> shape);

// Writes `target.size` bytes for `image` to `out`. `what` names the image in
// errors (a file, or a file and record). Throws std::runtime_error for a flat
// target whose size differs from the image's h*w*c (alpha not counted), or
// for an image with no pixels or with 0 or more than 4 channels.
void convert_image(const ImageView& image, const TargetShape& target, uint8_t* out, const std::string& what);

}  // namespace fedhub::datasets
