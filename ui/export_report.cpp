// ExportDialog's report page: what was written and how the file read back compares with the
// studio's model (deploy::VerificationReport), plus freeze's notes.
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>

#include "ui/export_dialog.h"

namespace qat::ui {

using deploy::ExportFormat;

namespace {

QString sizeText(size_t bytes) {
  const QLocale l;
  return ExportDialog::tr("%1 (%2 bytes)")
      .arg(l.formattedDataSize(qint64(bytes), 1, QLocale::DataSizeSIFormat), l.toString(qulonglong(bytes)));
}

// What counts as "the file agrees": the same top-1 class for ≥ 99% of the samples and no
// output more than one int8 step away (TFLite's rounding may differ from the fake-quant
// model's by one step); a float file within float rounding of the float model.
bool agrees(const deploy::VerificationReport& v) {
  return v.top1Agreement >= 0.99 && v.maxStepDifference <= (v.quantized ? 1.0 : 1e-4);
}

QLabel* valueLabel(QWidget* parent) {
  auto* l = new QLabel(parent);
  l->setTextInteractionFlags(Qt::TextSelectableByMouse);
  return l;
}

}  // namespace

QString ExportDialog::formatTitle(ExportFormat f) {
  const std::string_view t = deploy::exportFormatTitle(f);
  return QString::fromUtf8(t.data(), qsizetype(t.size()));
}

QString ExportDialog::percentText(double fraction) { return QStringLiteral("%1 %").arg(100 * fraction, 0, 'f', 2); }

QWidget* ExportDialog::buildReportPage() {
  auto* page = new QWidget(this);
  headline_ = new QLabel(page);
  headline_->setWordWrap(true);
  QFont big = headline_->font();
  big.setBold(true);
  big.setPointSizeF(big.pointSizeF() * 1.15);
  headline_->setFont(big);

  auto* fileForm = new QFormLayout;
  for (auto [f, label] : {std::pair{Figure::File, tr("File:")}, std::pair{Figure::Size, tr("Size:")}}) {
    figures_[f] = valueLabel(page);
    fileForm->addRow(label, figures_[f]);
  }
  figures_[Figure::File]->setWordWrap(true);

  verifyGroup_ = new QGroupBox(tr("Verification: the file read back, run by the integer interpreter, against the "
                                  "studio's model"),
                               page);
  auto* vf = new QFormLayout(verifyGroup_);
  const std::pair<Figure, QString> rows[] = {
      {Figure::Samples, tr("Test samples:")},
      {Figure::Top1Agreement, tr("Top-1 agreement:")},
      {Figure::MaxDifference, tr("Largest output difference:")},
      {Figure::WithinOneStep, tr("Outputs within one step:")},
      {Figure::StudioAccuracy, tr("Accuracy, studio model:")},
      {Figure::ExportAccuracy, tr("Accuracy, exported file:")},
  };
  for (const auto& [f, label] : rows) {
    figures_[f] = valueLabel(verifyGroup_);
    vf->addRow(label, figures_[f]);
  }
  verifyNote_ = new QLabel(page);
  verifyNote_->setWordWrap(true);

  notesGroup_ = new QGroupBox(tr("Notes"), page);
  notes_ = new QLabel(notesGroup_);
  notes_->setWordWrap(true);
  notes_->setTextFormat(Qt::RichText);
  notes_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  notes_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  auto* nl = new QVBoxLayout(notesGroup_);
  nl->addWidget(notes_);

  showFolderButton_ = new QPushButton(tr("Show in Folder"), page);
  auto* again = new QPushButton(tr("Export Another…"), page);
  auto* close = new QPushButton(tr("Close"), page);
  close->setDefault(true);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(showFolderButton_);
  buttons->addWidget(again);
  buttons->addStretch(1);
  buttons->addWidget(close);

  auto* v = new QVBoxLayout(page);
  v->setContentsMargins(0, 0, 0, 0);
  v->addWidget(headline_);
  v->addLayout(fileForm);
  v->addWidget(verifyGroup_);
  v->addWidget(verifyNote_);
  v->addWidget(notesGroup_);
  v->addStretch(1);
  v->addLayout(buttons);

  connect(showFolderButton_, &QPushButton::clicked, this, [this] {
    if (result_) openFolder_(QFileInfo(QString::fromStdString(result_->path)).absolutePath());
  });
  connect(again, &QPushButton::clicked, this, [this] {
    showPage(0);
    refreshControls();
  });
  connect(close, &QPushButton::clicked, this, &ExportDialog::accept);
  return page;
}

void ExportDialog::showReport() {
  const deploy::ExportResult& r = *result_;
  const std::optional<deploy::VerificationReport>& v = r.verification;
  const ExportFormat f = exportedFormat_;
  figures_[Figure::File]->setText(QDir::toNativeSeparators(QString::fromStdString(r.path)));
  figures_[Figure::Size]->setText(sizeText(r.bytes));

  QString headline, colour;
  if (v && agrees(*v)) {
    headline = tr("Exported and verified: the file agrees with the studio's model.");
    colour = QStringLiteral("#1b5e20");
  } else if (v) {
    headline = tr("Exported, but the file differs from the studio's model more than expected.");
    colour = QStringLiteral("#b26a00");
  } else if (!r.verificationError.empty()) {
    headline = tr("Exported, but the file could not be verified.");
    colour = QStringLiteral("#b00020");
  } else {
    headline = tr("Exported.");
  }
  // Only the verdict is coloured; what was exported stays in the normal text colour.
  const QString verdict = colour.isEmpty() ? headline.toHtmlEscaped()
                                           : QStringLiteral("<span style=\"color: %1\">%2</span>")
                                                 .arg(colour, headline.toHtmlEscaped());
  headline_->setText(QStringLiteral("%1<br><span style=\"font-weight: normal\">%2</span>")
                         .arg(verdict, tr("%1 as %2").arg(exportedWhat_, formatTitle(f)).toHtmlEscaped()));

  verifyGroup_->setVisible(v.has_value());
  if (v) {
    const QLocale l;
    figures_[Figure::Samples]->setText(l.toString(qulonglong(v->samples)));
    figures_[Figure::Top1Agreement]->setText(percentText(v->top1Agreement));
    if (v->quantized) {
      const long steps = long(v->maxStepDifference);
      figures_[Figure::MaxDifference]->setText(steps == 1 ? tr("1 int8 step") : tr("%1 int8 steps").arg(steps));
    } else {
      figures_[Figure::MaxDifference]->setText(tr("%1 of the output range").arg(v->maxStepDifference, 0, 'g', 2));
    }
    figures_[Figure::WithinOneStep]->setText(percentText(v->withinOneStep));
    const bool labelled = v->referenceAccuracy >= 0;
    figures_[Figure::StudioAccuracy]->setText(labelled ? percentText(v->referenceAccuracy) : tr("no labels"));
    figures_[Figure::ExportAccuracy]->setText(labelled ? percentText(v->exportAccuracy) : tr("no labels"));
    if (auto* form = qobject_cast<QFormLayout*>(verifyGroup_->layout()))
      if (auto* label = qobject_cast<QLabel*>(form->labelForField(figures_[Figure::StudioAccuracy])))
        label->setText(v->quantized ? tr("Accuracy, studio (fake-quant):") : tr("Accuracy, studio (float):"));
  } else {
    for (Figure g : {Figure::Samples, Figure::Top1Agreement, Figure::MaxDifference, Figure::WithinOneStep,
                     Figure::StudioAccuracy, Figure::ExportAccuracy})
      figures_[g]->clear();
  }
  QString why;
  if (!r.verificationError.empty())
    why = QString::fromStdString(r.verificationError);
  else if (!v && f == ExportFormat::Keras)
    why = tr("A Keras file holds the float weights as they are: there is nothing to verify.");
  else if (!v)
    why = tr("Not verified: no test data (load data in the Data panel) or verification turned off. The file was "
             "read back without errors.");
  verifyNote_->setText(why);
  verifyNote_->setVisible(!why.isEmpty());

  noteLines_.clear();
  for (const std::string& n : r.notes) noteLines_ << QString::fromStdString(n);
  if (r.int4Tensors > 0)
    noteLines_ << (r.int4Tensors == 1 ? tr("With INT4 tensors chosen, 1 weight tensor is stored as INT4")
                                      : tr("With INT4 tensors chosen, %1 weight tensors are stored as INT4")
                                            .arg(r.int4Tensors)) +
                      tr(" instead (two values per byte, same grid values): only newer TFLite runtimes load the file.");
  // Large models collect many notes (one per folded BatchNorm): the first few are shown,
  // all of them in the tooltip.
  constexpr int kShown = 8;
  QString html = QStringLiteral("<ul style=\"margin-left: 0px; -qt-list-indent: 1\">");
  for (int i = 0; i < std::min<int>(kShown, noteLines_.size()); ++i)
    html += QStringLiteral("<li>%1</li>").arg(noteLines_[i].toHtmlEscaped());
  if (noteLines_.size() > kShown)
    html += QStringLiteral("<li>%1</li>").arg(tr("… and %1 more (hover to see all)").arg(noteLines_.size() - kShown));
  notes_->setText(html + QStringLiteral("</ul>"));
  notes_->setToolTip(noteLines_.size() > kShown ? noteLines_.join(u'\n') : QString());
  notesGroup_->setVisible(!noteLines_.isEmpty());

  showPage(1);
}

void ExportDialog::showPage(int index) {
  setupPage_->setVisible(index == 0);
  reportPage_->setVisible(index == 1);
  layout()->activate();
  adjustSize();
}

QString ExportDialog::figureText(Figure f) const {
  const auto it = figures_.find(f);
  return it == figures_.end() ? QString() : it->second->text();
}

QString ExportDialog::notesText() const { return noteLines_.join(u'\n'); }

}  // namespace qat::ui
