#include "formats/npz.hpp"

#include <zlib.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "formats/tensor_conversion.hpp"

namespace fedhub::formats {

namespace {

[[noreturn]] void bad(const std::string& what) { throw std::runtime_error("npz file: " + what); }

uint32_t le(std::span<const char> b, size_t at, int bytes) {
  if (at + static_cast<size_t>(bytes) > b.size()) bad("truncated (a record runs past its end)");
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<size_t>(i)]);
  return v;
}

// The value of `key` in the .npy header's dict literal, as text.
std::string dict_value(const std::string& header, const std::string& key, const std::string& name) {
  const auto k = header.find("'" + key + "'");
  if (k == std::string::npos) throw std::runtime_error("array '" + name + "': its .npy header has no '" + key + "'");
  auto p = header.find(':', k);
  if (p == std::string::npos) throw std::runtime_error("array '" + name + "': malformed .npy header");
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  size_t end = p;
  if (p < header.size() && header[p] == '(') {
    end = header.find(')', p);
    if (end == std::string::npos) throw std::runtime_error("array '" + name + "': malformed shape in its .npy header");
    return header.substr(p, end - p + 1);
  }
  if (p < header.size() && header[p] == '\'') {
    end = header.find('\'', p + 1);
    if (end == std::string::npos) throw std::runtime_error("array '" + name + "': malformed .npy header");
    return header.substr(p + 1, end - p - 1);
  }
  while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  return header.substr(p, end - p);
}

std::vector<int64_t> parse_shape(const std::string& text, const std::string& name) {
  std::vector<int64_t> shape;
  size_t i = 1;  // after '('
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
    if (i >= text.size() || text[i] == ')') break;
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || j - i > 18) throw std::runtime_error("array '" + name + "': malformed shape " + text);
    shape.push_back(std::stoll(text.substr(i, j - i)));
    if (shape.size() > 8) throw std::runtime_error("array '" + name + "': more than 8 dimensions");
    i = j;
  }
  return shape;
}

std::string inflate_member(std::span<const char> compressed, uint64_t size, const std::string& name) {
  if (size > (4ull << 30) || size > 64 * std::max<uint64_t>(compressed.size(), 1))
    bad("member '" + name + "' declares " + std::to_string(size) + " bytes from " + std::to_string(compressed.size()));
  std::string out(size, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) bad("cannot start inflating '" + name + "'");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const uint64_t produced = z.total_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != size) bad("member '" + name + "' does not inflate to its declared size");
  return out;
}

// Column-major (Fortran order, numpy's layout of a transposed array) values
// in row-major order.
std::vector<float> to_row_major(const std::vector<float>& column_major, const std::vector<int64_t>& shape) {
  std::vector<float> out(column_major.size());
  const size_t rank = shape.size();
  std::vector<int64_t> index(rank, 0);
  for (size_t flat = 0; flat < out.size(); ++flat) {
    // `index` is the row-major position `flat`; its column-major offset:
    size_t offset = 0;
    for (size_t k = rank; k-- > 0;) offset = offset * static_cast<size_t>(shape[k]) + static_cast<size_t>(index[k]);
    out[flat] = column_major[offset];
    for (size_t k = rank; k-- > 0;) {
      if (++index[k] < shape[k]) break;
      index[k] = 0;
    }
  }
  return out;
}

}  // namespace

Tensor read_npy(std::span<const char> npy, const std::string& name) {
  const std::string what = "array '" + name + "'";
  if (npy.size() < 10 || std::memcmp(npy.data(), "\x93NUMPY", 6) != 0)
    throw std::runtime_error(what + " is not an .npy file");
  const int major = static_cast<unsigned char>(npy[6]);
  size_t header_len = 0, at = 0;
  if (major == 1) {
    header_len = le(npy, 8, 2);
    at = 10;
  } else if (major == 2 || major == 3) {
    header_len = le(npy, 8, 4);
    at = 12;
  } else {
    throw std::runtime_error(what + ": .npy version " + std::to_string(major) + " is unknown");
  }
  if (header_len > npy.size() - at) throw std::runtime_error(what + ": its .npy header runs past the file");
  const std::string header(npy.data() + at, header_len);
  at += header_len;
  std::string descr = dict_value(header, "descr", name);
  if (descr.size() == 3 && (descr[0] == '|' || descr[0] == '=')) descr[0] = '<';
  Dtype d;
  if (descr == "<f4")
    d = Dtype::f32;
  else if (descr == "<f8")
    d = Dtype::f64;
  else if (descr == "<f2")
    d = Dtype::f16;
  else
    throw std::runtime_error(what + " has dtype '" + descr +
                             "'; weights are little-endian float32, float64 or float16");
  const std::string order = dict_value(header, "fortran_order", name);
  if (order.find("False") == std::string::npos && order.find("True") == std::string::npos)
    throw std::runtime_error(what + ": its .npy header's fortran_order is neither True nor False");
  Tensor t;
  t.name = name;
  t.shape = parse_shape(dict_value(header, "shape", name), name);
  const uint64_t count = checked_elements(t.shape, (npy.size() - at) / dtype_size(d), what);
  if (count * dtype_size(d) != npy.size() - at)
    throw std::runtime_error(what + ": its shape makes " + std::to_string(count * dtype_size(d)) +
                             " bytes, the file holds " + std::to_string(npy.size() - at));
  t.values = decode_floats(npy.data() + at, count, d, what);
  if (order.find("True") != std::string::npos && t.shape.size() > 1) t.values = to_row_major(t.values, t.shape);
  return t;
}

std::vector<Tensor> read_npz(std::span<const char> file) {
  // The end of central directory record: the last 22 bytes (no comment).
  if (file.size() < 22) bad("too short for a zip archive");
  size_t eocd = std::string::npos;
  for (size_t i = file.size() - 22 + 1; i-- > 0 && file.size() - i <= 22 + 65535;)
    if (le(file, i, 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd == std::string::npos) bad("no zip end record (not a zip archive)");
  const uint32_t entries = le(file, eocd + 10, 2);
  const uint32_t dir_size = le(file, eocd + 12, 4);
  const uint32_t dir_at = le(file, eocd + 16, 4);
  if (dir_at == 0xffffffffu || entries == 0xffff) bad("zip64 archives are not read; save arrays under 4 GiB");
  if (static_cast<uint64_t>(dir_at) + dir_size > eocd) bad("its central directory lies outside the archive");
  std::vector<Tensor> out;
  size_t p = dir_at;
  for (uint32_t e = 0; e < entries; ++e) {
    if (le(file, p, 4) != 0x02014b50) bad("a damaged central directory");
    const uint32_t flags = le(file, p + 8, 2), method = le(file, p + 10, 2);
    const uint32_t csize = le(file, p + 20, 4), usize = le(file, p + 24, 4);
    const uint32_t name_len = le(file, p + 28, 2), extra_len = le(file, p + 30, 2), comment_len = le(file, p + 32, 2);
    const uint32_t local = le(file, p + 42, 4);
    if (p + 46 + name_len > file.size()) bad("a damaged central directory");
    std::string name(file.data() + p + 46, name_len);
    p += 46 + name_len + extra_len + comment_len;
    if (flags & 1) bad("member '" + name + "' is encrypted");
    if (csize == 0xffffffffu || usize == 0xffffffffu || local == 0xffffffffu)
      bad("zip64 archives are not read; save arrays under 4 GiB");
    if (le(file, local, 4) != 0x04034b50) bad("member '" + name + "' has no local header");
    const size_t data_at = local + 30 + le(file, local + 26, 2) + le(file, local + 28, 2);
    if (data_at > file.size() || csize > file.size() - data_at) bad("member '" + name + "' runs past the archive");
    const auto bytes = file.subspan(data_at, csize);
    std::string inflated;
    std::span<const char> npy;
    if (method == 0) {
      if (csize != usize) bad("stored member '" + name + "' has two sizes");
      npy = bytes;
    } else if (method == 8) {
      inflated = inflate_member(bytes, usize, name);
      npy = inflated;
    } else {
      bad("member '" + name + "' uses zip method " + std::to_string(method) + " (stored and deflated are read)");
    }
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    out.push_back(read_npy(npy, name));
  }
  return out;
}

Buffer write_npz(const std::vector<Tensor>& tensors) {
  Buffer out;
  std::string directory;
  auto put = [](std::string& s, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  for (const auto& t : tensors) {
    std::string shape = "(";
    for (size_t i = 0; i < t.shape.size(); ++i)
      shape += std::to_string(t.shape[i]) + (t.shape.size() == 1 || i + 1 < t.shape.size() ? "," : "");
    shape += ")";
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
    header.push_back('\n');
    std::string npy("\x93NUMPY\x01\x00", 8);
    put(npy, static_cast<uint32_t>(header.size()), 2);
    npy += header;
    npy.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * 4);
    if (npy.size() > 0xfffffff0u) throw std::runtime_error("npz export: array '" + t.name + "' exceeds 4 GiB");
    const std::string name = t.name + ".npy";
    const uint32_t crc =
        static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(npy.data()), static_cast<uInt>(npy.size())));
    const uint32_t local = static_cast<uint32_t>(out.size());
    std::string lh;
    put(lh, 0x04034b50, 4);
    put(lh, 20, 2);  // version needed
    put(lh, 0, 2);   // flags
    put(lh, 0, 2);   // stored
    put(lh, 0, 4);   // time, date
    put(lh, crc, 4);
    put(lh, static_cast<uint32_t>(npy.size()), 4);
    put(lh, static_cast<uint32_t>(npy.size()), 4);
    put(lh, static_cast<uint32_t>(name.size()), 2);
    put(lh, 0, 2);
    lh += name;
    out.insert(out.end(), lh.begin(), lh.end());
    out.insert(out.end(), npy.begin(), npy.end());
    put(directory, 0x02014b50, 4);
    put(directory, 20, 2);
    put(directory, 20, 2);
    put(directory, 0, 2);
    put(directory, 0, 2);
    put(directory, 0, 4);
    put(directory, crc, 4);
    put(directory, static_cast<uint32_t>(npy.size()), 4);
    put(directory, static_cast<uint32_t>(npy.size()), 4);
    put(directory, static_cast<uint32_t>(name.size()), 2);
    put(directory, 0, 2);  // extra
    put(directory, 0, 2);  // comment
    put(directory, 0, 2);  // disk
    put(directory, 0, 2);  // internal attributes
    put(directory, 0, 4);  // external attributes
    put(directory, local, 4);
    directory += name;
  }
  std::string end;
  put(end, 0x06054b50, 4);
  put(end, 0, 4);
  put(end, static_cast<uint32_t>(tensors.size()), 2);
  put(end, static_cast<uint32_t>(tensors.size()), 2);
  put(end, static_cast<uint32_t>(directory.size()), 4);
  put(end, static_cast<uint32_t>(out.size()), 4);
  put(end, 0, 2);
  out.insert(out.end(), directory.begin(), directory.end());
  out.insert(out.end(), end.begin(), end.end());
  return out;
}

}  // namespace fedhub::formats
