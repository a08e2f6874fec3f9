#pragma once
// A data set named by one string, as the CLI's --data and the studio's data chooser give it:
//   fashion-mnist                 Debian's dataset-fashion-mnist (train + test split)
//   idx:IMAGES,LABELS             IDX files, raw or .gz
//   npy:X.npy,Y.npy               two NumPy arrays
//   npz:FILE.npz                  arrays named by xName / yName
//   h5:FILE.h5                    HDF5 data sets named by xName / yName
//   csv:FILE.csv                  numeric columns + labelColumn (name or index)
//   images:DIR                    DIR/<class>/*.png|jpg, resized to the model input
// A bare path is recognised by its extension (.npz, .h5/.hdf5, .csv) or as a directory.
#include <optional>
#include <string>

#include "engine/core/tensor.h"
#include "engine/data/dataset.h"

namespace qat {

struct DataSourceOptions {
  std::string xName, yName;    // npz / h5
  std::string labelColumn;     // csv: header name or 0-based index ("-1" = last)
  std::string normalize = "scale01";  // scale01 | none | meanstd
  Shape inputShape;            // the model's per-sample input (H, W, C): images are resized
};

struct LoadedDataSource {
  Dataset train;
  std::optional<Dataset> test;  // when the source has its own test split
};

// Help text listing the accepted forms (for --help and tooltips).
std::string dataSourceHelp();

Expected<LoadedDataSource> loadDataSource(const std::string& spec, const DataSourceOptions& options);

}  // namespace qat
