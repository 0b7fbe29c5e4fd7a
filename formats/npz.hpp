// NumPy .npz files (numpy.savez and savez_compressed): a zip archive of one
// .npy file per array, stored or deflated. Each .npy file is the magic
// "\x93NUMPY", a version (1.0, 2.0 or 3.0), a header length and a Python
// dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }
// then the values, row-major. The reader accepts little-endian float32,
// float64 and float16 ('<f4', '<f8', '<f2'; '|' or '=' where it means the
// same), in C or Fortran order, and refuses everything else (integers,
// objects, big-endian, zip64, encryption) naming the array.
#pragma once

#include <span>
#include <vector>

#include "messages/buffer.hpp"
#include "model/tensor.hpp"

namespace fedhub::formats {

// The arrays of an .npz file, in archive order, named without ".npy".
// Throws std::runtime_error naming what is wrong. Deflated members are
// inflated to at most their declared size, itself bounded by 64 times the
// compressed size and 4 GiB.
std::vector<Tensor> read_npz(std::span<const char> file);

// One .npy file's array (named `name` in errors).
Tensor read_npy(std::span<const char> npy, const std::string& name);

// An .npz file (stored, not compressed) of float32 arrays, as numpy.savez
// writes it.
Buffer write_npz(const std::vector<Tensor>& tensors);

}  // namespace fedhub::formats
