#include "engine/data/csv_reader.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <map>
#include <string_view>

#include "engine/data/file_io.h"

namespace qat {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Whole cell as a finite float ("+1.5", " 2e-3 " accepted; "", "abc", "1x", "nan" not).
bool parseNumber(std::string_view cell, float& out) {
  cell = trim(cell);
  if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
  if (cell.empty()) return false;
  const auto r = std::from_chars(cell.data(), cell.data() + cell.size(), out);
  return r.ec == std::errc() && r.ptr == cell.data() + cell.size() && std::isfinite(out);
}

// Splits CSV text into records. Quoted fields may contain the delimiter, doubled quotes
// and line breaks; `line` counts physical lines so messages point at the right place.
class CsvCursor {
 public:
  CsvCursor(std::string_view text, char delim) : s_(text), delim_(delim) {
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // UTF-8 byte order mark
  }

  // Next record into `fields` (whose strings keep their capacity). False at the end.
  Expected<bool> next(std::vector<std::string>& fields, int& recordLine, const std::string& what) {
    if (pos_ >= s_.size()) return false;
    recordLine = line_;
    size_t count = 0;
    auto field = [&]() -> std::string& {
      if (fields.size() <= count) fields.emplace_back();
      return fields[count];
    };
    field().clear();
    bool inQuotes = false;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (inQuotes) {
        if (c == '"') {
          if (pos_ < s_.size() && s_[pos_] == '"') field() += '"', ++pos_;
          else inQuotes = false;
        } else {
          if (c == '\n') ++line_;
          field() += c;
        }
      } else if (c == delim_) {
        ++count;
        field().clear();
      } else if (c == '\n') {
        ++line_;
        fields.resize(count + 1);
        return true;
      } else if (c == '"' && trim(field()).empty()) {
        field().clear();
        inQuotes = true;
      } else {
        field() += c;
      }
    }
    if (inQuotes)
      return makeError(what + " line " + std::to_string(recordLine) +
                       ": a quoted field is never closed (missing '\"').");
    fields.resize(count + 1);
    return true;
  }

 private:
  std::string_view s_;
  char delim_;
  size_t pos_ = 0;
  int line_ = 1;
};

bool blankRecord(const std::vector<std::string>& f) { return f.size() == 1 && trim(f[0]).empty(); }

std::string cellRef(const std::string& what, int line, size_t col, const std::vector<std::string>& header) {
  std::string s = what + " line " + std::to_string(line) + ", column " + std::to_string(col + 1);
  if (col < header.size()) s += " ('" + std::string(trim(header[col])) + "')";
  return s;
}

}  // namespace

Expected<Dataset> loadCsv(const std::string& path, const CsvOptions& opt) {
  auto bytes = readFileBytes(path);
  if (!bytes) return bytes.error();
  CsvCursor cur(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), opt.delimiter);

  std::vector<std::string> fields, header;
  int line = 0;
  // First non-blank record: header or first data row.
  for (;;) {
    auto more = cur.next(fields, line, path);
    if (!more) return more.error();
    if (!*more) return makeError(path + ": the file is empty; expected rows of numbers and a label column.");
    if (!blankRecord(fields)) break;
  }
  const size_t columns = fields.size();
  if (columns < 2)
    return makeError(path + " line " + std::to_string(line) + ": found one column; a CSV data set needs feature "
                     "columns and a label column (is the delimiter '" + std::string(1, opt.delimiter) + "'?).");

  // Which column holds the label.
  size_t labelCol = 0;
  bool hasHeader;
  if (!opt.labelColumn.empty()) {
    if (opt.header == CsvOptions::Header::Absent)
      return makeError(path + ": the label column is given by name ('" + opt.labelColumn +
                       "') but the options say the file has no header row.");
    hasHeader = true;
    auto it = std::find_if(fields.begin(), fields.end(), [&](const std::string& f) { return trim(f) == opt.labelColumn; });
    if (it == fields.end()) {
      std::string list;
      for (const auto& f : fields) list += (list.empty() ? "'" : ", '") + std::string(trim(f)) + "'";
      return makeError(path + ": no column named '" + opt.labelColumn + "' in the header row; the columns are " + list + ".");
    }
    labelCol = size_t(it - fields.begin());
  } else {
    const long long idx = opt.labelIndex < 0 ? (long long)columns + opt.labelIndex : opt.labelIndex;
    if (idx < 0 || idx >= (long long)columns)
      return makeError(path + ": label column index " + std::to_string(opt.labelIndex) + " is outside the " +
                       std::to_string(columns) + " columns of the file.");
    labelCol = size_t(idx);
    if (opt.header == CsvOptions::Header::Auto) {
      float v;
      hasHeader = false;
      for (size_t c = 0; c < columns; ++c)
        if (c != labelCol && !parseNumber(fields[c], v)) hasHeader = true;
    } else {
      hasHeader = opt.header == CsvOptions::Header::Present;
    }
  }
  if (hasHeader) header = fields;

  std::vector<float> x;
  std::vector<std::string> labels;
  const size_t features = columns - 1;
  bool first = !hasHeader;  // the record already in `fields` is data
  for (;;) {
    if (!first) {
      auto more = cur.next(fields, line, path);
      if (!more) return more.error();
      if (!*more) break;
      if (blankRecord(fields)) continue;
    }
    first = false;
    if (fields.size() != columns)
      return makeError(path + " line " + std::to_string(line) + ": has " + std::to_string(fields.size()) +
                       " columns but the first row has " + std::to_string(columns) + "; every row needs the same columns.");
    for (size_t c = 0; c < columns; ++c) {
      if (c == labelCol) continue;
      float v;
      if (!parseNumber(fields[c], v)) {
        const std::string_view cell = trim(fields[c]);
        std::string msg = cellRef(path, line, c, header);
        if (cell.empty()) {
          msg += ": the cell is empty";
        } else {
          msg += ": '";
          msg.append(cell);
          msg += "' is not a number";
        }
        return makeError(msg + "; feature columns must hold finite numbers.");
      }
      x.push_back(v);
    }
    labels.emplace_back(trim(fields[labelCol]));
    if (labels.back().empty())
      return makeError(cellRef(path, line, labelCol, header) + ": the label cell is empty.");
    if (labels.size() > size_t(INT_MAX)) return makeError(path + ": too many rows.");
  }
  if (labels.empty()) return makeError(path + ": has a header but no data rows.");

  Dataset d;
  d.source = path;
  const size_t n = labels.size();
  d.x = Tensor(Shape{int(n), int(features)});
  std::copy(x.begin(), x.end(), d.x.data());
  x = {};
  QAT_TRY(applyNormalization(d.x, opt.norm, path));

  // Decide what the labels are: indices, float targets or names.
  std::vector<float> num(n);
  bool allNumbers = true, allIndices = true;
  for (size_t i = 0; i < n; ++i) {
    if (!parseNumber(labels[i], num[i])) {
      allNumbers = allIndices = false;
      if (opt.targetKind == TargetKind::Float)
        return makeError(path + ": label '" + labels[i] + "' in data row " + std::to_string(i + 1) +
                         " is not a number but float targets were requested.");
      break;
    }
    if (num[i] < 0 || num[i] != std::floor(num[i]) || num[i] >= float(1 << 20)) allIndices = false;
  }
  if (opt.targetKind == TargetKind::Float || (opt.targetKind == TargetKind::Auto && allNumbers && !allIndices)) {
    Tensor y(Shape{int(n)});
    std::copy(num.begin(), num.end(), y.data());
    QAT_TRY(assignTargets(d, y, false, TargetKind::Float, path));
  } else if (allIndices) {
    Tensor y(Shape{int(n)});
    std::copy(num.begin(), num.end(), y.data());
    QAT_TRY(assignTargets(d, y, true, TargetKind::ClassIndex, path));
  } else {
    // Class names in sorted order (numeric order when every name is a number), so the
    // same file always gives the same indices.
    std::vector<std::string> names(labels);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    if (allNumbers)
      std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
        float fa = 0, fb = 0;
        parseNumber(a, fa);
        parseNumber(b, fb);
        return fa < fb;
      });
    std::map<std::string, int> index;
    for (size_t i = 0; i < names.size(); ++i) index[names[i]] = int(i);
    d.labels.resize(n);
    for (size_t i = 0; i < n; ++i) d.labels[i] = index[labels[i]];
    d.classNames = std::move(names);
    d.numClasses = int(d.classNames.size());
  }
  QAT_TRY(validateDataset(d));
  return d;
}

}  // namespace qat
