#include "ui/data_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>
#include <numeric>

#include "engine/data/data_source.h"
#include "engine/data/idx_reader.h"
#include "ui/project_document.h"
#include "ui/sample_preview.h"

namespace qat::ui {

namespace {

std::string option(const nlohmann::json& o, const char* key, const std::string& fallback = {}) {
  if (!o.is_object() || !o.contains(key) || !o[key].is_string()) return fallback;
  return o[key].get<std::string>();
}

// The engine's data-source spec prefix of a DataRef kind ("npz" -> "npz:").
std::string specPrefix(const std::string& kind) {
  if (kind == kDataIdx) return "idx:";
  if (kind == kDataNpz) return "npz:";
  if (kind == kDataHdf5) return "h5:";
  if (kind == kDataCsv) return "csv:";
  if (kind == kDataImageFolder) return "images:";
  return {};
}

// A spec back into the form's fields: "idx:a,b" -> {a, b}; "npz:f" -> {f, ""}.
std::pair<QString, QString> pathsOfSpec(const std::string& kind, const std::string& spec) {
  std::string rest = spec;
  const std::string prefix = specPrefix(kind);
  if (!prefix.empty() && rest.rfind(prefix, 0) == 0) rest = rest.substr(prefix.size());
  if (kind == kDataIdx) {
    const auto comma = rest.find(',');
    if (comma != std::string::npos)
      return {QString::fromStdString(rest.substr(0, comma)), QString::fromStdString(rest.substr(comma + 1))};
  }
  return {QString::fromStdString(rest), {}};
}

// The last round(N · fraction) samples become the validation set (Keras' validation_split:
// no shuffling, so the split is the same every time and visible in the file).
Expected<std::pair<Dataset, Dataset>> splitTail(const Dataset& d, double fraction) {
  const size_t n = d.size();
  const size_t nVal = static_cast<size_t>(std::llround(double(n) * fraction));
  if (nVal == 0 || nVal >= n)
    return makeError(d.source + ": a validation split of " + std::to_string(fraction) + " of " + std::to_string(n) +
                     " samples leaves " + (nVal == 0 ? "no validation" : "no training") + " samples.");
  std::vector<int> tail(nVal);
  std::iota(tail.begin(), tail.end(), static_cast<int>(n - nVal));
  return std::pair{subset(d, n - nVal), take(d, tail)};
}

std::vector<float> floats(const nlohmann::json& j) {
  std::vector<float> v;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_number()) v.push_back(e.get<float>());
  return v;
}

}  // namespace

Expected<LoadedData> loadData(const project::DataRef& refIn, const Shape& inputShape) {
  project::DataRef ref = refIn;
  if (!ref.options.is_object()) ref.options = nlohmann::json::object();
  const std::string mode = option(ref.options, "normalize", "scale01");
  if (mode != "none" && mode != "scale01" && mode != "meanstd")
    return makeError("Unknown normalisation '" + mode + "': use none, scale01 or meanstd.");

  Dataset train;
  std::optional<Dataset> test;
  if (ref.kind == kDataFashionMnist) {
    const std::string dir = ref.trainPath.empty() ? ProjectDocument::fashionMnistDir().toStdString() : ref.trainPath;
    const Normalization norm = mode == "scale01" ? Normalization::scale01() : Normalization::none();
    auto tr = loadFashionMnist(dir, true, norm);
    if (!tr.ok()) return tr.error();
    auto te = loadFashionMnist(dir, false, norm);
    if (!te.ok()) return te.error();
    train = std::move(tr.value());
    test = std::move(te.value());
  } else {
    if (ref.trainPath.empty()) return makeError("Choose a training file or folder.");
    DataSourceOptions o;
    o.xName = option(ref.options, "x_name");
    o.yName = option(ref.options, "y_name");
    o.labelColumn = option(ref.options, "label_column");
    o.normalize = mode == "meanstd" ? "none" : mode;  // the statistics come from the training split below
    o.inputShape = inputShape;
    auto tr = loadDataSource(ref.trainPath, o);
    if (!tr.ok()) return tr.error();
    train = std::move(tr->train);
    test = std::move(tr->test);
    if (!ref.testPath.empty()) {
      auto te = loadDataSource(ref.testPath, o);
      if (!te.ok()) return te.error();
      test = std::move(te->train);
    }
  }
  if (test && test->sampleShape() != train.sampleShape())
    return makeError(test->source + ": samples of shape " + test->sampleShape().str() + " do not match the training data's " +
                     train.sampleShape().str() + " (" + train.source + ").");

  if (mode == "meanstd") {
    // Test data is standardised with the training statistics, never its own.
    Normalization ms;
    const auto mean = floats(ref.options.value("mean", nlohmann::json()));
    const auto sd = floats(ref.options.value("std", nlohmann::json()));
    if (!mean.empty() && !sd.empty()) {
      ms = Normalization::meanStd(mean, sd);
    } else {
      auto computed = computeMeanStd(train.x);
      if (!computed.ok()) return computed.error();
      ms = std::move(computed.value());
      ref.options["mean"] = ms.mean;
      ref.options["std"] = ms.std;
    }
    QAT_TRY(applyNormalization(train.x, ms, train.source));
    if (test) QAT_TRY(applyNormalization(test->x, ms, test->source));
  }

  LoadedData out;
  const double split = ref.options.value("validation_split", 0.0);
  if (test) {
    out.validation = std::make_shared<const Dataset>(std::move(*test));
  } else if (split > 0) {
    auto parts = splitTail(train, split);
    if (!parts.ok()) return parts.error();
    train = std::move(parts->first);
    out.validation = std::make_shared<const Dataset>(std::move(parts->second));
  }
  out.train = std::make_shared<const Dataset>(std::move(train));
  out.ref = std::move(ref);
  return out;
}

std::vector<std::string> displayClassNames(const Dataset& d) {
  if (!d.classNames.empty()) return d.classNames;
  // Fashion-MNIST read as plain IDX files has no names; its file names give it away.
  QString source = QString::fromStdString(d.source).toLower();
  if (d.numClasses == 10 && source.contains(QStringLiteral("fashion"))) return fashionMnistClassNames();
  return {};
}

// ---- DataPanel --------------------------------------------------------------------------

DataPanel::DataPanel(ProjectDocument* document, QWidget* parent) : QWidget(parent), document_(document) {
  pending_ = std::make_unique<Expected<LoadedData>>(makeError("not loaded"));
  buildUi();
  connect(document_, &ProjectDocument::dataChanged, this, [this] {
    // Data set from elsewhere (an opened project, the Run menu): the form shows its source.
    if (!isLoading() && !document_->dataRef().kind.empty()) setRef(document_->dataRef());
    refreshSummary();
  });
  auto running = [this] { loadButton_->setEnabled(!isLoading() && !document_->isTraining()); };
  connect(document_, &ProjectDocument::trainingStarted, this, running);
  connect(document_, &ProjectDocument::trainingFinished, this, running);
  if (!document_->dataRef().kind.empty()) setRef(document_->dataRef());
  refreshSummary();
}

DataPanel::~DataPanel() {
  // The loader writes into pending_: let it finish before the panel goes away.
  if (thread_) thread_->wait();
}

void DataPanel::buildUi() {
  auto* source = new QGroupBox(tr("Data set"), this);
  form_ = new QFormLayout(source);
  form_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  kind_ = new QComboBox(source);
  kind_->addItem(tr("Fashion-MNIST (bundled)"), QString::fromLatin1(kDataFashionMnist));
  kind_->addItem(tr("IDX files (MNIST format)"), QString::fromLatin1(kDataIdx));
  kind_->addItem(tr("NumPy .npz"), QString::fromLatin1(kDataNpz));
  kind_->addItem(tr("HDF5 .h5"), QString::fromLatin1(kDataHdf5));
  kind_->addItem(tr("Image folder (one folder per class)"), QString::fromLatin1(kDataImageFolder));
  kind_->addItem(tr("CSV table"), QString::fromLatin1(kDataCsv));
  form_->addRow(tr("&Kind:"), kind_);

  // A path field with a Browse button; image folders browse for a directory.
  auto pathRow = [this, source](QLineEdit*& edit, QWidget*& row, bool test) {
    row = new QWidget(source);
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    edit = new QLineEdit(row);
    edit->setClearButtonEnabled(true);
    if (test) edit->setPlaceholderText(tr("optional"));
    auto* browseButton = new QToolButton(row);
    browseButton->setText(tr("…"));
    browseButton->setToolTip(tr("Browse"));
    h->addWidget(edit, 1);
    h->addWidget(browseButton);
    QLineEdit* e = edit;
    connect(browseButton, &QToolButton::clicked, this, [this, e] {
      browse(e, kind_->currentData().toString() == QLatin1String(kDataImageFolder));
    });
  };
  pathRow(trainPath_, trainRow_, false);
  pathRow(trainLabels_, trainLabelsRow_, false);
  pathRow(testPath_, testRow_, true);
  pathRow(testLabels_, testLabelsRow_, false);
  form_->addRow(tr("&Training:"), trainRow_);
  form_->addRow(tr("Training labels:"), trainLabelsRow_);
  form_->addRow(tr("T&est:"), testRow_);
  form_->addRow(tr("Test labels:"), testLabelsRow_);

  xName_ = new QLineEdit(source);
  xName_->setPlaceholderText(QStringLiteral("x"));
  yName_ = new QLineEdit(source);
  yName_->setPlaceholderText(QStringLiteral("y"));
  form_->addRow(tr("Inputs array:"), xName_);
  form_->addRow(tr("Labels array:"), yName_);
  labelColumn_ = new QLineEdit(source);
  labelColumn_->setPlaceholderText(tr("last column"));
  labelColumn_->setToolTip(tr("The label column: its header name or 0-based index (-1 = last)."));
  form_->addRow(tr("Label column:"), labelColumn_);

  normalization_ = new QComboBox(source);
  normalization_->addItem(tr("None"), QStringLiteral("none"));
  normalization_->addItem(tr("Scale to [0, 1] (÷ 255)"), QStringLiteral("scale01"));
  normalization_->addItem(tr("Standardise (mean, std)"), QStringLiteral("meanstd"));
  normalization_->setCurrentIndex(1);
  normalization_->setToolTip(tr("Standardise uses the mean and standard deviation of the training data "
                                "per channel, and applies them to the test data too."));
  form_->addRow(tr("&Normalisation:"), normalization_);
  validationSplit_ = new QDoubleSpinBox(source);
  validationSplit_->setRange(0.0, 0.9);
  validationSplit_->setSingleStep(0.05);
  validationSplit_->setDecimals(2);
  validationSplit_->setSpecialValueText(tr("none"));
  validationSplit_->setToolTip(tr("Without a test file, hold out this fraction of the training data for "
                                  "validation: the last samples, as Keras' validation_split."));
  form_->addRow(tr("&Validation split:"), validationSplit_);

  loadButton_ = new QPushButton(tr("Load"), this);
  error_ = new QLabel(this);
  error_->setWordWrap(true);
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_->setStyleSheet(QStringLiteral("color: #b00020"));
  error_->hide();
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* previewBox = new QGroupBox(tr("Training samples"), this);
  auto* previewLayout = new QVBoxLayout(previewBox);
  preview_ = new SampleStrip(previewBox);
  previewLayout->addWidget(preview_);

  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  buttons->addWidget(loadButton_);
  auto* top = new QVBoxLayout(this);
  top->addWidget(source);
  top->addLayout(buttons);
  top->addWidget(error_);
  top->addWidget(summary_);
  top->addWidget(previewBox);
  top->addStretch(1);

  connect(kind_, &QComboBox::currentIndexChanged, this, [this] {
    // CSV features are not pixels: dividing them by 255 is rarely what one wants.
    const bool csv = kind_->currentData().toString() == QLatin1String(kDataCsv);
    normalization_->setCurrentIndex(normalization_->findData(csv ? QStringLiteral("none") : QStringLiteral("scale01")));
    updateKindRows();
  });
  connect(testPath_, &QLineEdit::textChanged, this, &DataPanel::updateKindRows);
  connect(loadButton_, &QPushButton::clicked, this, &DataPanel::load);
  updateKindRows();
}

void DataPanel::updateKindRows() {
  const QString kind = kind_->currentData().toString();
  const bool fashion = kind == QLatin1String(kDataFashionMnist);
  const bool idx = kind == QLatin1String(kDataIdx);
  const bool arrays = kind == QLatin1String(kDataNpz) || kind == QLatin1String(kDataHdf5);
  form_->setRowVisible(trainRow_, !fashion);
  form_->setRowVisible(trainLabelsRow_, idx);
  form_->setRowVisible(testRow_, !fashion);
  form_->setRowVisible(testLabelsRow_, idx && !testPath_->text().isEmpty());
  form_->setRowVisible(xName_, arrays);
  form_->setRowVisible(yName_, arrays);
  form_->setRowVisible(labelColumn_, kind == QLatin1String(kDataCsv));
  if (auto* l = qobject_cast<QLabel*>(form_->labelForField(trainRow_)))
    l->setText(kind == QLatin1String(kDataImageFolder) ? tr("&Training folder:")
               : idx                                   ? tr("&Training images:")
                                                       : tr("&Training file:"));
  if (auto* l = qobject_cast<QLabel*>(form_->labelForField(testRow_)))
    l->setText(kind == QLatin1String(kDataImageFolder) ? tr("T&est folder:") : idx ? tr("T&est images:") : tr("T&est file:"));
  // A test set is the validation data; the split is only for sources without one.
  validationSplit_->setEnabled(!fashion && testPath_->text().trimmed().isEmpty());
}

void DataPanel::browse(QLineEdit* edit, bool directory) {
  const QString start = edit->text().isEmpty() ? trainPath_->text() : edit->text();
  const QString kind = kind_->currentData().toString();
  QString filter = tr("All files (*)");
  if (kind == QLatin1String(kDataNpz)) filter = tr("NumPy archives (*.npz);;") + filter;
  else if (kind == QLatin1String(kDataHdf5)) filter = tr("HDF5 files (*.h5 *.hdf5);;") + filter;
  else if (kind == QLatin1String(kDataCsv)) filter = tr("CSV tables (*.csv *.txt);;") + filter;
  else if (kind == QLatin1String(kDataIdx)) filter = tr("IDX files (*-ubyte *-ubyte.gz *.idx*);;") + filter;
  const QString path = directory ? QFileDialog::getExistingDirectory(this, tr("Choose the image folder"), start)
                                 : QFileDialog::getOpenFileName(this, tr("Choose a data file"), start, filter);
  if (!path.isEmpty()) edit->setText(path);
}

project::DataRef DataPanel::currentRef() const {
  project::DataRef ref;
  ref.kind = kind_->currentData().toString().toStdString();
  nlohmann::json& o = ref.options;
  o["normalize"] = normalization_->currentData().toString().toStdString();
  if (ref.kind == kDataFashionMnist) return ref;
  // Paths are stored as data-source specs ("npz:/data/f.npz", "idx:images,labels"): the
  // form the CLI's --data takes and ProjectDocument::loadData reloads.
  auto spec = [&ref](const QLineEdit* path, const QLineEdit* labels) {
    const std::string p = path->text().trimmed().toStdString();
    if (p.empty()) return std::string();
    if (ref.kind == kDataIdx) return specPrefix(ref.kind) + p + "," + labels->text().trimmed().toStdString();
    return specPrefix(ref.kind) + p;
  };
  ref.trainPath = spec(trainPath_, trainLabels_);
  ref.testPath = spec(testPath_, testLabels_);
  if (ref.testPath.empty() && validationSplit_->value() > 0) o["validation_split"] = validationSplit_->value();
  auto put = [&o](const char* key, const QLineEdit* e) {
    if (!e->text().trimmed().isEmpty()) o[key] = e->text().trimmed().toStdString();
  };
  if (ref.kind == kDataNpz || ref.kind == kDataHdf5) {
    put("x_name", xName_);
    put("y_name", yName_);
  } else if (ref.kind == kDataCsv) {
    put("label_column", labelColumn_);
  }
  return ref;
}

void DataPanel::setRef(const project::DataRef& ref) {
  const int k = kind_->findData(QString::fromStdString(ref.kind));
  if (k < 0) return;
  kind_->setCurrentIndex(k);  // resets the normalisation to the kind's default first
  const nlohmann::json& o = ref.options;
  auto text = [&o](const char* key) { return QString::fromStdString(option(o, key)); };
  const bool fashion = ref.kind == kDataFashionMnist;
  const auto [trainPath, trainLabels] = fashion ? std::pair<QString, QString>{} : pathsOfSpec(ref.kind, ref.trainPath);
  const auto [testPath, testLabels] = pathsOfSpec(ref.kind, ref.testPath);
  trainPath_->setText(trainPath);
  trainLabels_->setText(trainLabels);
  testPath_->setText(testPath);
  testLabels_->setText(testLabels);
  xName_->setText(text("x_name"));
  yName_->setText(text("y_name"));
  labelColumn_->setText(text("label_column"));
  const int n = normalization_->findData(QString::fromStdString(option(o, "normalize", "scale01")));
  if (n >= 0) normalization_->setCurrentIndex(n);
  validationSplit_->setValue(o.is_object() ? o.value("validation_split", 0.0) : 0.0);
  updateKindRows();
}

void DataPanel::load() {
  if (thread_) return;
  const project::DataRef ref = currentRef();
  Shape inputShape;
  if (document_->hasModel() && !document_->model().inputs().empty())
    inputShape = document_->model().node(document_->model().inputs()[0]).shape;
  error_->hide();
  summary_->setText(tr("Loading…"));
  loadButton_->setEnabled(false);
  // Readers allocate and decode for seconds on big folders: off the GUI thread. The
  // worker only reads `ref` (a copy) and writes pending_, which the GUI reads after
  // QThread::finished.
  Expected<LoadedData>* out = pending_.get();
  thread_ = QThread::create([ref, inputShape, out] { *out = loadData(ref, inputShape); });
  connect(thread_, &QThread::finished, this, [this] {
    thread_->deleteLater();
    thread_ = nullptr;
    Expected<LoadedData> result = std::move(*pending_);
    *pending_ = makeError("not loaded");
    finishLoad(std::move(result));
  });
  thread_->start();
}

void DataPanel::finishLoad(Expected<LoadedData> result) {
  loadButton_->setEnabled(!document_->isTraining());
  if (!result.ok()) {
    const QString message = QString::fromStdString(result.error().message);
    showError(message);
    refreshSummary();  // the previous data is kept: say what it is
    emit loadFinished(false, message);
    return;
  }
  LoadedData& d = result.value();
  error_->hide();
  error_->clear();
  document_->setData(std::move(d.train), std::move(d.validation), d.ref);  // dataChanged → refreshSummary
  emit loadFinished(true, summary_->text());
}

void DataPanel::showError(const QString& message) {
  error_->setText(message);
  error_->show();
}

void DataPanel::refreshSummary() {
  const Dataset* train = document_->trainData();
  const Dataset* val = document_->validationData();
  if (!train) {
    summary_->setText(tr("No data loaded."));
    preview_->setDataset(nullptr, {});
    return;
  }
  const int targets = train->targets.rank() > 1 ? train->targets.dim(1) : 1;
  const QString classes = train->hasLabels()
                              ? (train->numClasses == 1 ? tr("1 class") : tr("%1 classes").arg(train->numClasses))
                              : (targets == 1 ? tr("1 target column") : tr("%1 target columns").arg(targets));
  QString text = tr("<b>%1</b> training samples of shape %2, %3.")
                     .arg(train->size())
                     .arg(QString::fromStdString(train->sampleShape().str()), classes);
  text += QStringLiteral("<br>") + (val ? tr("<b>%1</b> validation samples.").arg(val->size())
                                        : tr("No validation data: runs report training metrics only."));
  text += QStringLiteral("<br><small>%1</small>").arg(QString::fromStdString(train->source).toHtmlEscaped());
  summary_->setText(text);
  preview_->setDataset(train, displayClassNames(*train));
}

}  // namespace qat::ui
