#include "engine/data/image_folder.h"

#include <stb_image.h>  // implementation linked from libstb (Debian libstb-dev)

#include <algorithm>
#include <cctype>
#include <climits>
#include <filesystem>
#include <memory>

#include "engine/data/file_io.h"
#include "engine/data/resize.h"

namespace qat {

namespace fs = std::filesystem;

namespace {

struct StbiFree {
  void operator()(stbi_uc* p) const { stbi_image_free(p); }
};

bool isImageFile(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name.front() == '.';
}

std::string stbReason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown reason";
}

// Size of an image from its header only (no decoding).
Status probeSize(const std::string& path, int& w, int& h) {
  auto bytes = readFileBytes(path);
  if (!bytes) return bytes.error();
  if (bytes->size() > size_t(INT_MAX)) return makeError(path + ": image file is too large.");
  int comp = 0;
  if (!stbi_info_from_memory(bytes->data(), int(bytes->size()), &w, &h, &comp))
    return makeError(path + ": cannot read the image (" + stbReason() + "); is it a valid PNG or JPEG?");
  return {};
}

// Decodes `path` into dst (outH, outW, channels) with values 0..255. `scratch` holds
// the float copy of the decoded image when it must be resized.
Status decodeInto(const std::string& path, int channels, int outH, int outW, float* dst, std::vector<float>& scratch) {
  auto bytes = readFileBytes(path);
  if (!bytes) return bytes.error();
  if (bytes->size() > size_t(INT_MAX)) return makeError(path + ": image file is too large.");
  int w = 0, h = 0, comp = 0;
  std::unique_ptr<stbi_uc, StbiFree> pixels(
      stbi_load_from_memory(bytes->data(), int(bytes->size()), &w, &h, &comp, channels));
  if (!pixels)
    return makeError(path + ": cannot decode the image (" + stbReason() + "); the file is damaged or not a PNG/JPEG.");
  const size_t c = size_t(channels);
  const size_t count = size_t(w) * size_t(h) * c;
  if (w == outW && h == outH) {
    for (size_t i = 0; i < count; ++i) dst[i] = float(pixels.get()[i]);
    return {};
  }
  scratch.resize(count);
  for (size_t i = 0; i < count; ++i) scratch[i] = float(pixels.get()[i]);
  resizeBilinear(scratch.data(), h, w, channels, dst, outH, outW);
  return {};
}

Status checkOptions(const std::string& what, int channels, int height, int width) {
  if (channels != 1 && channels != 3)
    return makeError(what + ": images can be read with 1 (grey) or 3 (RGB) channels, not " + std::to_string(channels) + ".");
  if (height < 0 || width < 0 || (height == 0) != (width == 0) || height > 65536 || width > 65536)
    return makeError(what + ": target image size " + std::to_string(height) + "x" + std::to_string(width) +
                     " is invalid; give both height and width (or neither to keep the images' size).");
  return {};
}

}  // namespace

Expected<Tensor> loadImage(const std::string& path, int channels, int height, int width, const Normalization& norm) {
  QAT_TRY(checkOptions(path, channels, height, width));
  int w = 0, h = 0;
  QAT_TRY(probeSize(path, w, h));
  if (height == 0) height = h, width = w;
  Tensor x(Shape{1, height, width, channels});
  std::vector<float> scratch;
  QAT_TRY(decodeInto(path, channels, height, width, x.data(), scratch));
  QAT_TRY(applyNormalization(x, norm, path));
  return x;
}

Expected<Dataset> loadImageFolder(const std::string& root, const ImageFolderOptions& opt) {
  QAT_TRY(checkOptions(root, opt.channels, opt.height, opt.width));
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return makeError(root + ": folder not found; expected root/<class name>/*.png|jpg.");

  // Class folders sorted by name, then their image files sorted by name.
  std::vector<fs::path> classDirs;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec) && !hidden(it->path())) classDirs.push_back(it->path());
  if (ec) return makeError(root + ": cannot list the folder (" + ec.message() + ").");
  std::sort(classDirs.begin(), classDirs.end());
  if (classDirs.empty())
    return makeError(root + ": contains no class folders; put the images in root/<class name>/ folders.");

  Dataset d;
  std::vector<std::string> files;
  for (size_t k = 0; k < classDirs.size(); ++k) {
    std::vector<std::string> inClass;
    for (fs::directory_iterator it(classDirs[k], ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec) && !hidden(it->path()) && isImageFile(it->path()))
        inClass.push_back(it->path().string());
    if (ec) return makeError(classDirs[k].string() + ": cannot list the folder (" + ec.message() + ").");
    std::sort(inClass.begin(), inClass.end());
    for (auto& f : inClass) {
      files.push_back(std::move(f));
      d.labels.push_back(int(k));
    }
    d.classNames.push_back(classDirs[k].filename().string());
  }
  if (files.empty())
    return makeError(root + ": the class folders contain no .png, .jpg or .jpeg files.");
  if (files.size() > size_t(INT_MAX)) return makeError(root + ": too many images.");

  int height = opt.height, width = opt.width;
  if (height == 0) {
    // No target size: every image must have the first image's size.
    int w0 = 0, h0 = 0;
    QAT_TRY(probeSize(files[0], w0, h0));
    for (size_t i = 1; i < files.size(); ++i) {
      int w = 0, h = 0;
      QAT_TRY(probeSize(files[i], w, h));
      if (w != w0 || h != h0)
        return makeError(root + ": images have different sizes: " + files[0] + " is " + std::to_string(w0) + "x" +
                         std::to_string(h0) + " but " + files[i] + " is " + std::to_string(w) + "x" + std::to_string(h) +
                         " (width x height); set a target size to resize them all.");
    }
    height = h0;
    width = w0;
  }
  const size_t n = files.size();
  const size_t per = size_t(height) * size_t(width) * size_t(opt.channels);
  if (per > (size_t(1) << 40) / n) return makeError(root + ": the images would need too much memory.");
  try {
    d.x = Tensor(Shape{int(n), height, width, opt.channels});
  } catch (const std::bad_alloc&) {
    return makeError(root + ": not enough memory for " + formatBytes(uint64_t(n * per) * 4) + " of images.");
  }

  // Decoding is independent per file. stb_image keeps its failure reason per thread
  // (libstb is built with thread-local storage), so parallel decoding is safe; errors
  // are collected per file and the first one in file order is reported.
  std::vector<std::string> errors(n);
  float* x = d.x.data();
  const long long count = static_cast<long long>(n);
#pragma omp parallel
  {
    std::vector<float> scratch;
#pragma omp for schedule(dynamic, 16)
    for (long long i = 0; i < count; ++i) {
      try {
        const Status s = decodeInto(files[size_t(i)], opt.channels, height, width, x + size_t(i) * per, scratch);
        if (!s) errors[size_t(i)] = s.error().message;
      } catch (const std::bad_alloc&) {  // an exception must not leave the parallel region
        errors[size_t(i)] = files[size_t(i)] + ": not enough memory to decode the image.";
      }
    }
  }
  for (const std::string& e : errors)
    if (!e.empty()) return makeError(e);

  QAT_TRY(applyNormalization(d.x, opt.norm, root));
  d.numClasses = int(d.classNames.size());
  d.source = root;
  QAT_TRY(validateDataset(d));
  return d;
}

}  // namespace qat
