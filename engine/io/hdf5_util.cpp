#include "engine/io/hdf5_util.h"
#include "engine/io/hdf5_internal.h"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <type_traits>

namespace qat::h5 {

static_assert(std::is_same_v<hid_t, int64_t>, "hdf5_util.h assumes hid_t is int64_t (HDF5 >= 1.10)");

// HDF5 prints its error stack to stderr by default; we report errors ourselves. The
// setting is per thread in thread-safe builds, so every entry point calls this.
void silence() {
  thread_local bool done = false;
  if (!done) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    done = true;
  }
}

namespace {

struct StackTop {
  std::string minor, desc;
  bool found = false;
};

herr_t firstError(unsigned, const H5E_error2_t* e, void* data) {
  auto* top = static_cast<StackTop*>(data);
  if (top->found) return 0;
  top->found = true;
  char buf[256] = {0};
  H5E_type_t type;
  if (H5Eget_msg(e->min_num, &type, buf, sizeof buf) > 0) top->minor = buf;
  if (e->desc) top->desc = e->desc;
  return 0;
}

}  // namespace

std::string hdf5Detail() {
  StackTop top;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, firstError, &top);
  H5Eclear2(H5E_DEFAULT);
  if (!top.found) return {};
  std::string msg = top.minor;
  if (!top.desc.empty() && top.desc.size() < 160 && top.desc != top.minor)
    msg += (msg.empty() ? "" : ": ") + top.desc;
  return msg.empty() ? std::string() : " (HDF5: " + msg + ")";
}

namespace {

std::string joinPath(const std::string& base, const std::string& child) {
  if (child.empty()) return base;
  if (base.empty() || base == "/") return "/" + child;
  return base + "/" + child;
}

std::vector<std::string> splitPath(const std::string& p) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    if (end > start) parts.push_back(p.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Link-creation property list that creates missing intermediate groups.
Handle intermediateGroupsLcpl() {
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  if (lcpl.valid() && H5Pset_create_intermediate_group(lcpl.get(), 1) < 0) return Handle();
  return lcpl;
}

constexpr uint64_t kMaxStringBytes = uint64_t(1) << 28;  // 256 MiB per attribute read
constexpr int kMaxDepth = 32;                            // group nesting when listing

}  // namespace

bool Handle::close() {
  if (id_ < 0) return true;
  silence();
  herr_t r = -1;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: r = H5Fclose(id_); break;
    case H5I_GROUP: r = H5Gclose(id_); break;
    case H5I_DATASET: r = H5Dclose(id_); break;
    case H5I_DATASPACE: r = H5Sclose(id_); break;
    case H5I_DATATYPE: r = H5Tclose(id_); break;
    case H5I_ATTR: r = H5Aclose(id_); break;
    case H5I_GENPROP_LST: r = H5Pclose(id_); break;
    default: break;  // already closed (e.g. by a strong file close): nothing to do
  }
  id_ = -1;
  return r >= 0;
}

void Handle::reset() {
  if (!close()) H5Eclear2(H5E_DEFAULT);
}

Error Group::error(const std::string& what, const std::string& child) const {
  return makeError(file_ + ": " + joinPath(path_, child) + ": " + what);
}

// ---------------------------------------------------------------- attributes (read)

bool Group::hasAttr(const std::string& name) const {
  silence();
  htri_t r = H5Aexists(h_.get(), name.c_str());
  if (r < 0) H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

namespace {

// Reads every element of a string attribute. Empty numeric arrays read as no strings.
Expected<std::vector<std::string>> readStrings(const Group& g, const std::string& name) {
  const std::string what = "attribute '" + name + "'";
  Handle attr(H5Aopen(g.id(), name.c_str(), H5P_DEFAULT));
  if (!attr.valid()) return g.error("cannot open " + what + hdf5Detail());
  Handle type(H5Aget_type(attr.get()));
  Handle space(H5Aget_space(attr.get()));
  if (!type.valid() || !space.valid()) return g.error("cannot read the type of " + what + hdf5Detail());
  const hssize_t npoints = H5Sget_simple_extent_npoints(space.get());
  if (npoints < 0) return g.error("cannot read the size of " + what + hdf5Detail());
  const auto n = static_cast<uint64_t>(npoints);
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
    if (n == 0) return std::vector<std::string>{};
    return g.error(what + " holds numbers, not strings");
  }
  if (cls != H5T_STRING) return g.error(what + " is not a string attribute");

  std::vector<std::string> out;
  const htri_t isVar = H5Tis_variable_str(type.get());
  if (isVar < 0) return g.error("cannot read the type of " + what + hdf5Detail());
  if (isVar > 0) {
    if (n > (uint64_t(1) << 24)) return g.error(what + " has an implausible size");
    Handle mem(H5Tcopy(H5T_C_S1));
    if (!mem.valid() || H5Tset_size(mem.get(), H5T_VARIABLE) < 0 ||
        H5Tset_cset(mem.get(), H5Tget_cset(type.get())) < 0)
      return g.error("cannot set up a string type for " + what + hdf5Detail());
    std::vector<char*> ptrs(n, nullptr);
    const herr_t r = H5Aread(attr.get(), mem.get(), ptrs.data());
    if (r >= 0) {
      out.reserve(n);
      for (char* p : ptrs) out.emplace_back(p ? p : "");
    }
    // Frees the strings the library allocated (H5Treclaim only exists from 1.12 on).
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
    if (r < 0) return g.error("cannot read " + what + hdf5Detail());
    return out;
  }
  const size_t size = H5Tget_size(type.get());
  if (size == 0) return g.error("cannot read the string size of " + what + hdf5Detail());
  if (n * size > kMaxStringBytes || n > kMaxStringBytes) return g.error(what + " is implausibly large");
  std::vector<char> buf(n * size + 1, '\0');
  if (H5Aread(attr.get(), type.get(), buf.data()) < 0) return g.error("cannot read " + what + hdf5Detail());
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    const char* s = buf.data() + i * size;
    out.emplace_back(s, strnlen(s, size));
  }
  return out;
}

}  // namespace

Expected<std::string> Group::stringAttr(const std::string& name) const {
  silence();
  auto v = readStrings(*this, name);
  if (!v.ok()) return v.error();
  if (v->size() != 1)
    return error("attribute '" + name + "' should hold one string, holds " + std::to_string(v->size()));
  return std::move(v->front());
}

Expected<std::vector<std::string>> Group::stringListAttr(const std::string& name) const {
  silence();
  if (hasAttr(name)) return readStrings(*this, name);
  // Split by Keras into name0, name1, ... (save_attributes_to_hdf5_group).
  std::vector<std::string> all;
  int chunk = 0;
  for (; hasAttr(name + std::to_string(chunk)); ++chunk) {
    auto part = readStrings(*this, name + std::to_string(chunk));
    if (!part.ok()) return part.error();
    all.insert(all.end(), std::make_move_iterator(part->begin()), std::make_move_iterator(part->end()));
  }
  if (chunk == 0) return error("attribute '" + name + "' is missing");
  return all;
}

// ---------------------------------------------------------------- objects (read)

bool Group::exists(const std::string& relPath) const {
  silence();
  std::string prefix;
  for (const std::string& part : splitPath(relPath)) {
    prefix += (prefix.empty() ? "" : "/") + part;
    const htri_t r = H5Lexists(h_.get(), prefix.c_str(), H5P_DEFAULT);
    if (r <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
  }
  return !prefix.empty();
}

bool Group::isGroup(const std::string& relPath) const {
  if (!exists(relPath)) return false;
  Handle obj(H5Oopen(h_.get(), relPath.c_str(), H5P_DEFAULT));
  if (!obj.valid()) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  return H5Iget_type(obj.get()) == H5I_GROUP;
}

Expected<Group> Group::group(const std::string& relPath) const {
  silence();
  if (!exists(relPath)) return error("group not found", relPath);
  Handle g(H5Gopen2(h_.get(), relPath.c_str(), H5P_DEFAULT));
  if (!g.valid()) return error("cannot open group" + hdf5Detail(), relPath);
  return Group(std::move(g), file_, joinPath(path_, relPath));
}

namespace {

// Opens a dataset and checks that it holds numbers; returns its (simple) shape.
Expected<std::vector<uint64_t>> openNumeric(const Group& g, const std::string& rel, Handle& ds) {
  if (!g.exists(rel)) return g.error("dataset not found", rel);
  ds = Handle(H5Dopen2(g.id(), rel.c_str(), H5P_DEFAULT));
  if (!ds.valid()) return g.error("cannot open dataset" + hdf5Detail(), rel);
  Handle type(H5Dget_type(ds.get()));
  if (!type.valid()) return g.error("cannot read the dataset's type" + hdf5Detail(), rel);
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER)
    return g.error("dataset does not hold numbers (HDF5 type class " + std::to_string(int(cls)) + ")", rel);
  Handle space(H5Dget_space(ds.get()));
  if (!space.valid()) return g.error("cannot read the dataset's shape" + hdf5Detail(), rel);
  const H5S_class_t sc = H5Sget_simple_extent_type(space.get());
  if (sc == H5S_SCALAR) return std::vector<uint64_t>{};
  if (sc != H5S_SIMPLE) return g.error("dataset has no data (null dataspace)", rel);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > H5S_MAX_RANK) return g.error("cannot read the dataset's rank" + hdf5Detail(), rel);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
    return g.error("cannot read the dataset's dimensions" + hdf5Detail(), rel);
  return std::vector<uint64_t>(dims.begin(), dims.end());
}

}  // namespace

Expected<std::vector<uint64_t>> Group::datasetShape(const std::string& relPath) const {
  silence();
  Handle ds;
  return openNumeric(*this, relPath, ds);
}

Status Group::readFloats(const std::string& relPath, float* dst, uint64_t count) const {
  silence();
  Handle ds;
  auto dims = openNumeric(*this, relPath, ds);
  if (!dims.ok()) return dims.error();
  uint64_t n = 1;
  for (uint64_t d : *dims) n *= d;
  if (n != count)
    return error("dataset holds " + std::to_string(n) + " values, expected " + std::to_string(count), relPath);
  if (n == 0) return {};
  if (H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
    return error("cannot read the dataset's values (file damaged or truncated?)" + hdf5Detail(), relPath);
  return {};
}

Status Group::readBytes(const std::string& relPath, uint8_t* dst, uint64_t count) const {
  silence();
  Handle ds;
  auto dims = openNumeric(*this, relPath, ds);
  if (!dims.ok()) return dims.error();
  Handle type(H5Dget_type(ds.get()));
  if (!type.valid()) return error("cannot read the dataset's type" + hdf5Detail(), relPath);
  if (H5Tget_class(type.get()) != H5T_INTEGER || H5Tget_size(type.get()) != 1)
    return error("dataset does not hold bytes (8-bit integers)", relPath);
  uint64_t n = 1;
  for (uint64_t d : *dims) n *= d;
  if (n != count)
    return error("dataset holds " + std::to_string(n) + " bytes, expected " + std::to_string(count), relPath);
  if (n == 0) return {};
  if (H5Dread(ds.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
    return error("cannot read the dataset's bytes (file damaged or truncated?)" + hdf5Detail(), relPath);
  return {};
}

namespace {

struct ListContext {
  std::string prefix;  // relative path of the group being listed
  std::vector<DatasetInfo>* out = nullptr;
  size_t* visited = nullptr;
  size_t maxObjects = 0;
  int depth = 0;
  std::string error;
};

herr_t listOne(hid_t gid, const char* name, const H5L_info_t* info, void* data) {
  auto* ctx = static_cast<ListContext*>(data);
  if (info->type != H5L_TYPE_HARD) return 0;  // soft/external links: not Keras data
  if (++*ctx->visited > ctx->maxObjects) {
    ctx->error = "more than " + std::to_string(ctx->maxObjects) + " objects";
    return -1;
  }
  const std::string rel = ctx->prefix.empty() ? name : ctx->prefix + "/" + name;
  Handle obj(H5Oopen(gid, name, H5P_DEFAULT));
  if (!obj.valid()) {
    ctx->error = "cannot open object '" + rel + "'" + hdf5Detail();
    return -1;
  }
  const H5I_type_t t = H5Iget_type(obj.get());
  if (t == H5I_GROUP) {
    if (ctx->depth >= kMaxDepth) {
      ctx->error = "groups nested deeper than " + std::to_string(kMaxDepth) + " levels at '" + rel + "'";
      return -1;
    }
    ListContext sub = *ctx;
    sub.prefix = rel;
    sub.depth = ctx->depth + 1;
    sub.error.clear();
    hsize_t idx = 0;
    if (H5Literate(obj.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, listOne, &sub) < 0) {
      ctx->error = sub.error.empty() ? "cannot list group '" + rel + "'" + hdf5Detail() : sub.error;
      return -1;
    }
  } else if (t == H5I_DATASET) {
    DatasetInfo d;
    d.path = rel;
    Handle type(H5Dget_type(obj.get()));
    Handle space(H5Dget_space(obj.get()));
    if (!type.valid() || !space.valid()) {
      ctx->error = "cannot read dataset '" + rel + "'" + hdf5Detail();
      return -1;
    }
    const H5T_class_t cls = H5Tget_class(type.get());
    d.numeric = cls == H5T_FLOAT || cls == H5T_INTEGER;
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > H5S_MAX_RANK) {
      ctx->error = "cannot read the shape of dataset '" + rel + "'" + hdf5Detail();
      return -1;
    }
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) {
      ctx->error = "cannot read the shape of dataset '" + rel + "'" + hdf5Detail();
      return -1;
    }
    d.dims.assign(dims.begin(), dims.end());
    ctx->out->push_back(std::move(d));
  }
  return 0;
}

}  // namespace

Expected<std::vector<DatasetInfo>> Group::listDatasets(size_t maxObjects) const {
  silence();
  std::vector<DatasetInfo> out;
  size_t visited = 0;
  ListContext ctx;
  ctx.out = &out;
  ctx.visited = &visited;
  ctx.maxObjects = maxObjects;
  hsize_t idx = 0;
  if (H5Literate(h_.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, listOne, &ctx) < 0)
    return error(ctx.error.empty() ? "cannot list group" + hdf5Detail() : ctx.error);
  return out;
}

// ---------------------------------------------------------------- writing

Expected<Group> Group::createGroup(const std::string& name) const {
  silence();
  Handle lcpl = intermediateGroupsLcpl();
  Handle g(H5Gcreate2(h_.get(), name.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!lcpl.valid() || !g.valid()) return error("cannot create group" + hdf5Detail(), name);
  return Group(std::move(g), file_, joinPath(path_, name));
}

namespace {

// Creates (replacing) attribute `name` of type `type` over `space` and writes `buf`.
Status writeAttr(const Group& g, const std::string& name, hid_t type, hid_t space, const void* buf) {
  if (H5Aexists(g.id(), name.c_str()) > 0 && H5Adelete(g.id(), name.c_str()) < 0)
    return g.error("cannot replace attribute '" + name + "'" + hdf5Detail());
  H5Eclear2(H5E_DEFAULT);
  Handle attr(H5Acreate2(g.id(), name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.valid()) return g.error("cannot create attribute '" + name + "'" + hdf5Detail());
  if (H5Awrite(attr.get(), type, buf) < 0) return g.error("cannot write attribute '" + name + "'" + hdf5Detail());
  if (!attr.close()) return g.error("cannot close attribute '" + name + "'" + hdf5Detail());
  return {};
}

Status writeFixedStrings(const Group& g, const std::string& name, const std::vector<std::string>& v,
                         size_t begin, size_t end, size_t width) {
  Handle type(H5Tcopy(H5T_C_S1));
  if (!type.valid() || H5Tset_size(type.get(), width) < 0 || H5Tset_strpad(type.get(), H5T_STR_NULLPAD) < 0)
    return g.error("cannot set up a string type for attribute '" + name + "'" + hdf5Detail());
  const hsize_t n = end - begin;
  Handle space(H5Screate_simple(1, &n, nullptr));
  if (!space.valid()) return g.error("cannot create a dataspace for '" + name + "'" + hdf5Detail());
  std::vector<char> buf(n * width, '\0');
  for (size_t i = begin; i < end; ++i) std::memcpy(buf.data() + (i - begin) * width, v[i].data(), v[i].size());
  return writeAttr(g, name, type.get(), space.get(), buf.data());
}

}  // namespace

Status Group::writeStringAttr(const std::string& name, const std::string& value) const {
  silence();
  Handle type(H5Tcopy(H5T_C_S1));
  if (!type.valid() || H5Tset_size(type.get(), H5T_VARIABLE) < 0 || H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0)
    return error("cannot set up a string type for attribute '" + name + "'" + hdf5Detail());
  Handle space(H5Screate(H5S_SCALAR));
  if (!space.valid()) return error("cannot create a dataspace for '" + name + "'" + hdf5Detail());
  const char* p = value.c_str();
  return writeAttr(*this, name, type.get(), space.get(), &p);
}

Status Group::writeStringListAttr(const std::string& name, const std::vector<std::string>& values) const {
  silence();
  if (values.empty()) {
    const hsize_t zero = 0;
    Handle space(H5Screate_simple(1, &zero, nullptr));
    if (!space.valid()) return error("cannot create a dataspace for '" + name + "'" + hdf5Detail());
    const double dummy = 0;
    return writeAttr(*this, name, H5T_IEEE_F64LE, space.get(), &dummy);
  }
  size_t width = 1;
  for (const std::string& s : values) width = std::max(width, s.size());
  if (width > kObjectHeaderLimit)
    return error("attribute '" + name + "' has an entry longer than " + std::to_string(kObjectHeaderLimit) +
                 " bytes, which HDF5 cannot store in an attribute");
  // Like Keras: the fewest chunks (np.array_split sizes) that each fit the limit.
  const size_t n = values.size();
  size_t chunks = 1;
  while (((n + chunks - 1) / chunks) * width > kObjectHeaderLimit) ++chunks;
  if (chunks == 1) return writeFixedStrings(*this, name, values, 0, n, width);
  size_t begin = 0;
  for (size_t c = 0; c < chunks; ++c) {
    const size_t len = n / chunks + (c < n % chunks ? 1 : 0);
    QAT_TRY(writeFixedStrings(*this, name + std::to_string(c), values, begin, begin + len, width));
    begin += len;
  }
  return {};
}

Status Group::writeFloats(const std::string& relPath, const std::vector<uint64_t>& dims,
                          const float* data) const {
  silence();
  std::vector<hsize_t> hd(dims.begin(), dims.end());
  Handle space(hd.empty() ? H5Screate(H5S_SCALAR)
                          : H5Screate_simple(static_cast<int>(hd.size()), hd.data(), nullptr));
  Handle lcpl = intermediateGroupsLcpl();
  if (!space.valid() || !lcpl.valid()) return error("cannot create a dataspace" + hdf5Detail(), relPath);
  Handle ds(H5Dcreate2(h_.get(), relPath.c_str(), H5T_IEEE_F32LE, space.get(), lcpl.get(), H5P_DEFAULT,
                       H5P_DEFAULT));
  if (!ds.valid()) return error("cannot create dataset" + hdf5Detail(), relPath);
  if (H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    return error("cannot write dataset" + hdf5Detail(), relPath);
  if (!ds.close()) return error("cannot close dataset" + hdf5Detail(), relPath);
  return {};
}

Status Group::writeBytes(const std::string& relPath, std::span<const uint8_t> bytes) const {
  silence();
  const hsize_t n = bytes.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  Handle lcpl = intermediateGroupsLcpl();
  if (!space.valid() || !lcpl.valid()) return error("cannot create a dataspace" + hdf5Detail(), relPath);
  Handle ds(H5Dcreate2(h_.get(), relPath.c_str(), H5T_STD_U8LE, space.get(), lcpl.get(), H5P_DEFAULT,
                       H5P_DEFAULT));
  if (!ds.valid()) return error("cannot create dataset" + hdf5Detail(), relPath);
  if (n > 0 && H5Dwrite(ds.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()) < 0)
    return error("cannot write dataset" + hdf5Detail(), relPath);
  if (!ds.close()) return error("cannot close dataset" + hdf5Detail(), relPath);
  return {};
}

// ---------------------------------------------------------------- files

Expected<File> File::openRead(const std::string& path) {
  silence();
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) return makeError(path + ": file not found");
  if (!std::filesystem::is_regular_file(st)) return makeError(path + ": not a regular file");
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size == 0) return makeError(path + ": the file is empty (0 bytes), not a Keras HDF5 model");
  const htri_t is = H5Fis_hdf5(path.c_str());
  if (is == 0)
    return makeError(path + ": not an HDF5 file (no HDF5 signature found); a Keras model saved with "
                            "model.save('model.h5') was expected");
  if (is < 0) return makeError(path + ": cannot read the file" + hdf5Detail());
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!f.valid()) return makeError(path + ": cannot open the HDF5 file (damaged or truncated?)" + hdf5Detail());
  return File(std::move(f), path);
}

Expected<File> File::create(const std::string& path) {
  silence();
  // H5F_CLOSE_SEMI: closing the file fails if an object is still open, so a writer
  // that forgot to close a dataset finds out instead of renaming an unflushed file.
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  if (!fapl.valid() || H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_SEMI) < 0)
    return makeError(path + ": cannot set up HDF5 file access" + hdf5Detail());
  Handle f(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()));
  if (!f.valid()) return makeError(path + ": cannot create the file" + hdf5Detail());
  return File(std::move(f), path);
}

Expected<File> File::openReadWrite(const std::string& path) {
  silence();
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  if (!fapl.valid() || H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_SEMI) < 0)
    return makeError(path + ": cannot set up HDF5 file access" + hdf5Detail());
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get()));
  if (!f.valid()) return makeError(path + ": cannot open the file for writing" + hdf5Detail());
  return File(std::move(f), path);
}

Expected<Group> File::root() const {
  silence();
  Handle g(H5Gopen2(h_.get(), "/", H5P_DEFAULT));
  if (!g.valid()) return makeError(path_ + ": cannot open the root group" + hdf5Detail());
  return Group(std::move(g), path_, "/");
}

Status File::close() {
  silence();
  if (!h_.valid()) return {};
  const ssize_t open = H5Fget_obj_count(h_.get(), H5F_OBJ_ALL & ~unsigned(H5F_OBJ_FILE));
  if (open > 0)
    return makeError(path_ + ": cannot close the file: " + std::to_string(open) +
                     " group(s) or dataset(s) of it are still open (a bug in the writer)");
  if (H5Fflush(h_.get(), H5F_SCOPE_LOCAL) < 0) {
    std::string d = hdf5Detail();
    h_.reset();
    return makeError(path_ + ": cannot flush the file to disk" + d);
  }
  if (!h_.close()) return makeError(path_ + ": cannot close the file" + hdf5Detail());
  return {};
}

}  // namespace qat::h5
