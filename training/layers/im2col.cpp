#include "training/layers/im2col.hpp"

#include <algorithm>
#include <stdexcept>

namespace fedhub::training {

ConvGeometry ConvGeometry::of(const Layer& l) {
  if (l.input_shape.size() != 3 || l.output_shape.size() != 3)
    throw std::invalid_argument("layer '" + l.name + "' needs image input and output shapes [h, w, c]");
  ConvGeometry g;
  g.in_h = l.input_shape[0];
  g.in_w = l.input_shape[1];
  g.channels = l.input_shape[2];
  g.out_h = l.output_shape[0];
  g.out_w = l.output_shape[1];
  g.stride_h = l.stride_h;
  g.stride_w = l.stride_w;
  if (l.type == LayerType::conv2d) {
    g.kernel_h = l.kernel_h;
    g.kernel_w = l.kernel_w;
    if (l.padding == Padding::same) {
      g.pad_top = std::max<int64_t>((g.out_h - 1) * g.stride_h + g.kernel_h - g.in_h, 0) / 2;
      g.pad_left = std::max<int64_t>((g.out_w - 1) * g.stride_w + g.kernel_w - g.in_w, 0) / 2;
    }
  } else if (l.type == LayerType::maxpool2d) {
    g.kernel_h = l.pool_h;
    g.kernel_w = l.pool_w;
  } else {
    throw std::invalid_argument("layer '" + l.name + "' is neither conv2d nor maxpool2d");
  }
  if (g.kernel_h <= 0 || g.kernel_w <= 0 || g.stride_h <= 0 || g.stride_w <= 0)
    throw std::invalid_argument("layer '" + l.name + "' has a non-positive kernel or stride");
  return g;
}

template <typename T>
void im2col(const ConvGeometry& g, const T* image, T* cols) {
  const int64_t C = g.channels, row_len = g.kernel_w * C, P = g.patch_size();
  for (int64_t oy = 0; oy < g.out_h; ++oy) {
    for (int64_t ox = 0; ox < g.out_w; ++ox) {
      T* row = cols + (oy * g.out_w + ox) * P;
      const int64_t ix0 = ox * g.stride_w - g.pad_left;
      const bool full_row = ix0 >= 0 && ix0 + g.kernel_w <= g.in_w;
      for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
        T* dst = row + ky * row_len;
        const int64_t iy = oy * g.stride_h - g.pad_top + ky;
        if (iy < 0 || iy >= g.in_h) {
          std::fill_n(dst, row_len, T(0));
          continue;
        }
        const T* src = image + (iy * g.in_w) * C;
        if (full_row) {
          std::copy_n(src + ix0 * C, row_len, dst);
          continue;
        }
        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
          const int64_t ix = ix0 + kx;
          if (ix < 0 || ix >= g.in_w)
            std::fill_n(dst + kx * C, C, T(0));
          else
            std::copy_n(src + ix * C, C, dst + kx * C);
        }
      }
    }
  }
}

template <typename T>
void col2im(const ConvGeometry& g, const T* cols, T* image) {
  const int64_t C = g.channels, row_len = g.kernel_w * C, P = g.patch_size();
  std::fill_n(image, g.input_size(), T(0));
  for (int64_t oy = 0; oy < g.out_h; ++oy) {
    for (int64_t ox = 0; ox < g.out_w; ++ox) {
      const T* row = cols + (oy * g.out_w + ox) * P;
      const int64_t ix0 = ox * g.stride_w - g.pad_left;
      for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
        const int64_t iy = oy * g.stride_h - g.pad_top + ky;
        if (iy < 0 || iy >= g.in_h) continue;
        const T* src = row + ky * row_len;
        T* dst = image + (iy * g.in_w) * C;
        if (ix0 >= 0 && ix0 + g.kernel_w <= g.in_w) {
          T* d = dst + ix0 * C;
          for (int64_t i = 0; i < row_len; ++i) d[i] += src[i];
          continue;
        }
        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
          const int64_t ix = ix0 + kx;
          if (ix < 0 || ix >= g.in_w) continue;
          T* d = dst + ix * C;
          const T* s = src + kx * C;
          for (int64_t c = 0; c < C; ++c) d[c] += s[c];
        }
      }
    }
  }
}

template void im2col<float>(const ConvGeometry&, const float*, float*);
template void im2col<double>(const ConvGeometry&, const double*, double*);
template void col2im<float>(const ConvGeometry&, const float*, float*);
template void col2im<double>(const ConvGeometry&, const double*, double*);

}  // namespace fedhub::training
