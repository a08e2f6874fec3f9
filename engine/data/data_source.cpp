#include "engine/data/data_source.h"

#include <filesystem>

#include "engine/data/csv_reader.h"
#include "engine/data/hdf5_reader.h"
#include "engine/data/idx_reader.h"
#include "engine/data/image_folder.h"
#include "engine/data/npy.h"
#include "engine/data/npz_reader.h"

namespace qat {
namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "a,b" -> {a, b}; error naming the form when there are not exactly two parts.
Expected<std::pair<std::string, std::string>> twoPaths(const std::string& rest, const std::string& form) {
  const auto comma = rest.find(',');
  if (comma == std::string::npos || rest.find(',', comma + 1) != std::string::npos)
    return makeError("Expected the data set as '" + form + "', got '" + rest + "'.");
  return std::pair{rest.substr(0, comma), rest.substr(comma + 1)};
}

Expected<Normalization> normalizationFor(const std::string& mode) {
  if (mode == "scale01") return Normalization::scale01();
  if (mode == "none" || mode == "meanstd") return Normalization::none();  // meanstd: after loading
  return makeError("Unknown normalisation '" + mode + "': use scale01, none or meanstd.");
}

Expected<Dataset> loadOne(const std::string& kind, const std::string& rest, const DataSourceOptions& o,
                          const Normalization& norm) {
  if (kind == "idx") {
    auto p = twoPaths(rest, "idx:IMAGES,LABELS");
    if (!p.ok()) return p.error();
    return loadIdx(p->first, p->second, norm);
  }
  if (kind == "npy") {
    auto p = twoPaths(rest, "npy:X.npy,Y.npy");
    if (!p.ok()) return p.error();
    return loadNpyDataset(p->first, p->second, norm);
  }
  if (kind == "npz")
    return loadNpzDataset(rest, o.xName.empty() ? "x" : o.xName, o.yName.empty() ? "y" : o.yName, norm);
  if (kind == "h5")
    return loadHdf5Dataset(rest, o.xName.empty() ? "x" : o.xName, o.yName.empty() ? "y" : o.yName, norm);
  if (kind == "csv") {
    CsvOptions c;
    c.norm = norm.kind == Normalization::Scale01 ? Normalization::none() : norm;  // CSV values are not pixels
    if (!o.labelColumn.empty()) {
      char* end = nullptr;
      const long idx = std::strtol(o.labelColumn.c_str(), &end, 10);
      if (*end == '\0') c.labelIndex = static_cast<int>(idx);
      else c.labelColumn = o.labelColumn;
    }
    return loadCsv(rest, c);
  }
  if (kind == "images") {
    ImageFolderOptions io;
    io.norm = norm;
    if (o.inputShape.rank() == 3) {
      io.height = o.inputShape[0];
      io.width = o.inputShape[1];
      io.channels = o.inputShape[2];
    }
    return loadImageFolder(rest, io);
  }
  return makeError("Unknown data set kind '" + kind + "'. " + dataSourceHelp());
}

}  // namespace

std::string dataSourceHelp() {
  return "fashion-mnist | idx:IMAGES,LABELS | npy:X.npy,Y.npy | npz:FILE.npz | h5:FILE.h5 | "
         "csv:FILE.csv | images:DIR";
}

Expected<LoadedDataSource> loadDataSource(const std::string& spec, const DataSourceOptions& o) {
  auto norm = normalizationFor(o.normalize);
  if (!norm.ok()) return norm.error();
  LoadedDataSource out;
  if (spec == "fashion-mnist") {
    auto train = loadFashionMnist(QAT_FASHION_MNIST_DIR, true, *norm);
    if (!train.ok()) return train.error();
    auto test = loadFashionMnist(QAT_FASHION_MNIST_DIR, false, *norm);
    if (!test.ok()) return test.error();
    out.train = std::move(train.value());
    out.test = std::move(test.value());
  } else {
    std::string kind, rest = spec;
    if (const auto colon = spec.find(':'); colon != std::string::npos && colon > 1) {
      kind = spec.substr(0, colon);
      rest = spec.substr(colon + 1);
    } else if (endsWith(spec, ".npz")) {
      kind = "npz";
    } else if (endsWith(spec, ".h5") || endsWith(spec, ".hdf5")) {
      kind = "h5";
    } else if (endsWith(spec, ".csv")) {
      kind = "csv";
    } else if (std::filesystem::is_directory(spec)) {
      kind = "images";
    } else {
      return makeError("Cannot tell what kind of data set '" + spec + "' is. Use one of: " +
                       dataSourceHelp() + ".");
    }
    auto d = loadOne(kind, rest, o, *norm);
    if (!d.ok()) return d.error();
    out.train = std::move(d.value());
  }
  if (o.normalize == "meanstd") {
    // Statistics of the training data, applied to both splits.
    auto ms = computeMeanStd(out.train.x);
    if (!ms.ok()) return ms.error();
    QAT_TRY(applyNormalization(out.train.x, *ms, out.train.source));
    if (out.test) QAT_TRY(applyNormalization(out.test->x, *ms, out.test->source));
  }
  return out;
}

}  // namespace qat
