#include "formats/keras_h5.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>

#include "formats/tensor_conversion.hpp"
#include "formats/weights_matching.hpp"

namespace fedhub::formats {

namespace {

constexpr size_t kMaxNames = 1'000'000;
constexpr size_t kMaxNameBytes = 64 * 1024;
constexpr size_t kMaxLinks = 100'000;
constexpr size_t kMaxNameChunks = 100'000;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

// The most specific description on libhdf5's error stack, then cleared.
std::string hdf5_error() {
  std::string deepest;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        if (e->desc && *e->desc) *static_cast<std::string*>(data) = e->desc;
        return 0;
      },
      &deepest);
  H5Eclear2(H5E_DEFAULT);
  return deepest.empty() ? "libhdf5 gave no reason" : deepest;
}

// From the first read on, libhdf5 prints nothing on its own (its errors
// become our messages) and loads no filter plugins (a file could name any
// filter). Not restored afterwards: after some damaged files libhdf5 1.10
// keeps internal objects of the failed open, and with printing back on it
// reports them at exit ("infinite loop closing library").
class Quiet {
 public:
  Quiet() {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    H5PLset_loading_state(0);
  }
  ~Quiet() { H5Eclear2(H5E_DEFAULT); }
  Quiet(const Quiet&) = delete;
  Quiet& operator=(const Quiet&) = delete;
};

// An open libhdf5 identifier, closed by the function it came with.
class Id {
 public:
  Id() = default;
  Id(hid_t id, herr_t (*close)(hid_t), const std::string& what) : id_(id), close_(close) {
    if (id_ < 0) fail(what + ": " + hdf5_error());
  }
  Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Id& operator=(Id&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(close_, o.close_);
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  ~Id() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

void check(herr_t r, const std::string& what) {
  if (r < 0) fail(what + ": " + hdf5_error());
}

std::string join(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}

std::string quoted(const std::string& path) { return "'" + path + "'"; }

// The identity of an object in the file, to tell a group met twice.
std::string identity(hid_t obj, const std::string& path) {
#if H5_VERSION_GE(1, 12, 0)
  H5O_info2_t info;
  check(H5Oget_info3(obj, &info, H5O_INFO_BASIC), "cannot inspect " + quoted(path));
  return std::string(reinterpret_cast<const char*>(&info.token), sizeof info.token);
#else
  H5O_info_t info;
  check(H5Oget_info2(obj, &info, H5O_INFO_BASIC), "cannot inspect " + quoted(path));
  return std::to_string(info.addr);
#endif
}

// The groups from the root to the one being read, to refuse a cycle.
using Ancestors = std::vector<std::pair<std::string, std::string>>;  // identity, path

enum class Want { group, dataset };

// `name` (one component) in `parent`, opened when it is a hard link to an
// object of the kind wanted; an empty Id when there is no such link.
Id open_child(hid_t parent, const std::string& parent_path, const std::string& name, Want want,
              const Ancestors* ancestors = nullptr) {
  const std::string path = join(parent_path, name);
  if (name.empty() || name == "." || name.find('/') != std::string::npos)
    fail(quoted(path) + " is not a name of one group or dataset");
  const htri_t exists = H5Lexists(parent, name.c_str(), H5P_DEFAULT);
  if (exists < 0) fail("cannot look up " + quoted(path) + ": " + hdf5_error());
  if (exists == 0) return {};
  H5L_info_t link;
  check(H5Lget_info(parent, name.c_str(), &link, H5P_DEFAULT), "cannot read the link " + quoted(path));
  if (link.type == H5L_TYPE_SOFT)
    fail(quoted(path) + " is a soft link to elsewhere in the file: only plain groups and datasets are read");
  if (link.type == H5L_TYPE_EXTERNAL)
    fail(quoted(path) + " is an external link to another file: refused, the weights must be in this file");
  if (link.type != H5L_TYPE_HARD) fail(quoted(path) + " is a user-defined link: refused");
  Id obj(H5Oopen(parent, name.c_str(), H5P_DEFAULT), H5Oclose, "cannot open " + quoted(path));
  const H5I_type_t type = H5Iget_type(obj.get());
  if (want == Want::group && type != H5I_GROUP) fail(quoted(path) + " is not a group");
  if (want == Want::dataset && type != H5I_DATASET) fail(quoted(path) + " is not a dataset");
  if (ancestors) {
    const auto id = identity(obj.get(), path);
    for (const auto& [other, other_path] : *ancestors)
      if (other == id)
        fail(quoted(path) + " is the group " + quoted(other_path) + " again (a hard link back up: a cycle)");
  }
  return obj;
}

// The names of a group's links, in name order, at most kMaxLinks.
std::vector<std::string> child_names(hid_t group, const std::string& path) {
  H5G_info_t info;
  check(H5Gget_info(group, &info), "cannot read the group " + quoted(path));
  if (info.nlinks > kMaxLinks)
    fail(quoted(path) + " holds " + std::to_string(info.nlinks) + " links, more than the " + std::to_string(kMaxLinks) +
         " read");
  struct Out {
    std::vector<std::string> names;
    bool too_long = false;
  } out;
  const herr_t r = H5Literate(
      group, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
        auto* o = static_cast<Out*>(data);
        const size_t n = strnlen(name, kMaxNameBytes + 1);
        if (n > kMaxNameBytes || o->names.size() >= kMaxLinks) {
          o->too_long = true;
          return 1;
        }
        o->names.emplace_back(name, n);
        return 0;
      },
      &out);
  if (r < 0) fail("cannot list the group " + quoted(path) + ": " + hdf5_error());
  if (out.too_long)
    fail(quoted(path) + " holds a link name longer than " + std::to_string(kMaxNameBytes) + " bytes or too many links");
  return out.names;
}

const char* class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "float";
    case H5T_TIME:
      return "time";
    case H5T_STRING:
      return "string";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_COMPOUND:
      return "compound";
    case H5T_REFERENCE:
      return "reference";
    case H5T_ENUM:
      return "enum";
    case H5T_VLEN:
      return "variable-length";
    case H5T_ARRAY:
      return "array";
    default:
      return "unknown";
  }
}

struct Context {
  std::span<const char> file;
};

// A string-list attribute (Keras's layer_names, weight_names), or nullopt
// when `obj` has none of that name. An empty attribute of any type is an
// empty list (h5py writes [] as an empty float64 array).
std::optional<std::vector<std::string>> read_one_names(const Context& cx, hid_t obj, const std::string& path,
                                                       const std::string& attr) {
  const htri_t exists = H5Aexists(obj, attr.c_str());
  if (exists < 0) fail("cannot look up the attribute '" + attr + "' of " + quoted(path) + ": " + hdf5_error());
  if (exists == 0) return std::nullopt;
  const std::string what = "the attribute '" + attr + "' of " + quoted(path);
  Id a(H5Aopen(obj, attr.c_str(), H5P_DEFAULT), H5Aclose, "cannot open " + what);
  Id space(H5Aget_space(a.get()), H5Sclose, "cannot read the dataspace of " + what);
  Id type(H5Aget_type(a.get()), H5Tclose, "cannot read the type of " + what);
  const H5S_class_t sc = H5Sget_simple_extent_type(space.get());
  if (sc == H5S_NULL) return std::vector<std::string>{};
  if (sc == H5S_SIMPLE && H5Sget_simple_extent_ndims(space.get()) != 1)
    fail(what + " is not a list (it has " + std::to_string(H5Sget_simple_extent_ndims(space.get())) + " dimensions)");
  if (sc != H5S_SIMPLE && sc != H5S_SCALAR) fail(what + " has an unknown dataspace");
  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (points < 0) fail("cannot read the size of " + what + ": " + hdf5_error());
  const auto n = static_cast<size_t>(points);
  if (n == 0) return std::vector<std::string>{};
  const H5T_class_t tc = H5Tget_class(type.get());
  if (tc != H5T_STRING) fail(what + " is not a list of names (it holds " + class_name(tc) + " values)");
  if (n > kMaxNames)
    fail(what + " lists " + std::to_string(n) + " names, more than the " + std::to_string(kMaxNames) + " read");
  std::vector<std::string> names;
  names.reserve(n);
  const htri_t variable = H5Tis_variable_str(type.get());
  if (variable < 0) fail("cannot read the type of " + what + ": " + hdf5_error());
  if (variable > 0) {
    if (n > cx.file.size() / 8) fail(what + " declares " + std::to_string(n) + " names, more than the file holds");
    Id mem(H5Tcopy(H5T_C_S1), H5Tclose, "cannot make a string type");
    check(H5Tset_size(mem.get(), H5T_VARIABLE), "cannot make a string type");
    check(H5Tset_cset(mem.get(), H5Tget_cset(type.get())), "cannot make a string type");
    std::vector<char*> ptrs(n, nullptr);
    check(H5Aread(a.get(), mem.get(), ptrs.data()), "cannot read " + what);
    bool too_long = false;
    for (char* p : ptrs) {
      const size_t len = p ? strnlen(p, kMaxNameBytes + 1) : 0;
      if (len > kMaxNameBytes) too_long = true;
      names.emplace_back(p ? p : "", std::min(len, kMaxNameBytes));
    }
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
#else
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
#endif
    if (too_long) fail(what + " holds a name longer than " + std::to_string(kMaxNameBytes) + " bytes");
  } else {
    const size_t size = H5Tget_size(type.get());
    if (size == 0 || size > kMaxNameBytes)
      fail(what + " holds names of " + std::to_string(size) + " bytes each, more than " +
           std::to_string(kMaxNameBytes));
    if (n * size > cx.file.size())
      fail(what + " declares " + std::to_string(n * size) + " bytes, more than the file's " +
           std::to_string(cx.file.size()));
    std::vector<char> buf(n * size);
    check(H5Aread(a.get(), type.get(), buf.data()), "cannot read " + what);
    const bool spaces = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
    for (size_t i = 0; i < n; ++i) {
      const char* p = buf.data() + i * size;
      size_t len = strnlen(p, size);
      while (spaces && len > 0 && p[len - 1] == ' ') --len;
      names.emplace_back(p, len);
    }
  }
  return names;
}

// `attr`, or Keras's chunks of it (attr0, attr1, ...) when it is large.
std::optional<std::vector<std::string>> read_names(const Context& cx, hid_t obj, const std::string& path,
                                                   const std::string& attr) {
  if (auto whole = read_one_names(cx, obj, path, attr)) return whole;
  std::optional<std::vector<std::string>> all;
  for (size_t chunk = 0;; ++chunk) {
    if (chunk >= kMaxNameChunks) fail(quoted(path) + " splits '" + attr + "' into too many chunks");
    auto part = read_one_names(cx, obj, path, attr + std::to_string(chunk));
    if (!part) break;
    if (!all) all.emplace();
    if (all->size() + part->size() > kMaxNames)
      fail(quoted(path) + " lists more than " + std::to_string(kMaxNames) + " " + attr);
    all->insert(all->end(), part->begin(), part->end());
  }
  return all;
}

bool has_names(hid_t obj, const std::string& attr) {
  return H5Aexists(obj, attr.c_str()) > 0 || H5Aexists(obj, (attr + "0").c_str()) > 0;
}

using Expected = std::map<std::string, std::vector<int64_t>>;

// The float type `type` is, and the little-endian memory type to read it as.
std::pair<Dtype, Id> float_type(hid_t type, const std::string& path) {
  const H5T_class_t tc = H5Tget_class(type);
  if (tc != H5T_FLOAT)
    fail(quoted(path) + " holds " + class_name(tc) + " values: Keras weights are float32, float64 or float16");
  const size_t size = H5Tget_size(type);
  auto is = [&](hid_t standard) { return H5Tequal(type, standard) > 0; };
  if (size == 4 && (is(H5T_IEEE_F32LE) || is(H5T_IEEE_F32BE)))
    return {Dtype::f32, Id(H5Tcopy(H5T_IEEE_F32LE), H5Tclose, "cannot make a float type")};
  if (size == 8 && (is(H5T_IEEE_F64LE) || is(H5T_IEEE_F64BE)))
    return {Dtype::f64, Id(H5Tcopy(H5T_IEEE_F64LE), H5Tclose, "cannot make a float type")};
  if (size == 2) {
    size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
    const bool ieee_half = H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) >= 0 && spos == 15 && epos == 10 &&
                           esize == 5 && mpos == 0 && msize == 10 && H5Tget_ebias(type) == 15 &&
                           H5Tget_offset(type) == 0 && H5Tget_precision(type) == 16 &&
                           H5Tget_norm(type) == H5T_NORM_IMPLIED;
    if (ieee_half) {
      Id mem(H5Tcopy(type), H5Tclose, "cannot make a float type");
      check(H5Tset_order(mem.get(), H5T_ORDER_LE), "cannot make a float type");
      return {Dtype::f16, std::move(mem)};
    }
  }
  H5Eclear2(H5E_DEFAULT);
  fail(quoted(path) + " holds floats of " + std::to_string(size) +
       " bytes that are not IEEE float16, float32 or float64: save the weights as float32");
}

// The storage of a dataset that is read: in this file, through gzip,
// shuffle or fletcher32 at most, and written.
void check_storage(hid_t d, const std::string& path, const std::vector<hsize_t>& dims, size_t bytes) {
  Id dcpl(H5Dget_create_plist(d), H5Pclose, "cannot read the storage of " + quoted(path));
  const int external = H5Pget_external_count(dcpl.get());
  if (external != 0)
    fail(quoted(path) + " keeps its values in " + (external > 0 ? "external files" : "unknown storage") +
         ": refused, the weights must be in this file");
  const H5D_layout_t layout = H5Pget_layout(dcpl.get());
  if (layout == H5D_VIRTUAL) fail(quoted(path) + " is a virtual dataset (made of other datasets or files): refused");
  if (layout != H5D_CONTIGUOUS && layout != H5D_COMPACT && layout != H5D_CHUNKED)
    fail(quoted(path) + " has an unknown storage layout");
  if (layout == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(dims.size() + 1, 0);
    const int rank = H5Pget_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
    if (rank != static_cast<int>(dims.size())) fail(quoted(path) + " has chunks of another rank than its shape");
    for (size_t i = 0; i < dims.size(); ++i)
      if (chunk[i] == 0 || chunk[i] > std::max<hsize_t>(dims[i], 1))
        fail(quoted(path) + " declares chunks larger than its shape");
  }
  const int filters = H5Pget_nfilters(dcpl.get());
  if (filters < 0) fail("cannot read the filters of " + quoted(path) + ": " + hdf5_error());
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0;
    size_t nvalues = 0;
    unsigned config = 0;
    const H5Z_filter_t f =
        H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &nvalues, nullptr, 0, nullptr, &config);
    if (f != H5Z_FILTER_DEFLATE && f != H5Z_FILTER_SHUFFLE && f != H5Z_FILTER_FLETCHER32) {
      H5Eclear2(H5E_DEFAULT);
      fail(quoted(path) + " is stored through HDF5 filter " + std::to_string(f) +
           ": only gzip, shuffle and fletcher32 are read; save it uncompressed");
    }
  }
  H5D_space_status_t status;
  check(H5Dget_space_status(d, &status), "cannot read the storage of " + quoted(path));
  if (status == H5D_SPACE_STATUS_NOT_ALLOCATED && bytes > 0)
    fail(quoted(path) + " was never written (it holds no values)");
  if (layout == H5D_CONTIGUOUS && H5Dget_storage_size(d) < bytes)
    fail(quoted(path) + " stores " + std::to_string(H5Dget_storage_size(d)) + " bytes, its shape and type need " +
         std::to_string(bytes));
}

// The dataset `name` in `parent` as the tensor `tensor`: read when the
// architecture has that tensor in that shape, otherwise only its declared
// shape (for the report), nothing allocated.
Tensor read_dataset(hid_t parent, const std::string& parent_path, const std::string& name, const std::string& tensor,
                    const Expected& expected) {
  const std::string path = join(parent_path, name);
  Id d = open_child(parent, parent_path, name, Want::dataset);
  if (!d) fail(quoted(path) + " is missing");
  Id space(H5Dget_space(d.get()), H5Sclose, "cannot read the dataspace of " + quoted(path));
  const H5S_class_t sc = H5Sget_simple_extent_type(space.get());
  if (sc == H5S_NULL) fail(quoted(path) + " holds no values (a null dataspace)");
  if (sc != H5S_SIMPLE && sc != H5S_SCALAR) fail(quoted(path) + " has an unknown dataspace");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > H5S_MAX_RANK) fail(quoted(path) + " has an unreadable rank");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
    fail("cannot read the shape of " + quoted(path) + ": " + hdf5_error());
  Tensor t;
  t.name = tensor;
  for (hsize_t v : dims) {
    if (v > static_cast<hsize_t>(std::numeric_limits<int64_t>::max()))
      fail(quoted(path) + " declares a dimension of " + std::to_string(v));
    t.shape.push_back(static_cast<int64_t>(v));
  }
  const auto it = expected.find(tensor);
  if (it == expected.end() || it->second != t.shape) return t;  // reported by the matching
  const uint64_t count = checked_elements(t.shape, std::numeric_limits<uint32_t>::max(), quoted(path));
  Id type(H5Dget_type(d.get()), H5Tclose, "cannot read the type of " + quoted(path));
  auto [dtype, mem] = float_type(type.get(), path);
  const size_t bytes = static_cast<size_t>(count) * dtype_size(dtype);
  check_storage(d.get(), path, dims, bytes);
  std::vector<char> raw(bytes);
  if (bytes > 0)
    check(H5Dread(d.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), "cannot read " + quoted(path));
  t.values = decode_floats(raw.data(), static_cast<size_t>(count), dtype, quoted(path));
  return t;
}

// "kernel" of "dense/kernel:0".
std::string weight_base(const std::string& component) {
  const auto colon = component.rfind(':');
  if (colon != std::string::npos && colon + 1 < component.size() &&
      component.find_first_not_of("0123456789", colon + 1) == std::string::npos)
    return component.substr(0, colon);
  return component;
}

std::vector<std::string> split_path(const std::string& s, const std::string& what) {
  std::vector<std::string> parts;
  size_t at = 0;
  while (true) {
    const auto slash = s.find('/', at);
    parts.push_back(s.substr(at, slash == std::string::npos ? std::string::npos : slash - at));
    if (parts.back().empty() || parts.back() == ".")
      fail(what + " is not a relative path of groups and a dataset: '" + s + "'");
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  return parts;
}

// One Keras 2 layer group: its weight_names and the datasets they name.
void read_keras2_layer(const Context& cx, hid_t group, const std::string& path, const std::string& layer,
                       Ancestors ancestors, const Expected& expected, std::vector<Tensor>& out) {
  const auto names = read_names(cx, group, path, "weight_names").value_or(std::vector<std::string>{});
  for (const auto& w : names) {
    const auto parts = split_path(w, "the weight name of layer '" + layer + "'");
    // The groups on the way, each a plain group and no ancestor again.
    std::vector<Id> held;
    hid_t at = group;
    std::string at_path = path;
    Ancestors chain = ancestors;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      Id g = open_child(at, at_path, parts[i], Want::group, &chain);
      if (!g)
        fail(quoted(path) + " lists the weight '" + w + "' but holds no group " + quoted(join(at_path, parts[i])));
      at_path = join(at_path, parts[i]);
      chain.emplace_back(identity(g.get(), at_path), at_path);
      at = g.get();
      held.push_back(std::move(g));
    }
    if (H5Lexists(at, parts.back().c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      fail(quoted(path) + " lists the weight '" + w + "' but holds no dataset " + quoted(join(at_path, parts.back())));
    }
    out.push_back(read_dataset(at, at_path, parts.back(), layer + "/" + weight_base(parts.back()), expected));
  }
}

void read_keras2(const Context& cx, hid_t group, const std::string& path, Ancestors ancestors, const Expected& expected,
                 std::vector<Tensor>& out) {
  const auto layers = read_names(cx, group, path, "layer_names");
  if (!layers) fail(quoted(path) + " has no attribute 'layer_names': it is no Keras weights group");
  std::map<std::string, bool> seen;
  for (const auto& layer : *layers) {
    if (!seen.emplace(layer, true).second) fail(quoted(path) + " lists the layer '" + layer + "' twice");
    Id g = open_child(group, path, layer, Want::group, &ancestors);
    if (!g) fail(quoted(path) + " lists the layer '" + layer + "' but holds no group of that name");
    const std::string lpath = join(path, layer);
    Ancestors chain = ancestors;
    chain.emplace_back(identity(g.get(), lpath), lpath);
    read_keras2_layer(cx, g.get(), lpath, layer, chain, expected, out);
  }
  // Keras 3's legacy writer adds the model's own weights (none for a
  // Sequential); any there are extra.
  if (!seen.count("top_level_model_weights"))
    if (Id g = open_child(group, path, "top_level_model_weights", Want::group, &ancestors)) {
      const std::string lpath = join(path, "top_level_model_weights");
      Ancestors chain = ancestors;
      chain.emplace_back(identity(g.get(), lpath), lpath);
      read_keras2_layer(cx, g.get(), lpath, "top_level_model_weights", chain, expected, out);
    }
}

// The architecture's layers that have parameters, by kind: Keras 3 names
// them by class and rank ("dense", "dense_1"; "conv2d", "conv2d_1").
struct Kinds {
  std::vector<std::string> dense, conv2d;
};

Kinds layer_kinds(std::span<const TensorSpec> layout) {
  Kinds k;
  for (const auto& spec : layout) {
    const auto slash = spec.name.rfind('/');
    if (slash == std::string::npos || spec.name.compare(slash, std::string::npos, "/kernel") != 0) continue;
    const std::string layer = spec.name.substr(0, slash);
    if (spec.shape.size() == 2) k.dense.push_back(layer);
    if (spec.shape.size() == 4) k.conv2d.push_back(layer);
  }
  return k;
}

// "dense_2" -> {"dense", 2}; "dense" -> {"dense", 0}.
std::pair<std::string, size_t> class_and_rank(const std::string& g) {
  const auto under = g.rfind('_');
  if (under != std::string::npos && under + 1 < g.size() && under + 8 > g.size() - 1 &&
      g.find_first_not_of("0123456789", under + 1) == std::string::npos && g[under + 1] != '0')
    return {g.substr(0, under), std::stoul(g.substr(under + 1))};
  return {g, 0};
}

void read_keras3(hid_t root, std::span<const TensorSpec> layout, const Expected& expected, std::vector<Tensor>& out,
                 std::string& mapping) {
  Ancestors ancestors{{identity(root, "/"), "/"}};
  Id layers = open_child(root, "/", "layers", Want::group, &ancestors);
  ancestors.emplace_back(identity(layers.get(), "/layers"), "/layers");
  const Kinds kinds = layer_kinds(layout);
  for (const auto& g : child_names(layers.get(), "/layers")) {
    const std::string gpath = "/layers/" + g;
    Id lg = open_child(layers.get(), "/layers", g, Want::group, &ancestors);
    Ancestors chain = ancestors;
    chain.emplace_back(identity(lg.get(), gpath), gpath);
    Id vars = open_child(lg.get(), gpath, "vars", Want::group, &chain);
    if (!vars) continue;  // a layer without variables (Keras >= 3.6 writes none)
    const std::string vpath = gpath + "/vars";
    const auto [cls, rank] = class_and_rank(g);
    std::string layer;
    if (cls == "dense" && rank < kinds.dense.size()) layer = kinds.dense[rank];
    if (cls == "conv2d" && rank < kinds.conv2d.size()) layer = kinds.conv2d[rank];
    const auto vnames = child_names(vars.get(), vpath);
    if (!layer.empty() && !vnames.empty()) mapping += "\n  " + gpath + " is layer '" + layer + "'";
    for (const auto& v : vnames) {
      std::string tensor = "layers/" + g + "/vars/" + v;
      if (!layer.empty() && v == "0") tensor = layer + "/kernel";
      if (!layer.empty() && v == "1") tensor = layer + "/bias";
      out.push_back(read_dataset(vars.get(), vpath, v, tensor, expected));
    }
  }
}

enum class Layout { keras2_weights, keras2_model, keras3 };

// The caller's bytes as the core driver's file image, neither copied nor
// freed (H5LTopen_file_image does the same, but leaks its own bookkeeping
// and clears the error stack on failure). A read-only file never asks for
// more: any real copy or resize is refused.
struct Image {
  const char* data;
  size_t size;
};

void* image_malloc(size_t size, H5FD_file_image_op_t, void* udata) {
  auto* im = static_cast<Image*>(udata);
  return size == im->size ? const_cast<char*>(im->data) : nullptr;
}
void* image_memcpy(void* dest, const void* src, size_t size, H5FD_file_image_op_t, void* udata) {
  auto* im = static_cast<Image*>(udata);
  return dest == im->data && src == im->data && size == im->size ? dest : nullptr;
}
void* image_realloc(void*, size_t, H5FD_file_image_op_t, void*) { return nullptr; }
herr_t image_free(void*, H5FD_file_image_op_t, void*) { return 0; }
void* udata_copy(void* udata) { return udata; }
herr_t udata_free(void*) { return 0; }

// `image` must outlive the file.
Id open_image(Image& image) {
  if (!is_hdf5({image.data, image.size})) fail("not an HDF5 file (no HDF5 signature at its start)");
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "cannot make a file access list");
  H5FD_file_image_callbacks_t callbacks{image_malloc, image_memcpy, image_realloc, image_free,
                                        udata_copy,   udata_free,   &image};
  check(H5Pset_fapl_core(fapl.get(), 1 << 16, 0), "cannot use the core driver");
  check(H5Pset_file_image_callbacks(fapl.get(), &callbacks), "cannot set the file image callbacks");
  check(H5Pset_file_image(fapl.get(), const_cast<char*>(image.data), image.size), "cannot set the file image");
  // The core driver first checks that no file of that name exists (and would
  // refuse if one did): a path that can never be one.
  const hid_t f = H5Fopen("/dev/null/fedhub-keras-h5-image", H5F_ACC_RDONLY, fapl.get());
  if (f < 0) fail("libhdf5 cannot open it (truncated or damaged?): " + hdf5_error());
  return Id(f, H5Fclose, "cannot open the file");
}

Layout detect(hid_t root) {
  if (has_names(root, "layer_names")) return Layout::keras2_weights;
  if (H5Lexists(root, "model_weights", H5P_DEFAULT) > 0) return Layout::keras2_model;
  if (H5Lexists(root, "layers", H5P_DEFAULT) > 0) return Layout::keras3;
  H5Eclear2(H5E_DEFAULT);
  fail(
      "holds no Keras weights: no attribute 'layer_names' (Keras 2's save_weights), no group 'model_weights' "
      "(model.save to .h5) and no group 'layers' (Keras 3's .weights.h5)");
}

const char* layout_name(Layout l) {
  switch (l) {
    case Layout::keras2_weights:
      return "keras 2 .h5 (save_weights)";
    case Layout::keras2_model:
      return "keras 2 .h5 (model.save)";
    case Layout::keras3:
      return "keras 3 .weights.h5";
  }
  return "";
}

}  // namespace

bool is_hdf5(std::span<const char> bytes) {
  return bytes.size() >= 8 && std::memcmp(bytes.data(), "\x89HDF\r\n\x1a\n", 8) == 0;
}

std::string keras_h5_layout(std::span<const char> file) {
  Quiet quiet;
  Image image{file.data(), file.size()};
  Id f = open_image(image);
  Id root(H5Gopen2(f.get(), "/", H5P_DEFAULT), H5Gclose, "cannot open the root group");
  return layout_name(detect(root.get()));
}

namespace {

Weights read_here(std::span<const char> file, std::span<const TensorSpec> layout) {
  Quiet quiet;
  const Context cx{file};
  Expected expected;
  for (const auto& spec : layout) expected[spec.name] = spec.shape;
  std::vector<Tensor> tensors;
  std::string mapping;
  Layout which;
  {
    Image image{file.data(), file.size()};
    Id f = open_image(image);
    Id root(H5Gopen2(f.get(), "/", H5P_DEFAULT), H5Gclose, "cannot open the root group");
    which = detect(root.get());
    const Ancestors ancestors{{identity(root.get(), "/"), "/"}};
    if (which == Layout::keras2_weights) {
      read_keras2(cx, root.get(), "/", ancestors, expected, tensors);
    } else if (which == Layout::keras2_model) {
      Id mw = open_child(root.get(), "/", "model_weights", Want::group, &ancestors);
      Ancestors chain = ancestors;
      chain.emplace_back(identity(mw.get(), "/model_weights"), "/model_weights");
      read_keras2(cx, mw.get(), "/model_weights", chain, expected, tensors);
    } else {
      read_keras3(root.get(), layout, expected, tensors, mapping);
    }
  }
  try {
    return match_weights(std::move(tensors), layout, KernelLayout::keras);
  } catch (const std::runtime_error& e) {
    std::string text = std::string(layout_name(which)) + ": " + e.what();
    if (which == Layout::keras3)
      text +=
          "\n  (Keras 3 names a layer's group by its class and rank among the layers of that class, "
          "vars/0 its kernel and vars/1 its bias" +
          std::string(mapping.empty() ? "; this file has no dense or conv2d layer the architecture has)"
                                      : "; in this file:" + mapping + ")");
    throw std::runtime_error(text);
  }
}

// The child's side: no system call but writing to `fd`, allocating memory,
// and ending (anything else fails with EPERM: libhdf5 cannot open a file,
// a socket or a process); sigaltstack too, which the sanitizers' runtimes
// query. Where seccomp is unavailable the child reads
// unrestricted, still in its own process.
void restrict_to(int fd) {
#if defined(__x86_64__) || defined(__aarch64__)
#if defined(__x86_64__)
  constexpr uint32_t arch = AUDIT_ARCH_X86_64;
#else
  constexpr uint32_t arch = AUDIT_ARCH_AARCH64;
#endif
  std::vector<sock_filter> f;
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  // write(fd, ...) only to the pipe.
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 4));
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])));
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(fd), 1, 0));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  for (const long nr : {SYS_brk, SYS_mmap, SYS_munmap, SYS_mremap, SYS_madvise, SYS_mprotect, SYS_close, SYS_exit,
                        SYS_exit_group, SYS_rt_sigreturn, SYS_rt_sigprocmask, SYS_futex, SYS_gettid, SYS_getpid,
                        SYS_tgkill, SYS_clock_gettime, SYS_gettimeofday, SYS_sigaltstack}) {
    f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1));
    f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  }
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
  const sock_fprog program{static_cast<unsigned short>(f.size()), f.data()};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program);
#else
  (void)fd;
#endif
}

bool write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

constexpr size_t kMaxMessage = 1 << 20;

// In the child: the answer on `fd`, 'W' and the values of every tensor of
// `layout` in order, or 'E', a length and the message. Never returns.
[[noreturn]] void answer(int fd, std::span<const char> file, std::span<const TensorSpec> layout, void (*in_child)()) {
  // A crash ends the child with its signal, whatever handlers the parent
  // had (a test framework's, a sanitizer's), for the parent to name.
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) std::signal(sig, SIG_DFL);
  restrict_to(fd);
  if (in_child) in_child();
  bool ok = true;
  try {
    const Weights w = read_here(file, layout);
    ok = write_all(fd, "W", 1);
    for (const auto& t : w) ok = ok && write_all(fd, t.values.data(), t.values.size() * sizeof(float));
  } catch (const std::exception& e) {
    const std::string text = std::string(e.what()).substr(0, kMaxMessage);
    const uint64_t n = text.size();
    ok = write_all(fd, "E", 1) && write_all(fd, &n, sizeof n) && write_all(fd, text.data(), text.size());
  }
  ::_exit(ok ? 0 : 3);
}

// Everything the child wrote, at most `limit` bytes (more is an error).
std::string read_answer(int fd, size_t limit, bool& too_long) {
  std::string out;
  char buf[1 << 16];
  too_long = false;
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() + static_cast<size_t>(n) > limit) {
      too_long = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Weights read_isolated(std::span<const char> file, std::span<const TensorSpec> layout, void (*in_child)()) {
  uint64_t values = 0;
  for (const auto& spec : layout) values += static_cast<uint64_t>(element_count(spec.shape));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    fail(std::string("cannot make a pipe to the reading process: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int saved = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    fail(std::string("cannot start the reading process: ") + std::strerror(saved));
  }
  if (pid == 0) {
    ::close(fds[0]);
    answer(fds[1], file, layout, in_child);
  }
  ::close(fds[1]);
  bool too_long = false;
  const std::string got =
      read_answer(fds[0], 1 + std::max<uint64_t>(values * sizeof(float), 8 + kMaxMessage), too_long);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const char* damaged = ": a damaged or hostile file";
  if (WIFSIGNALED(status))
    fail(std::string("the reading process (libhdf5) crashed on it (signal ") + std::to_string(WTERMSIG(status)) + ": " +
         strsignal(WTERMSIG(status)) + ")" + damaged);
  if (too_long || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || got.empty())
    fail("the reading process (libhdf5) ended without an answer (exit status " +
         std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")" + damaged);
  if (got[0] == 'E') {
    uint64_t n = 0;
    if (got.size() < 9) fail("the reading process (libhdf5) gave a broken answer");
    std::memcpy(&n, got.data() + 1, 8);
    if (n != got.size() - 9) fail("the reading process (libhdf5) gave a broken answer");
    fail(got.substr(9));
  }
  if (got[0] != 'W' || got.size() != 1 + values * sizeof(float))
    fail("the reading process (libhdf5) gave a broken answer");
  Weights w;
  size_t at = 1;
  for (const auto& spec : layout) {
    Tensor t{spec.name, spec.shape, std::vector<float>(static_cast<size_t>(element_count(spec.shape)))};
    std::memcpy(t.values.data(), got.data() + at, t.values.size() * sizeof(float));
    at += t.values.size() * sizeof(float);
    w.push_back(std::move(t));
  }
  return w;
}

}  // namespace

Weights read_keras_h5(std::span<const char> file, std::span<const TensorSpec> layout, const KerasH5Options& options) {
  return options.separate_process ? read_isolated(file, layout, options.in_child) : read_here(file, layout);
}

}  // namespace fedhub::formats
