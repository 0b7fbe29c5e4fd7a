#include "datasets/image_convert.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "model/tensor.hpp"

namespace fedhub::datasets {
namespace {

// One output coordinate's two source neighbours and the weight of the second.
struct Tap {
  int64_t i0, i1;
  float f;
};

// Half-pixel centres: source = (x + 0.5) * src / dst - 0.5, clamped to
// [0, src - 1] (what OpenCV's INTER_LINEAR and TensorFlow's
// half_pixel_centers do at the borders).
std::vector<Tap> bilinear_taps(int64_t src, int64_t dst) {
  std::vector<Tap> taps(static_cast<size_t>(dst));
  const double scale = static_cast<double>(src) / static_cast<double>(dst);
  for (int64_t x = 0; x < dst; ++x) {
    const double s = std::clamp((static_cast<double>(x) + 0.5) * scale - 0.5, 0.0, static_cast<double>(src - 1));
    const auto i0 = static_cast<int64_t>(std::floor(s));
    taps[static_cast<size_t>(x)] = {i0, std::min(i0 + 1, src - 1), static_cast<float>(s - static_cast<double>(i0))};
  }
  return taps;
}

uint8_t round_byte(float v) {
  v += 0.5f;
  if (!(v > 0.0f)) return 0;
  if (v >= 255.0f) return 255;
  return static_cast<uint8_t>(v);
}

// Multiply-adds are written as std::fma (rounded once), so that every build
// converts to the same bytes whether or not the compiler may contract
// (-march=native with FMA did, a portable build did not) and clients in other
// languages can match them exactly (clients/python/fedhub_client/data/convert.py).
float luma(const uint8_t* rgb) {
  return std::fma(0.114f, float(rgb[2]), std::fma(0.587f, float(rgb[1]), 0.299f * float(rgb[0])));
}

std::string shape_text(int64_t h, int64_t w, int64_t c) {
  return std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
}

}  // namespace

TargetShape check_target_shape(std::span<const int64_t> shape) {
  const auto bad = [&](const std::string& why) {
    return std::runtime_error("model input shape " + shape_to_string(shape) + " " + why +
                              "; image data needs [h, w, 1], [h, w, 3] or a flat [d]");
  };
  TargetShape t;
  if (shape.size() == 1) {
    if (shape[0] <= 0) throw bad("has no values");
    t.flat = true;
    t.size = shape[0];
    return t;
  }
  if (shape.size() != 3) throw bad("is not an image shape");
  if (shape[0] <= 0 || shape[1] <= 0) throw bad("has no pixels");
  if (shape[2] != 1 && shape[2] != 3) throw bad("has " + std::to_string(shape[2]) + " channels");
  t.height = shape[0];
  t.width = shape[1];
  t.channels = shape[2];
  t.size = element_count(shape);
  return t;
}

void convert_image(const ImageView& image, const TargetShape& target, uint8_t* out, const std::string& what) {
  const int64_t h = image.height, w = image.width, c = image.channels;
  if (image.data == nullptr || h <= 0 || w <= 0) throw std::runtime_error(what + ": the image has no pixels");
  if (c < 1 || c > 4)
    throw std::runtime_error(what + ": the image has " + std::to_string(c) + " channels (1 to 4 are supported)");
  const int64_t sc = c <= 2 ? 1 : 3;  // colour channels, alpha dropped
  const uint8_t* src = image.data;

  if (target.flat) {
    if (h * w * sc != target.size)
      throw std::runtime_error(what + ": the image is " + shape_text(h, w, sc) + " = " + std::to_string(h * w * sc) +
                               " values but the model's flat input has " + std::to_string(target.size) +
                               "; use a model with an image input [h, w, c] so that images are resized");
    if (sc == c) {
      std::memcpy(out, src, static_cast<size_t>(target.size));
    } else {
      for (int64_t p = 0; p < h * w; ++p)
        for (int64_t k = 0; k < sc; ++k) out[p * sc + k] = src[p * c + k];
    }
    return;
  }

  const int64_t th = target.height, tw = target.width, tc = target.channels;
  if (h == th && w == tw) {
    for (int64_t p = 0; p < h * w; ++p) {
      const uint8_t* s = src + p * c;
      uint8_t* d = out + p * tc;
      if (tc == 1) {
        d[0] = sc == 1 ? s[0] : round_byte(luma(s));
      } else if (sc == 1) {
        d[0] = d[1] = d[2] = s[0];
      } else {
        d[0] = s[0], d[1] = s[1], d[2] = s[2];
      }
    }
    return;
  }

  // Channel conversion first (in float, so rounding happens once), then the
  // resize; grey for a colour model is resized once and repeated.
  const int64_t wc = tc == 1 ? 1 : sc;
  std::vector<float> plane(static_cast<size_t>(h * w * wc));
  for (int64_t p = 0; p < h * w; ++p) {
    const uint8_t* s = src + p * c;
    if (wc == 1) {
      plane[static_cast<size_t>(p)] = sc == 1 ? static_cast<float>(s[0]) : luma(s);
    } else {
      for (int64_t k = 0; k < 3; ++k) plane[static_cast<size_t>(p * 3 + k)] = s[k];
    }
  }
  const auto ys = bilinear_taps(h, th);
  const auto xs = bilinear_taps(w, tw);
  for (int64_t y = 0; y < th; ++y) {
    const Tap& ty = ys[static_cast<size_t>(y)];
    const float* row0 = plane.data() + ty.i0 * w * wc;
    const float* row1 = plane.data() + ty.i1 * w * wc;
    for (int64_t x = 0; x < tw; ++x) {
      const Tap& tx = xs[static_cast<size_t>(x)];
      uint8_t* d = out + (y * tw + x) * tc;
      for (int64_t k = 0; k < wc; ++k) {
        const float a0 = row0[tx.i0 * wc + k], a1 = row1[tx.i0 * wc + k];
        const float top = std::fma(tx.f, row0[tx.i1 * wc + k] - a0, a0);
        const float bottom = std::fma(tx.f, row1[tx.i1 * wc + k] - a1, a1);
        d[k] = round_byte(std::fma(ty.f, bottom - top, top));
      }
      if (wc == 1 && tc == 3) d[1] = d[2] = d[0];
    }
  }
}

}  // namespace fedhub::datasets
