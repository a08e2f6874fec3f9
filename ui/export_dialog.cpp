#include "ui/export_dialog.h"

#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QEventLoop>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QThread>
#include <QUrl>
#include <QVBoxLayout>

#include "engine/project/project.h"
#include "ui/project_document.h"

namespace qat::ui {

using deploy::ExportFormat;
using project::RunKind;

// Everything the worker needs, copied on the GUI thread; `result` is written by the worker.
struct ExportDialog::Job {
  bool hasRun = false;
  RunKind kind = RunKind::Float;
  std::vector<uint8_t> image;  // the run's model image (decoded on the worker: it takes a while)
  Model floatModel;            // no run: a clone of the document's float model
  ExportFormat format = ExportFormat::TfliteInt8;
  std::string path;
  deploy::ExportOptions options;
  std::optional<Dataset> verify;  // the first verify samples of the test data
  std::optional<Tensor> range;    // model inputs for freeze's range measurement
  std::optional<Expected<deploy::ExportResult>> result;

  void run();  // on the worker thread: touches only the job
};

void ExportDialog::Job::run() {
  Model model;
  std::optional<quant::QuantizedModel> quantized;
  if (!hasRun) {
    model = std::move(floatModel);
  } else if (kind == RunKind::Float) {
    auto m = project::kerasModelFromImage(image);
    if (!m.ok()) return void(result.emplace(m.error()));
    model = std::move(m.value());
  } else {
    auto ck = project::checkpointFromImage(image);
    if (!ck.ok()) return void(result.emplace(ck.error()));
    model = std::move(ck->floatModel);
    quantized.emplace(std::move(ck->quantized));
  }
  result.emplace(deploy::exportModel(model, quantized ? &*quantized : nullptr, format, path, options,
                                     verify ? &*verify : nullptr, range ? &*range : nullptr));
}

namespace {

// "QAT 3 (QAT, fake-quant accuracy 88.12 %)": the accuracy tells runs of one kind apart.
QString runText(const project::Run& r) {
  const QString name = QString::fromStdString(r.name);
  switch (r.kind) {
    case RunKind::Float:
      return r.metrics.floatAccuracy < 0 ? ExportDialog::tr("%1 (float)").arg(name)
                                         : ExportDialog::tr("%1 (float, accuracy %2)")
                                               .arg(name, ExportDialog::percentText(r.metrics.floatAccuracy));
    case RunKind::PostTraining:
    case RunKind::Qat: {
      const QString kind = r.kind == RunKind::Qat ? ExportDialog::tr("QAT") : ExportDialog::tr("PTQ");
      return r.metrics.fakeQuantAccuracy < 0
                 ? ExportDialog::tr("%1 (%2)").arg(name, kind)
                 : ExportDialog::tr("%1 (%2, fake-quant accuracy %3)")
                       .arg(name, kind, ExportDialog::percentText(r.metrics.fakeQuantAccuracy));
    }
  }
  return name;
}

// A file-name-safe piece of a run or model name.
QString fileStem(QString s) {
  for (QChar& c : s)
    if (!c.isLetterOrNumber() && c != u'-' && c != u'_') c = u'_';
  return s;
}

}  // namespace

ExportDialog::ExportDialog(ProjectDocument* document, QWidget* parent) : QDialog(parent), document_(document) {
  setWindowTitle(tr("Export"));
  // Two pages in one box layout, one hidden: a hidden widget takes no room, so the dialog
  // fits the page shown (a QStackedWidget would size it for the taller one).
  setupPage_ = buildSetupPage();
  reportPage_ = buildReportPage();
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(setupPage_);
  layout->addWidget(reportPage_);
  showPage(0);

  chooseFile_ = [this](const QString& caption, const QString& suggested, const QString& filter) {
    return QFileDialog::getSaveFileName(this, caption, suggested, filter);
  };
  openFolder_ = [](const QString& dir) { QDesktopServices::openUrl(QUrl::fromLocalFile(dir)); };

  // A run added or removed while the dialog is open changes what can be exported.
  for (auto signal : {&ProjectDocument::runAdded, &ProjectDocument::runRemoved, &ProjectDocument::runChanged})
    connect(document_, signal, this, [this](int) { refreshRuns(); });
  connect(document_, &ProjectDocument::modelChanged, this, &ExportDialog::refreshRuns);
  connect(document_, &ProjectDocument::dataChanged, this, &ExportDialog::refreshControls);
  refreshRuns();
  // The deployable int8 file, unless the active run is a float one.
  const project::Run* active = document_->run(document_->activeRunId());
  preset(active && active->kind == RunKind::Float ? ExportFormat::TfliteFloat : ExportFormat::TfliteInt8);
}

ExportDialog::~ExportDialog() {
  if (thread_) {  // the worker writes into job_: let it finish first
    thread_->wait();
    delete thread_;
  }
}

QWidget* ExportDialog::buildSetupPage() {
  auto* page = new QWidget(this);
  auto* form = new QFormLayout;
  runBox_ = new QComboBox(page);
  formatBox_ = new QComboBox(page);
  for (ExportFormat f : deploy::kAllExportFormats) formatBox_->addItem(formatTitle(f), int(f));
  form->addRow(tr("Export:"), runBox_);
  form->addRow(tr("Format:"), formatBox_);

  ioGroup_ = new QGroupBox(tr("Input and output tensors"), page);
  floatIo_ = new QRadioButton(tr("float (QUANTIZE / DEQUANTIZE inside the model)"), ioGroup_);
  int8Io_ = new QRadioButton(tr("int8 (the application quantizes inputs and dequantizes outputs)"), ioGroup_);
  floatIo_->setChecked(true);
  auto* io = new QVBoxLayout(ioGroup_);
  io->addWidget(floatIo_);
  io->addWidget(int8Io_);

  subByteGroup_ = new QGroupBox(tr("Weights below 8 bits"), page);
  gridInInt8_ = new QRadioButton(tr("grid values in int8 tensors (runs everywhere)"), subByteGroup_);
  int4Tensors_ = new QRadioButton(tr("INT4 tensors (newer TFLite runtimes)"), subByteGroup_);
  gridInInt8_->setChecked(true);
  auto* sub = new QVBoxLayout(subByteGroup_);
  sub->addWidget(gridInInt8_);
  sub->addWidget(int4Tensors_);

  verifySamples_ = new QSpinBox(page);
  verifySamples_->setRange(0, 100000);
  verifySamples_->setSingleStep(100);
  verifySamples_->setValue(1000);
  verifySamples_->setSpecialValueText(tr("no verification"));
  verifySamples_->setSuffix(tr(" test samples"));
  dataNote_ = new QLabel(page);
  dataNote_->setWordWrap(true);
  auto* verifyRow = new QVBoxLayout;
  verifyRow->addWidget(verifySamples_);
  verifyRow->addWidget(dataNote_);

  message_ = new QLabel(page);
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  message_->setMinimumWidth(540);
  busy_ = new QProgressBar(page);
  busy_->setRange(0, 0);  // indeterminate: exportModel reports no progress
  busy_->setMaximumWidth(160);
  busyText_ = new QLabel(tr("Writing the file, reading it back and verifying it…"), page);
  auto* busyRow = new QHBoxLayout;
  busyRow->addWidget(busy_);
  busyRow->addWidget(busyText_, 1);

  exportButton_ = new QPushButton(tr("Export…"), page);
  exportButton_->setDefault(true);
  cancelButton_ = new QPushButton(tr("Cancel"), page);
  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  buttons->addWidget(exportButton_);
  buttons->addWidget(cancelButton_);

  auto* v = new QVBoxLayout(page);
  v->setContentsMargins(0, 0, 0, 0);
  v->addLayout(form);
  v->addWidget(ioGroup_);
  v->addWidget(subByteGroup_);
  auto* verifyForm = new QFormLayout;
  verifyForm->addRow(tr("Verify with:"), verifyRow);
  v->addLayout(verifyForm);
  v->addWidget(message_);
  v->addLayout(busyRow);
  v->addStretch(1);
  v->addLayout(buttons);

  // A different choice clears the last error (it was about the previous one).
  for (QComboBox* box : {runBox_, formatBox_})
    connect(box, &QComboBox::currentIndexChanged, this, [this] {
      error_.clear();
      refreshControls();
    });
  connect(exportButton_, &QPushButton::clicked, this, &ExportDialog::chooseFileAndExport);
  connect(cancelButton_, &QPushButton::clicked, this, &ExportDialog::reject);
  busy_->hide();
  busyText_->hide();
  return page;
}

void ExportDialog::refreshRuns() {
  if (isBusy()) return;  // the job has its copies; the combo is rebuilt when it ends
  const int keep = runBox_->count() ? runId() : document_->activeRunId();
  QSignalBlocker block(runBox_);
  runBox_->clear();
  // Newest first: usually what was just trained.
  const auto& runs = document_->runs();
  for (auto it = runs.rbegin(); it != runs.rend(); ++it)
    runBox_->addItem(runText(*it), it->id);
  if (document_->hasModel()) runBox_->addItem(tr("The float model (%1), no run").arg(document_->modelName()), 0);
  const int i = runBox_->findData(keep);
  runBox_->setCurrentIndex(i >= 0 ? i : 0);
  refreshControls();
}

void ExportDialog::setRunId(int id) {
  const int i = runBox_->findData(id);
  if (i >= 0) runBox_->setCurrentIndex(i);
}
int ExportDialog::runId() const { return runBox_->currentIndex() >= 0 ? runBox_->currentData().toInt() : 0; }

void ExportDialog::setFormat(ExportFormat f) { formatBox_->setCurrentIndex(formatBox_->findData(int(f))); }
ExportFormat ExportDialog::format() const { return ExportFormat(formatBox_->currentData().toInt()); }

void ExportDialog::preset(ExportFormat f, int id) {
  setRunId(id < 0 ? document_->activeRunId() : id);
  const project::Run* r = document_->run(runId());
  if (deploy::isIntegerFormat(f) && (!r || r->kind == RunKind::Float)) {
    // The newest quantized run, if there is one; else the blocker says what to do.
    for (auto it = document_->runs().rbegin(); it != document_->runs().rend(); ++it)
      if (it->kind != RunKind::Float) {
        setRunId(it->id);
        break;
      }
  }
  setFormat(f);
  refreshControls();
}

void ExportDialog::setInt8Io(bool on) { (on ? int8Io_ : floatIo_)->setChecked(true); }
void ExportDialog::setInt4Weights(bool on) { (on ? int4Tensors_ : gridInInt8_)->setChecked(true); }
void ExportDialog::setVerifySamples(int n) { verifySamples_->setValue(n); }

deploy::ExportOptions ExportDialog::options() const {
  deploy::ExportOptions o;
  const ExportFormat f = format();
  o.int8Io = deploy::isIntegerFormat(f) && int8Io_->isChecked();
  o.int4Weights = (f == ExportFormat::TfliteInt8 || f == ExportFormat::CHeader) && int4Tensors_->isChecked();
  o.verifySamples = size_t(verifySamples_->value());
  o.modelName = document_->modelName().toStdString();
  return o;
}

bool ExportDialog::runHasSubByteWeights() const {
  const project::Run* r = document_->run(runId());
  if (!r) return false;
  for (const auto& [name, layer] : r->config.layers)
    for (const auto& [param, spec] : layer.weights)
      if (layer.quantize && spec.bits < 8) return true;
  return false;
}

QString ExportDialog::blocker() const {
  if (!document_->hasModel()) return tr("Open a model first (File ▸ New from Example or File ▸ Open Model…).");
  const int id = runId();
  const project::Run* r = id ? document_->run(id) : nullptr;
  if (id && !r) return tr("That run no longer exists.");
  if (r && r->modelImage.empty()) return tr("The run '%1' has no saved model to export.").arg(QString::fromStdString(r->name));
  if (deploy::isIntegerFormat(format()) && (!r || r->kind == RunKind::Float)) {
    const bool anyQuantized = std::any_of(document_->runs().begin(), document_->runs().end(),
                                          [](const project::Run& x) { return x.kind != RunKind::Float; });
    return anyQuantized ? tr("%1 needs a quantized model: pick a PTQ or QAT run above.").arg(formatTitle(format()))
                        : tr("%1 needs a quantized model: Run ▸ Calibrate (PTQ) or Train QAT first.").arg(formatTitle(format()));
  }
  return {};
}

void ExportDialog::refreshControls() {
  const ExportFormat f = format();
  const project::Run* r = document_->run(runId());
  const bool quantizedSource = r && r->kind != RunKind::Float;
  // Integer formats exist only for quantized runs: grey them out for float sources.
  if (auto* m = qobject_cast<QStandardItemModel*>(formatBox_->model()))
    for (int i = 0; i < formatBox_->count(); ++i)
      m->item(i)->setEnabled(quantizedSource || !deploy::isIntegerFormat(ExportFormat(formatBox_->itemData(i).toInt())));
  const bool busy = isBusy();
  const QString why = blocker();
  ioGroup_->setEnabled(!busy && why.isEmpty() && deploy::isIntegerFormat(f));
  const bool subByte = runHasSubByteWeights();
  subByteGroup_->setEnabled(!busy && subByte && (f == ExportFormat::TfliteInt8 || f == ExportFormat::CHeader));
  subByteGroup_->setToolTip(subByte ? tr("ONNX stores them as int8 values on the grid; TFLite can hold them as INT4")
                                    : tr("The run has no weights below 8 bits"));
  const bool hasData = document_->validationData() || document_->trainData();
  verifySamples_->setEnabled(!busy && f != ExportFormat::Keras && hasData);
  dataNote_->setText(f == ExportFormat::Keras ? tr("A Keras file holds the float weights as they are; it is not verified.")
                     : hasData ? tr("The written file is read back and run by the integer interpreter next to the "
                                    "studio's model.")
                               : tr("No data loaded: the file will be written and read back, not verified."));
  runBox_->setEnabled(!busy);
  formatBox_->setEnabled(!busy);
  exportButton_->setEnabled(!busy && why.isEmpty());
  cancelButton_->setEnabled(!busy);
  busy_->setVisible(busy);
  busyText_->setVisible(busy);
  // The last error (naming the layer that blocks the export) stays until something changes.
  const QString text = !error_.isEmpty() ? tr("<b>Export failed.</b> %1").arg(error_.toHtmlEscaped()) : why.toHtmlEscaped();
  message_->setText(text);
  message_->setStyleSheet(error_.isEmpty() ? QString() : QStringLiteral("color: #b00020"));
  message_->setVisible(!text.isEmpty());
  // A longer message (an error naming a layer) needs room: wrapped labels do not grow the
  // window by themselves.
  if (setupPage_->isVisibleTo(this)) {
    layout()->activate();
    adjustSize();
  }
}

QString ExportDialog::suggestedPath() const {
  const QString dir = document_->projectPath().isEmpty() ? QDir::homePath()
                                                          : QFileInfo(document_->projectPath()).absolutePath();
  QString stem = fileStem(QFileInfo(document_->modelName()).completeBaseName());
  if (const project::Run* r = document_->run(runId())) stem += u'_' + fileStem(QString::fromStdString(r->name));
  if (format() == ExportFormat::TfliteFloat) stem += QStringLiteral("_float");
  return QDir(dir).filePath(stem + QString::fromUtf8(deploy::exportFormatExtension(format()).data()));
}

bool ExportDialog::chooseFileAndExport() {
  if (isBusy() || !blocker().isEmpty()) return false;
  const QString ext = QString::fromUtf8(deploy::exportFormatExtension(format()).data());
  const QString path =
      chooseFile_(tr("Export as %1").arg(formatTitle(format())), suggestedPath(), tr("%1 (*%2)").arg(formatTitle(format()), ext));
  if (path.isEmpty()) return false;
  return startExport(path);
}

bool ExportDialog::startExport(const QString& path) {
  if (isBusy()) return false;
  error_.clear();
  if (const QString why = blocker(); !why.isEmpty()) {
    refreshControls();
    return false;
  }
  auto job = std::make_unique<Job>();
  job->format = format();
  job->path = path.toStdString();
  job->options = options();
  exportedFormat_ = job->format;
  exportedWhat_ = document_->modelName();
  if (const project::Run* r = document_->run(runId())) {
    job->hasRun = true;
    job->kind = r->kind;
    job->image = r->modelImage;
    exportedWhat_ += QStringLiteral(" · ") + QString::fromStdString(r->name);
  } else {
    job->floatModel = document_->model().clone();
  }
  // Copies of the data the job reads: the document may load other data meanwhile.
  const Dataset* test = document_->validationData() ? document_->validationData() : document_->trainData();
  if (test && job->options.verifySamples > 0 && job->format != ExportFormat::Keras)
    job->verify.emplace(subset(*test, job->options.verifySamples));
  if (document_->trainData() && deploy::isIntegerFormat(job->format))
    job->range.emplace(subset(*document_->trainData(), 256).x);

  job_ = std::move(job);
  result_.reset();
  thread_ = QThread::create([job = job_.get()] { job->run(); });
  connect(thread_, &QThread::finished, this, &ExportDialog::onWorkerFinished);
  thread_->start();
  refreshControls();
  return true;
}

void ExportDialog::onWorkerFinished() {
  thread_->wait();
  delete thread_;
  thread_ = nullptr;
  std::unique_ptr<Job> job = std::move(job_);
  Expected<deploy::ExportResult>& r = *job->result;
  if (r.ok()) {
    result_ = std::move(r.value());
    showReport();
  } else {
    showError(QString::fromStdString(r.error().message));
  }
  refreshRuns();  // runs may have changed while busy
  emit exportFinished(result_.has_value());
}

void ExportDialog::showError(const QString& message) {
  error_ = message;
  showPage(0);  // refreshControls (from refreshRuns, next) sizes the page for the message
}

bool ExportDialog::runHeadless(const QString& path) {
  if (!startExport(path)) return false;
  QEventLoop loop;
  connect(this, &ExportDialog::exportFinished, &loop, &QEventLoop::quit);
  if (isBusy()) loop.exec();
  return result_.has_value();
}

void ExportDialog::reject() {
  if (!isBusy()) QDialog::reject();
}

bool ExportDialog::isShowingReport() const { return reportPage_->isVisibleTo(this); }

}  // namespace qat::ui
