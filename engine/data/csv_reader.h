#pragma once
// CSV tables: every column except the label column is a numeric feature, giving
// x (N, features). The label column holds integers (class indices), other strings
// (class names, mapped to indices in sorted order and kept in classNames), or real
// numbers (regression targets). Quoted fields ("a, b", "say ""hi""") and CRLF line ends
// are understood; blank lines are skipped. A bad cell is reported with its line and
// column, e.g. "iris.csv line 7, column 3 ('petal_width'): 'abc' is not a number".
#include <string>

#include "engine/core/error.h"
#include "engine/data/dataset.h"

namespace qat {

struct CsvOptions {
  enum class Header { Auto, Present, Absent };
  // The label column by header name (implies a header row) ...
  std::string labelColumn;
  // ... or, when labelColumn is empty, by 0-based index; negative counts from the end
  // (-1 = last column).
  int labelIndex = -1;
  // Auto: the first row is a header when one of its feature cells is not a number.
  Header header = Header::Auto;
  char delimiter = ',';
  // Auto: whole numbers >= 0 -> class indices; other numbers -> float targets (N, 1);
  // anything else -> class names. ClassIndex: never float targets (non-index values
  // become class names). Float: every label must be a number.
  TargetKind targetKind = TargetKind::Auto;
  Normalization norm;  // applied to x; MeanStd works per feature column
};

Expected<Dataset> loadCsv(const std::string& path, const CsvOptions& options = {});

}  // namespace qat
