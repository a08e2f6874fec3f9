#include "ui/layer_inspector.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

#include "engine/quant/scheme.h"
#include "ui/weight_histogram.h"

namespace qat::ui {

namespace {

QString roleName(quant::QuantRole r) {
  const std::string_view n = quant::quantRoleName(r);
  return QString::fromUtf8(n.data(), static_cast<qsizetype>(n.size()));
}

const Param* findParam(const Model& model, int node, const std::string& name) {
  const Layer& layer = *model.node(node).layer;
  for (const Param* p : layer.params())
    if (p->name == name) return p;
  return nullptr;
}

// The tensor the histogram shows: the kernel among the quantized weights, else the
// first of them, else the layer's kernel if it has one (a float layer).
std::string mainWeight(const ProjectDocument& doc, int node) {
  if (const auto* cfg = doc.layerConfig(node); cfg && !cfg->weights.empty()) {
    for (const char* k : {"kernel", "depthwise_kernel"})
      if (cfg->weights.count(k)) return k;
    return cfg->weights.begin()->first;
  }
  for (const char* k : {"kernel", "depthwise_kernel"})
    if (findParam(doc.model(), node, k)) return k;
  return {};
}

}  // namespace

LayerInspector::LayerInspector(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), document_(document) {
  buildUi();
  connect(document_, &ProjectDocument::selectionChanged, this, [this] {
    message_->clear();
    refresh();
  });
  connect(document_, &ProjectDocument::quantizeConfigChanged, this, [this] { refresh(); });
  connect(document_, &ProjectDocument::modelChanged, this, [this] {
    weightsDirty_ = true;
    message_->clear();
    refresh();
  });
  connect(document_, &ProjectDocument::weightsChanged, this, [this] {
    weightsDirty_ = true;
    refresh();
  });
  refresh();
}

// ~QWidget hides the window, which moves the focus and makes a focused spin box or line
// edit emit editingFinished into a half-destroyed inspector: silence the children first.
LayerInspector::~LayerInspector() {
  for (QWidget* w : findChildren<QWidget*>()) w->blockSignals(true);
}

void LayerInspector::buildUi() {
  auto* outer = new QVBoxLayout(this);
  header_ = new QLabel(this);
  header_->setWordWrap(true);
  header_->setTextFormat(Qt::RichText);
  outer->addWidget(header_);
  placeholder_ = new QLabel(tr("Select a layer in the graph"), this);
  placeholder_->setAlignment(Qt::AlignCenter);
  placeholder_->setStyleSheet(QStringLiteral("color: palette(mid); padding: 24px;"));
  outer->addWidget(placeholder_);

  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  body_ = new QWidget;
  scroll->setWidget(body_);
  outer->addWidget(scroll, 1);
  auto* bodyLayout = new QVBoxLayout(body_);
  bodyLayout->setContentsMargins(0, 0, 0, 0);

  reason_ = new QLabel(body_);
  reason_->setWordWrap(true);
  reason_->setStyleSheet(QStringLiteral("color: #8a5a00;"));
  bodyLayout->addWidget(reason_);

  // Everything that edits the config; disabled as a whole when nothing can be quantized.
  controls_ = new QWidget(body_);
  auto* c = new QVBoxLayout(controls_);
  c->setContentsMargins(0, 0, 0, 0);
  auto* checks = new QHBoxLayout;
  quantize_ = new QCheckBox(tr("Quantize"), controls_);
  connect(quantize_, &QCheckBox::clicked, this, [this] {
    document_->setQuantized(targetNodes(), quantize_->checkState() != Qt::Unchecked);
  });
  applyToAll_ = new QCheckBox(tr("Apply to all selected"), controls_);
  applyToAll_->setChecked(true);
  applyToAll_->setToolTip(tr("Edits and presets change every selected layer that has the same slot; "
                             "off: only the first selected layer."));
  connect(applyToAll_, &QCheckBox::toggled, this, [this] { refresh(); });
  checks->addWidget(quantize_);
  checks->addStretch();
  checks->addWidget(applyToAll_);
  c->addLayout(checks);

  auto* presetRow = new QHBoxLayout;
  presetRow->addWidget(new QLabel(tr("Preset:"), controls_));
  for (QuantPreset p : kAllPresets) {
    auto* b = new QPushButton(presetName(p), controls_);
    connect(b, &QPushButton::clicked, this, [this, p] { document_->applyPreset(targetNodes(), p); });
    presets_[p] = b;
    presetRow->addWidget(b);
  }
  presetRow->addStretch();
  c->addLayout(presetRow);

  floatHint_ = new QLabel(tr("Runs in float. Tick “Quantize” or pick a preset to edit its quantizers."), controls_);
  floatHint_->setWordWrap(true);
  c->addWidget(floatHint_);
  weightLayout_ = new QVBoxLayout;
  c->addLayout(weightLayout_);
  output_ = new QuantizerEditor(tr("Activation / output quantizer"), true, false, controls_);
  connect(output_, &QuantizerEditor::edited, this, [this](QuantField f) { onEdited({}, f); });
  c->addWidget(output_);

  bnGroup_ = new QGroupBox(tr("BatchNorm folding (model-wide)"), controls_);
  auto* bn = new QFormLayout(bnGroup_);
  bnMode_ = new QComboBox(bnGroup_);
  bnMode_->addItem(tr("tfmot: BN in float, folded at export"), int(quant::BnMode::Tfmot));
  bnMode_->addItem(tr("fold: folded during QAT"), int(quant::BnMode::Fold));
  connect(bnMode_, &QComboBox::activated, this, [this](int i) {
    document_->setBnMode(static_cast<quant::BnMode>(bnMode_->itemData(i).toInt()));
  });
  bn->addRow(tr("BN mode"), bnMode_);
  freezeBn_ = new QSpinBox(bnGroup_);
  freezeBn_->setRange(-1, 1000000000);
  freezeBn_->setSpecialValueText(tr("never"));
  freezeBn_->setKeyboardTracking(false);
  freezeBn_->setToolTip(tr("Fold mode: optimizer steps after which the BN statistics freeze"));
  auto commitFreeze = [this] {
    if (freezeBn_->value() != document_->quantizeConfig().freezeBnStep) document_->setFreezeBnStep(freezeBn_->value());
  };
  connect(freezeBn_, &QSpinBox::valueChanged, this, commitFreeze);
  connect(freezeBn_, &QSpinBox::editingFinished, this, commitFreeze);
  bn->addRow(tr("Freeze BN at step"), freezeBn_);
  c->addWidget(bnGroup_);
  message_ = new QLabel(controls_);
  message_->setWordWrap(true);
  message_->setStyleSheet(QStringLiteral("color: #b00020;"));
  c->addWidget(message_);
  bodyLayout->addWidget(controls_);

  histGroup_ = new QGroupBox(tr("Weights and quantization grid"), body_);
  auto* h = new QVBoxLayout(histGroup_);
  auto* channelRow = new QHBoxLayout;
  channelLabel_ = new QLabel(tr("Output channel"), histGroup_);
  channel_ = new QSpinBox(histGroup_);
  channel_->setToolTip(tr("Per-axis quantization: each output channel has its own grid"));
  channelRow->addWidget(channelLabel_);
  channelRow->addWidget(channel_);
  channelRow->addStretch();
  h->addLayout(channelRow);
  histogram_ = new WeightHistogram(histGroup_);
  h->addWidget(histogram_, 1);
  connect(channel_, &QSpinBox::valueChanged, histogram_, &WeightHistogram::setChannel);
  bodyLayout->addWidget(histGroup_, 1);
}

QPushButton* LayerInspector::presetButton(QuantPreset preset) const {
  auto it = presets_.find(preset);
  return it == presets_.end() ? nullptr : it->second;
}

QStringList LayerInspector::weightParams() const {
  QStringList names;
  for (const auto& [name, e] : weightEditors_) names << QString::fromStdString(name);
  return names;
}

QuantizerEditor* LayerInspector::weightEditor(const QString& param) const {
  auto it = weightEditors_.find(param.toStdString());
  return it == weightEditors_.end() ? nullptr : it->second;
}

QList<int> LayerInspector::targetNodes() const {
  QList<int> t;
  if (!document_->hasModel()) return t;
  for (int n : document_->selectedNodes()) {
    if (!document_->canQuantize(n)) continue;
    t << n;
    if (!applyToAll_->isChecked()) break;
  }
  return t;
}

QList<int> LayerInspector::quantizedTargets() const {
  QList<int> q;
  for (int n : targetNodes())
    if (document_->isQuantized(n) && document_->layerConfig(n)) q << n;
  return q;
}

void LayerInspector::refresh() {
  const QList<int> selection = document_->hasModel() ? document_->selectedNodes() : QList<int>{};
  const bool any = !selection.isEmpty();
  placeholder_->setVisible(!any);
  header_->setVisible(any);
  body_->setVisible(any);
  if (!any) {
    histNode_ = -1;
    histParam_.clear();
    histogram_->clear();
    return;
  }
  refreshHeader(selection);
  const QList<int> targets = targetNodes();
  controls_->setEnabled(!targets.isEmpty());
  {
    const QSignalBlocker block(quantize_);
    int on = 0;
    for (int n : targets) on += document_->isQuantized(n) ? 1 : 0;
    quantize_->setTristate(on > 0 && on < targets.size());
    quantize_->setCheckState(on == 0 ? Qt::Unchecked : on == targets.size() ? Qt::Checked : Qt::PartiallyChecked);
  }
  applyToAll_->setVisible(selection.size() > 1);
  refreshEditors(quantizedTargets());
  floatHint_->setVisible(!targets.isEmpty() && quantizedTargets().isEmpty());
  refreshBn(selection);
  refreshHistogram(selection);
}

void LayerInspector::refreshHeader(const QList<int>& selection) {
  QStringList names, roles;
  std::map<QString, int> classes;
  for (int n : selection) {
    names << document_->layerName(n).toHtmlEscaped();
    ++classes[document_->layerClass(n)];
    const QString r = roleName(document_->nodeInfo(n).role);
    if (!roles.contains(r)) roles << r;
  }
  QStringList classText;
  for (const auto& [cls, count] : classes) classText << (count > 1 ? tr("%1 ×%2").arg(cls).arg(count) : cls);
  constexpr int kMaxNames = 6;
  QString nameText = names.mid(0, kMaxNames).join(QStringLiteral(", "));
  if (names.size() > kMaxNames) nameText += tr(", … (%1 more)").arg(names.size() - kMaxNames);
  const QString title = selection.size() == 1 ? nameText : tr("%1 layers: %2").arg(selection.size()).arg(nameText);
  header_->setText(QStringLiteral("<b>%1</b><br>%2 · %3 %4")
                       .arg(title, classText.join(QStringLiteral(", ")).toHtmlEscaped(),
                            roles.size() == 1 ? tr("role") : tr("roles"), roles.join(QStringLiteral(", "))));

  // Why layers are left out: all of them (the editors are disabled) or some.
  QStringList reasons;
  int excluded = 0;
  for (int n : selection) {
    QString why;
    if (document_->canQuantize(n, &why)) continue;
    ++excluded;
    const QString line = selection.size() == 1 ? why : document_->layerName(n) + QStringLiteral(": ") + why;
    if (reasons.size() < 3) reasons << line;
  }
  QString text;
  if (excluded == selection.size())
    text = (selection.size() == 1 ? tr("Cannot be quantized: ") : tr("None of these layers can be quantized. ")) +
           reasons.join(QStringLiteral("; "));
  else if (excluded > 0)
    text = tr("%1 of %2 selected layers cannot be quantized and are left out (%3).")
               .arg(excluded).arg(selection.size()).arg(reasons.join(QStringLiteral("; ")));
  reason_->setText(text);
  reason_->setVisible(!text.isEmpty());
}

void LayerInspector::refreshEditors(const QList<int>& quantized) {
  // One editor per weight slot that any target layer quantizes ("kernel", ...).
  std::map<std::string, std::vector<std::optional<quant::QuantizerSpec>>> weights;
  std::vector<std::optional<quant::QuantizerSpec>> outputs;
  for (int n : quantized) {
    const quant::LayerQuantConfig* cfg = document_->layerConfig(n);
    for (const auto& [param, spec] : cfg->weights) weights[param].push_back(spec);
    outputs.push_back(cfg->output);
  }
  bool same = weights.size() == weightEditors_.size();
  for (const auto& [param, specs] : weights) same = same && weightEditors_.count(param);
  if (!same) {
    // deleteLater: the edit that changed the slots may come from one of these editors.
    for (auto& [param, editor] : weightEditors_) {
      editor->hide();
      editor->deleteLater();
    }
    weightEditors_.clear();
    for (const auto& [param, specs] : weights) {
      auto* e = new QuantizerEditor(tr("Weight quantizer: %1").arg(QString::fromStdString(param)), false, true,
                                    controls_);
      const std::string name = param;
      connect(e, &QuantizerEditor::edited, this, [this, name](QuantField f) { onEdited(name, f); });
      weightLayout_->addWidget(e);
      e->show();  // the layout would only show it from a queued call, after the next event loop turn
      weightEditors_[param] = e;
    }
  }
  for (const auto& [param, specs] : weights) weightEditors_[param]->load(specs);
  output_->setVisible(!quantized.isEmpty());
  output_->load(outputs);
}

void LayerInspector::refreshBn(const QList<int>& selection) {
  QStringList chains;
  for (const QList<int>& group : document_->fusedGroups()) {
    if (std::none_of(group.begin(), group.end(), [&](int n) { return selection.contains(n); })) continue;
    QStringList names;
    for (int n : group) names << document_->layerName(n);
    chains << names.join(QStringLiteral(" → "));
  }
  bnGroup_->setVisible(!chains.isEmpty());
  if (chains.isEmpty()) return;
  bnGroup_->setToolTip(tr("Fused: %1").arg(chains.join(QStringLiteral("; "))));
  const quant::QuantizeConfig& cfg = document_->quantizeConfig();
  {
    const QSignalBlocker block(bnMode_);
    bnMode_->setCurrentIndex(bnMode_->findData(int(cfg.bnMode)));
  }
  const QSignalBlocker block(freezeBn_);
  freezeBn_->setValue(static_cast<int>(std::clamp<long>(cfg.freezeBnStep, -1, freezeBn_->maximum())));
  freezeBn_->setEnabled(cfg.bnMode == quant::BnMode::Fold);  // tfmot mode never freezes
}

void LayerInspector::refreshHistogram(const QList<int>& selection) {
  int node = -1;
  std::string param;
  for (int n : selection) {
    param = mainWeight(*document_, n);
    if (!param.empty() && findParam(document_->model(), n, param)) {
      node = n;
      break;
    }
  }
  histGroup_->setVisible(node >= 0);
  if (node < 0) {
    histNode_ = -1;
    histParam_.clear();
    return;
  }
  std::optional<quant::QuantizerSpec> spec;
  if (const auto* cfg = document_->layerConfig(node); cfg && cfg->quantize)
    if (auto it = cfg->weights.find(param); it != cfg->weights.end()) spec = it->second;
  // The grid depends on the weights and the spec only: skip the recomputation (a pass
  // over the whole tensor) when an unrelated layer's config changed.
  if (node != histNode_ || param != histParam_ || spec != histSpec_ || weightsDirty_) {
    histNode_ = node;
    histParam_ = param;
    histSpec_ = spec;
    weightsDirty_ = false;
    histogram_->setTensor(document_->layerName(node), param, findParam(document_->model(), node, param)->value,
                          spec);
  }
  histGroup_->setTitle(selection.size() > 1 ? tr("Weights of %1 (first selected)").arg(document_->layerName(node))
                                            : tr("Weights and quantization grid"));
  const bool perChannel = histogram_->channelCount() > 1;
  channelLabel_->setVisible(perChannel);
  channel_->setVisible(perChannel);
  const QSignalBlocker block(channel_);
  channel_->setRange(0, histogram_->channelCount() - 1);
  channel_->setValue(histogram_->channel());
}

void LayerInspector::fitToType(int node, const std::string& param, const std::string& oldType,
                               quant::QuantizerSpec& spec) const {
  if (spec.type == oldType) return;
  spec.extra = nlohmann::json::object();  // extra keys belong to one kind
  if (spec.type == "Fixed" && !(spec.initMin && spec.initMax)) {
    // Fixed needs a range: a weight's current range, else tfmot's initial ±6.
    float lo = -6.0f, hi = 6.0f;
    if (const Param* p = param.empty() ? nullptr : findParam(document_->model(), node, param);
        p && p->value.size() > 0) {
      const auto [mn, mx] = std::minmax_element(p->value.data(), p->value.data() + p->value.size());
      lo = std::min(*mn, 0.0f);
      hi = std::max(*mx, 0.0f);
    }
    spec.initMin = lo;
    spec.initMax = hi;
  }
}

void LayerInspector::onEdited(const std::string& param, QuantField field) {
  QuantizerEditor* editor = param.empty() ? output_ : weightEditors_.at(param);
  std::map<std::string, quant::LayerQuantConfig> changes;
  for (int n : quantizedTargets()) {
    const quant::LayerQuantConfig& before = *document_->layerConfig(n);
    quant::LayerQuantConfig cfg = before;
    std::optional<quant::QuantizerSpec>* slot = nullptr;
    std::optional<quant::QuantizerSpec> weight;
    if (param.empty()) {
      slot = &cfg.output;
    } else if (auto it = cfg.weights.find(param); it != cfg.weights.end()) {
      weight = it->second;
      slot = &weight;
    } else {
      continue;  // this layer has no such parameter
    }
    if (field == QuantField::Skip) {
      if (editor->skipChecked()) {
        cfg.output.reset();
      } else if (!cfg.output) {
        // A new output quantizer: what the default scheme would put there.
        cfg.output = document_->presetConfig(n, QuantPreset::Default8).output;
        if (!cfg.output) cfg.output = quant::schemeActivationSpec(quant::SchemeOptions{});
      }
    } else {
      if (!*slot) continue;  // a skipped output has no fields to edit
      quant::QuantizerSpec spec = **slot;
      if (!editor->apply(field, spec)) continue;  // "—" or not a number: nothing to write
      if (field == QuantField::Type) fitToType(n, param, (*slot)->type, spec);
      if (auto q = quant::makeQuantizer(spec); !q.ok()) {
        message_->setText(tr("%1: %2").arg(document_->layerName(n), QString::fromStdString(q.error().message)));
        refresh();  // show the document's values again
        return;
      }
      *slot = spec;
      if (!param.empty()) cfg.weights[param] = spec;
    }
    if (!(cfg == before)) changes[document_->layerName(n).toStdString()] = cfg;
  }
  message_->clear();
  if (changes.empty()) {
    refresh();  // e.g. the user picked "—": show the real values again
    return;
  }
  const QString slotName = param.empty() ? tr("output") : QString::fromStdString(param);
  const QString where = changes.size() == 1 ? QString::fromStdString(changes.begin()->first)
                                            : tr("%1 layers").arg(changes.size());
  document_->setLayerConfigs(changes, tr("%1: %2 %3").arg(where, slotName, editor->describeEdit(field)));
}

}  // namespace qat::ui
