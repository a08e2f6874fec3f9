// The layer inspector over the built-in fashion-cnn, through its real widgets: a bits edit
// typed into the spin box reaches every selected Conv2D in one undo step, undo/redo
// reload the widgets without new commands, presets and "skip" change the config, mixed
// selections show indeterminate fields and edits write only the field changed, layers
// that cannot be quantized disable the editors with the document's reason, and the
// weight histogram's grid equals a grid computed here independently from the weights.
// Runs offscreen.
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QUndoStack>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>

#include "ui/layer_inspector.h"
#include "ui/project_document.h"
#include "ui/quantizer_editor.h"
#include "ui/weight_histogram.h"

using namespace qat;
using namespace qat::ui;

namespace {

const Tensor& paramOf(const ProjectDocument& doc, int node, const std::string& name) {
  const Layer& layer = *doc.model().node(node).layer;
  for (const Param* p : layer.params())
    if (p->name == name) return p->value;
  qFatal("layer has no parameter %s", name.c_str());
}

int kernelBits(const ProjectDocument& doc, int node) { return doc.layerConfig(node)->weights.at("kernel").bits; }

// The symmetric narrow-range grid of [-a, a] with `bits`, written out from the formula
// (QUANT_SPEC §1) rather than through the engine: scale = 2a / (2^bits − 2), levels k·scale
// for k = −(2^(bits−1) − 1) .. 2^(bits−1) − 1.
std::vector<double> symmetricNarrowLevels(double a, int bits) {
  const int half = (1 << (bits - 1)) - 1;
  const double scale = 2 * a / (2 * half);
  std::vector<double> levels;
  for (int k = -half; k <= half; ++k) levels.push_back(k * scale);
  return levels;
}

}  // namespace

class TestLayerInspector : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void init();
  void emptySelectionAsksForOne();
  void passThroughLayerIsDisabledWithReason();
  void bitsEditReachesAllSelectedInOneUndoStep();
  void presetsAndSkipOnDense();
  void floatPresetMakesLayerFloat();
  void mixedSelectionIsIndeterminateAndWritesOnlyTheEditedField();
  void histogramGridMatchesIndependentGrid();
  void perAxisChannelSwitchChangesPlottedData();
  void bnModeAndFreezeStepAreUndoable();
  void typeRangeAndDecayEdits();
  void renderWithFourBitConv();

 private:
  void setKernelBitsAsUser(int bits);
  std::unique_ptr<ProjectDocument> doc_;
  std::unique_ptr<LayerInspector> inspector_;
};

void TestLayerInspector::initTestCase() { QStandardPaths::setTestModeEnabled(true); }

void TestLayerInspector::init() {
  inspector_.reset();
  doc_ = std::make_unique<ProjectDocument>();
  QString error;
  QVERIFY2(doc_->newFromBuiltin(QStringLiteral("fashion-cnn"), 42, &error), qPrintable(error));
  inspector_ = std::make_unique<LayerInspector>(doc_.get());
  inspector_->resize(460, 980);
  inspector_->show();
  QVERIFY(QTest::qWaitForWindowExposed(inspector_.get()));
}

// Selects the spin box text and types the new value, then Return: what a user does.
void TestLayerInspector::setKernelBitsAsUser(int bits) {
  QuantizerEditor* kernel = inspector_->weightEditor(QStringLiteral("kernel"));
  QVERIFY(kernel);
  QSpinBox* spin = kernel->bitsSpin();
  spin->setFocus();
  spin->selectAll();
  QTest::keyClicks(spin, QString::number(bits));
  QTest::keyClick(spin, Qt::Key_Return);
}

void TestLayerInspector::emptySelectionAsksForOne() {
  doc_->setSelectedNodes({});
  QVERIFY(inspector_->placeholderLabel()->isVisible());
  QCOMPARE(inspector_->placeholderLabel()->text(), QStringLiteral("Select a layer in the graph"));
  QVERIFY(!inspector_->editorArea()->isVisible());
  doc_->setSelectedNodes({doc_->nodeOfLayer(QStringLiteral("conv1"))});
  QVERIFY(!inspector_->placeholderLabel()->isVisible());
  QVERIFY(inspector_->editorArea()->isVisible());
  QVERIFY(inspector_->headerLabel()->text().contains(QStringLiteral("conv1")));
  QVERIFY(inspector_->headerLabel()->text().contains(QStringLiteral("Conv2D")));
  QVERIFY(inspector_->headerLabel()->text().contains(QStringLiteral("weighted")));  // quantRoleName
}

void TestLayerInspector::passThroughLayerIsDisabledWithReason() {
  const int flatten = doc_->nodeOfLayer(QStringLiteral("flatten"));
  QString reason;
  QVERIFY(!doc_->canQuantize(flatten, &reason));
  doc_->setSelectedNodes({flatten});
  QVERIFY(!inspector_->editorArea()->isEnabled());
  QVERIFY(inspector_->reasonLabel()->isVisible());
  QVERIFY2(inspector_->reasonLabel()->text().contains(reason), qPrintable(inspector_->reasonLabel()->text()));
  QVERIFY(inspector_->targetNodes().isEmpty());
  // Mixed with a quantizable layer: enabled, the flatten named as left out.
  doc_->setSelectedNodes({flatten, doc_->nodeOfLayer(QStringLiteral("dense"))});
  QVERIFY(inspector_->editorArea()->isEnabled());
  QVERIFY(inspector_->reasonLabel()->text().contains(QStringLiteral("1 of 2")));
  QCOMPARE(inspector_->targetNodes(), QList<int>{doc_->nodeOfLayer(QStringLiteral("dense"))});
}

void TestLayerInspector::bitsEditReachesAllSelectedInOneUndoStep() {
  const QList<int> convs = doc_->nodesOfClass(QStringLiteral("Conv2D"));
  QCOMPARE(convs.size(), 2);
  doc_->setSelectedNodes(convs);
  for (int n : convs) QCOMPARE(kernelBits(*doc_, n), 8);
  const QString badge8 = doc_->bitBadge(convs[0]);
  QUndoStack* undo = doc_->undoStack();
  const int steps = undo->count();

  setKernelBitsAsUser(4);
  QCOMPARE(undo->count(), steps + 1);  // one step for both layers
  for (int n : convs) QCOMPARE(kernelBits(*doc_, n), 4);
  // The conv's output quantizer sits after its fused BN + ReLU; the badge shows the
  // group's activation bits, what the exported op produces.
  QVERIFY(!doc_->layerConfig(convs[0])->output.has_value());
  QCOMPARE(doc_->bitBadge(convs[0]), QStringLiteral("W4/A8"));
  QCOMPARE(doc_->bitBadge(doc_->nodeOfLayer(QStringLiteral("dense"))), QStringLiteral("W8/A8"));

  QSpinBox* spin = inspector_->weightEditor(QStringLiteral("kernel"))->bitsSpin();
  undo->undo();
  for (int n : convs) QCOMPARE(kernelBits(*doc_, n), 8);
  QCOMPARE(doc_->bitBadge(convs[0]), badge8);
  QCOMPARE(spin->value(), 8);
  QCOMPARE(spin->text(), QStringLiteral("8"));
  QCOMPARE(undo->count(), steps + 1);  // the refresh pushed nothing
  undo->redo();
  for (int n : convs) QCOMPARE(kernelBits(*doc_, n), 4);
  QCOMPARE(spin->value(), 4);
  QCOMPARE(undo->count(), steps + 1);
  // Losing focus without a change commits nothing.
  emit spin->editingFinished();
  QCOMPARE(undo->count(), steps + 1);
}

void TestLayerInspector::presetsAndSkipOnDense() {
  const int dense = doc_->nodeOfLayer(QStringLiteral("dense"));
  doc_->setSelectedNodes({dense});
  inspector_->presetButton(QuantPreset::W8A16)->click();
  QCOMPARE(kernelBits(*doc_, dense), 8);
  QVERIFY(doc_->layerConfig(dense)->output);
  QCOMPARE(doc_->layerConfig(dense)->output->bits, 16);
  QCOMPARE(doc_->bitBadge(dense), QStringLiteral("W8/A16"));
  QCOMPARE(inspector_->outputEditor()->bitsSpin()->value(), 16);

  QCheckBox* skip = inspector_->outputEditor()->skipCheck();
  QVERIFY(!skip->isChecked());
  skip->click();
  QVERIFY(!doc_->layerConfig(dense)->output.has_value());
  QCOMPARE(doc_->bitBadge(dense), QStringLiteral("W8"));
  QVERIFY(!inspector_->outputEditor()->bitsSpin()->isVisible());  // nothing to edit but "skip"
  skip->click();  // back: the default scheme's activation quantizer
  QVERIFY(doc_->layerConfig(dense)->output.has_value());
  QCOMPARE(doc_->layerConfig(dense)->output->type, std::string("MovingAverage"));
  QCOMPARE(doc_->layerConfig(dense)->output->bits, 8);

  inspector_->presetButton(QuantPreset::W4A8)->click();
  QCOMPARE(kernelBits(*doc_, dense), 4);
  QCOMPARE(doc_->bitBadge(dense), QStringLiteral("W4/A8"));
  QCOMPARE(inspector_->weightEditor(QStringLiteral("kernel"))->bitsSpin()->value(), 4);
}

void TestLayerInspector::floatPresetMakesLayerFloat() {
  const int dense = doc_->nodeOfLayer(QStringLiteral("dense"));
  doc_->setSelectedNodes({dense});
  QVERIFY(inspector_->quantizeCheck()->isChecked());
  inspector_->presetButton(QuantPreset::Float)->click();
  QVERIFY(!doc_->isQuantized(dense));
  QCOMPARE(doc_->bitBadge(dense), QStringLiteral("float"));
  QCOMPARE(inspector_->quantizeCheck()->checkState(), Qt::Unchecked);
  QVERIFY(!inspector_->outputEditor()->isVisible());
  QVERIFY(inspector_->weightParams().isEmpty());  // no quantizers to edit
  QVERIFY(!inspector_->histogram()->hasGrid());  // float: histogram without a grid
  // Ticking "Quantize" brings the quantizers back.
  inspector_->quantizeCheck()->click();
  QVERIFY(doc_->isQuantized(dense));
  QVERIFY(inspector_->weightEditor(QStringLiteral("kernel")));
  QVERIFY(inspector_->histogram()->hasGrid());
}

void TestLayerInspector::mixedSelectionIsIndeterminateAndWritesOnlyTheEditedField() {
  const int conv1 = doc_->nodeOfLayer(QStringLiteral("conv1"));
  const int dense = doc_->nodeOfLayer(QStringLiteral("dense"));
  doc_->setSelectedNodes({conv1});
  setKernelBitsAsUser(4);
  QCOMPARE(kernelBits(*doc_, conv1), 4);

  doc_->setSelectedNodes({conv1, dense});
  QuantizerEditor* kernel = inspector_->weightEditor(QStringLiteral("kernel"));
  QCOMPARE(kernel->bitsSpin()->value(), QuantizerEditor::kMixedBits);
  QCOMPARE(kernel->bitsSpin()->text(), QStringLiteral("—"));
  QCOMPARE(kernel->perAxisCheck()->checkState(), Qt::PartiallyChecked);  // conv per-axis, dense not
  QCOMPARE(kernel->symmetricCheck()->checkState(), Qt::Checked);
  QCOMPARE(kernel->typeCombo()->currentText(), QStringLiteral("LastValue"));

  // Per-axis on for both: the different bit widths stay as they were.
  const int steps = doc_->undoStack()->count();
  kernel->perAxisCheck()->click();
  QCOMPARE(doc_->undoStack()->count(), steps + 1);
  QVERIFY(doc_->layerConfig(conv1)->weights.at("kernel").perAxis);
  QVERIFY(doc_->layerConfig(dense)->weights.at("kernel").perAxis);
  QCOMPARE(kernelBits(*doc_, conv1), 4);
  QCOMPARE(kernelBits(*doc_, dense), 8);
  QCOMPARE(kernel->perAxisCheck()->checkState(), Qt::Checked);
  QCOMPARE(kernel->bitsSpin()->text(), QStringLiteral("—"));
  // Leaving the "—" spin box commits nothing.
  emit kernel->bitsSpin()->editingFinished();
  QCOMPARE(doc_->undoStack()->count(), steps + 1);

  // Quantize check: one float, one quantized → partially checked.
  doc_->applyPreset({dense}, QuantPreset::Float);
  QCOMPARE(inspector_->quantizeCheck()->checkState(), Qt::PartiallyChecked);

  // With "apply to all" off only the first selected layer is edited.
  doc_->setSelectedNodes({conv1, doc_->nodeOfLayer(QStringLiteral("conv2"))});
  inspector_->applyToAllCheck()->setChecked(false);
  QCOMPARE(inspector_->targetNodes(), QList<int>{conv1});
  setKernelBitsAsUser(6);
  QCOMPARE(kernelBits(*doc_, conv1), 6);
  QCOMPARE(kernelBits(*doc_, doc_->nodeOfLayer(QStringLiteral("conv2"))), 8);
}

void TestLayerInspector::histogramGridMatchesIndependentGrid() {
  const int dense = doc_->nodeOfLayer(QStringLiteral("dense"));
  doc_->setSelectedNodes({dense});
  const quant::QuantizerSpec& spec = doc_->layerConfig(dense)->weights.at("kernel");
  QVERIFY(!spec.perAxis && spec.symmetric && spec.narrowRange);  // the scheme's Dense kernel
  setKernelBitsAsUser(4);
  WeightHistogram* h = inspector_->histogram();
  QCOMPARE(inspector_->histogramNode(), dense);
  QCOMPARE(h->channelCount(), 1);
  QVERIFY(!inspector_->channelSpin()->isVisible());

  const Tensor& w = paramOf(*doc_, dense, "kernel");
  double a = 0, lo = 0, hi = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    a = std::max(a, std::abs(double(w.data()[i])));
    lo = std::min(lo, double(w.data()[i]));
    hi = std::max(hi, double(w.data()[i]));
  }
  const std::vector<double> expected = symmetricNarrowLevels(a, 4);
  QCOMPARE(int(expected.size()), (1 << 4) - 1);
  QCOMPARE(int(h->gridLevels().size()), int(expected.size()));
  QCOMPARE(h->gridGraph()->dataCount(), int(expected.size()));  // all 15 drawn
  for (size_t i = 0; i < expected.size(); ++i) QVERIFY(std::abs(h->gridLevels()[i] - expected[i]) <= 1e-6 * a);
  // The grid spans the data: its outer levels are ±max|w|.
  QVERIFY(h->gridLevels().front() <= lo + 1e-6 && h->gridLevels().back() >= hi - 1e-6);
  // Every weight is counted once in the bars.
  double total = 0;
  for (auto it = h->bars()->data()->constBegin(); it != h->bars()->data()->constEnd(); ++it) total += it->value;
  QCOMPARE(total, double(w.size()));

  // 8 bits: 255 levels, every 4th drawn from the zero level (k = −124 .. 124 step 4).
  setKernelBitsAsUser(8);
  QCOMPARE(int(h->gridLevels().size()), 255);
  QCOMPARE(h->levelStride(), 4);
  QCOMPARE(h->gridGraph()->dataCount(), 63);
  QVERIFY(std::find(h->drawnLevels().begin(), h->drawnLevels().end(), 0.0) != h->drawnLevels().end());
  QVERIFY2(h->title().contains(QStringLiteral("every 4th")), qPrintable(h->title()));
}

void TestLayerInspector::perAxisChannelSwitchChangesPlottedData() {
  const int conv2 = doc_->nodeOfLayer(QStringLiteral("conv2"));
  doc_->setSelectedNodes({conv2});
  QVERIFY(doc_->layerConfig(conv2)->weights.at("kernel").perAxis);
  setKernelBitsAsUser(4);
  WeightHistogram* h = inspector_->histogram();
  const Tensor& w = paramOf(*doc_, conv2, "kernel");  // HWIO (3, 3, 32, 64)
  const int C = w.shape().back();
  QCOMPARE(h->channelCount(), C);
  QVERIFY(inspector_->channelSpin()->isVisible());
  QCOMPARE(inspector_->channelSpin()->maximum(), C - 1);

  auto check = [&](int c) {
    std::vector<float> mine;
    double a = 0;
    for (size_t i = size_t(c); i < w.size(); i += size_t(C)) {
      mine.push_back(w.data()[i]);
      a = std::max(a, std::abs(double(w.data()[i])));
    }
    QCOMPARE(h->channel(), c);
    QVERIFY(h->shownValues() == mine);
    const std::vector<double> expected = symmetricNarrowLevels(a, 4);
    QCOMPARE(h->gridLevels().size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) QVERIFY(std::abs(h->gridLevels()[i] - expected[i]) <= 1e-6 * a);
  };
  check(0);
  const std::vector<float> first = h->shownValues();
  const std::vector<double> firstGrid = h->gridLevels();
  inspector_->channelSpin()->setValue(5);
  check(5);
  QVERIFY(h->shownValues() != first);
  QVERIFY(h->gridLevels() != firstGrid);  // each channel has its own max |w|
  QVERIFY(h->title().contains(QStringLiteral("channel 5 of 64")));
}

void TestLayerInspector::bnModeAndFreezeStepAreUndoable() {
  const int conv1 = doc_->nodeOfLayer(QStringLiteral("conv1"));
  doc_->setSelectedNodes({conv1});
  QVERIFY(inspector_->bnGroup()->isVisible());
  doc_->setSelectedNodes({doc_->nodeOfLayer(QStringLiteral("logits"))});
  QVERIFY(!inspector_->bnGroup()->isVisible());  // not in a Conv → BN chain
  doc_->setSelectedNodes({conv1});

  QComboBox* mode = inspector_->bnModeCombo();
  QSpinBox* freeze = inspector_->freezeBnSpin();
  QCOMPARE(doc_->quantizeConfig().bnMode, quant::BnMode::Tfmot);
  QVERIFY(!freeze->isEnabled());
  const int fold = mode->findData(int(quant::BnMode::Fold));
  mode->setCurrentIndex(fold);
  emit mode->activated(fold);  // what a user's pick emits
  QCOMPARE(doc_->quantizeConfig().bnMode, quant::BnMode::Fold);
  QVERIFY(freeze->isEnabled());
  freeze->setValue(500);
  QCOMPARE(doc_->quantizeConfig().freezeBnStep, 500L);
  doc_->undoStack()->undo();
  QCOMPARE(doc_->quantizeConfig().freezeBnStep, -1L);
  QCOMPARE(freeze->text(), QStringLiteral("never"));
  doc_->undoStack()->undo();
  QCOMPARE(doc_->quantizeConfig().bnMode, quant::BnMode::Tfmot);
  QCOMPARE(mode->currentIndex(), mode->findData(int(quant::BnMode::Tfmot)));
}

void TestLayerInspector::typeRangeAndDecayEdits() {
  const int dense = doc_->nodeOfLayer(QStringLiteral("dense"));
  doc_->setSelectedNodes({dense});
  QuantizerEditor* kernel = inspector_->weightEditor(QStringLiteral("kernel"));
  QVERIFY(!kernel->rangeMinEdit()->isVisible());  // LastValue has no range to set
  QComboBox* type = kernel->typeCombo();
  const int fixed = type->findText(QStringLiteral("Fixed"));
  QVERIFY(fixed >= 0);
  type->setCurrentIndex(fixed);
  emit type->activated(fixed);
  // Fixed needs a range: it gets the weights' own, so the grid stays the same size.
  const quant::QuantizerSpec& spec = doc_->layerConfig(dense)->weights.at("kernel");
  QCOMPARE(spec.type, std::string("Fixed"));
  const Tensor& w = paramOf(*doc_, dense, "kernel");
  const auto [mn, mx] = std::minmax_element(w.data(), w.data() + w.size());
  QCOMPARE(*spec.initMin, *mn);
  QCOMPARE(*spec.initMax, *mx);
  QVERIFY(kernel->rangeMaxEdit()->isVisible());
  QCOMPARE(kernel->rangeMaxEdit()->text().toFloat(), *mx);  // the text reads back as the same float

  kernel->rangeMaxEdit()->setText(QStringLiteral("0.5"));
  emit kernel->rangeMaxEdit()->editingFinished();
  QCOMPARE(*doc_->layerConfig(dense)->weights.at("kernel").initMax, 0.5f);
  QVERIFY(inspector_->histogram()->gridLevels().back() > 0.49);  // the grid follows the fixed range
  // A range with min above max is refused with the engine's message; nothing changes.
  const int steps = doc_->undoStack()->count();
  kernel->rangeMinEdit()->setText(QStringLiteral("0.7"));
  emit kernel->rangeMinEdit()->editingFinished();
  QCOMPARE(doc_->undoStack()->count(), steps);
  QVERIFY2(inspector_->messageLabel()->text().contains(QStringLiteral("init_min")),
           qPrintable(inspector_->messageLabel()->text()));
  QCOMPARE(kernel->rangeMinEdit()->text().toFloat(), *mn);  // reloaded from the document

  QuantizerEditor* out = inspector_->outputEditor();
  QVERIFY(out->emaDecayEdit()->isVisible());
  out->emaDecayEdit()->setText(QStringLiteral("0.99"));
  emit out->emaDecayEdit()->editingFinished();
  QCOMPARE(doc_->layerConfig(dense)->output->emaDecay, 0.99f);
  QVERIFY(inspector_->messageLabel()->text().isEmpty());
}

void TestLayerInspector::renderWithFourBitConv() {
  const QString dir = qEnvironmentVariableIsSet("QAT_SCREENSHOT_DIR") ? qEnvironmentVariable("QAT_SCREENSHOT_DIR")
                                                                       : QDir::tempPath();
  auto save = [&](const QString& name) {
    QTest::qWait(50);  // layouts settle on posted events (a cascade up to the scroll area)
    inspector_->histogram()->replot();
    const QImage image = inspector_->grab().toImage();
    const QString path = QDir(dir).filePath(name);
    QVERIFY(!image.isNull() && image.save(path));
    qInfo("screenshot: %s", qPrintable(path));
  };
  // Also a Dense layer (output quantizer with its EMA decay) and a mixed selection.
  doc_->setSelectedNodes({doc_->nodeOfLayer(QStringLiteral("dense"))});
  save(QStringLiteral("layer_inspector_dense.png"));
  doc_->setSelectedNodes({doc_->nodeOfLayer(QStringLiteral("conv1")), doc_->nodeOfLayer(QStringLiteral("dense")),
                          doc_->nodeOfLayer(QStringLiteral("flatten"))});
  save(QStringLiteral("layer_inspector_mixed.png"));

  doc_->setSelectedNodes({doc_->nodeOfLayer(QStringLiteral("conv2"))});
  setKernelBitsAsUser(4);
  inspector_->channelSpin()->setValue(3);
  save(QStringLiteral("layer_inspector.png"));
  // The grid lines' red must be on screen: the histogram was really drawn.
  const QImage plot = inspector_->histogram()->grab().toImage();
  int red = 0;
  for (int y = 0; y < plot.height(); ++y)
    for (int x = 0; x < plot.width(); ++x) {
      const QColor c = plot.pixelColor(x, y);
      red += c.red() > 180 && c.green() < 140 && c.blue() < 140;
    }
  QVERIFY2(red > 100, qPrintable(QStringLiteral("%1 red pixels").arg(red)));
}

QTEST_MAIN(TestLayerInspector)
#include "test_layer_inspector.moc"
