#include "ui/project_document.h"

#include <QFileInfo>
#include <QUndoStack>

#include <algorithm>
#include <cmath>

#include "engine/io/keras_model.h"
#include "engine/models/builtin.h"
#include "engine/train/defaults.h"
#include "ui/config_commands.h"

namespace qat::ui {
namespace {

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

quant::SchemeOptions presetScheme(QuantPreset p) {
  quant::SchemeOptions s;
  switch (p) {
    case QuantPreset::W4A8: s = *quant::schemeFromName("w4a8"); break;
    case QuantPreset::W8A16: s = *quant::schemeFromName("w8a16"); break;
    default: break;  // Default8 (Float does not use a scheme)
  }
  return s;
}

}  // namespace

QString presetName(QuantPreset p) {
  switch (p) {
    case QuantPreset::Default8: return QObject::tr("Default 8-bit");
    case QuantPreset::W4A8: return QStringLiteral("W4A8");
    case QuantPreset::W8A16: return QStringLiteral("W8A16");
    case QuantPreset::Float: return QObject::tr("Float");
  }
  return {};
}

ProjectDocument::ProjectDocument(QObject* parent)
    : QObject(parent), undoStack_(new QUndoStack(this)), controller_(new TrainingController(this)) {
  connect(controller_, &TrainingController::started, this, &ProjectDocument::trainingStarted);
  connect(controller_, &TrainingController::pausedChanged, this, &ProjectDocument::trainingPausedChanged);
  connect(controller_, &TrainingController::finished, this, &ProjectDocument::onWorkerFinished);
}

// The worker only touches its own copies and the shared data sets (which it keeps
// alive), but join it first anyway so no run outlives the document that started it.
ProjectDocument::~ProjectDocument() {
  delete controller_;  // cancels and joins
  controller_ = nullptr;
}

// ---- model ----------------------------------------------------------------------------

bool ProjectDocument::newFromBuiltin(const QString& name, quint64 seed, QString* error) {
  if (isTraining()) {
    if (error) *error = tr("Stop the training run before opening another model.");
    return false;
  }
  auto made = makeBuiltinModel(name.toStdString(), seed);
  if (!made.ok()) {
    if (error) *error = fromStd(made.error().message);
    return false;
  }
  Model model = std::move(made.value());
  LossSpec loss = defaultLossFor(model);
  setModel(std::move(model), name, QStringLiteral("builtin:") + name, loss, {});
  return true;
}

bool ProjectDocument::openKerasModel(const QString& h5Path, const QString& architectureJson, QString* error) {
  if (isTraining()) {
    if (error) *error = tr("Stop the training run before opening another model.");
    return false;
  }
  auto file = loadKerasFile(h5Path.toStdString(), architectureJson.toStdString());
  if (!file.ok()) {
    if (error) *error = fromStd(file.error().message);
    return false;
  }
  Model model = std::move(file->model);
  LossSpec loss = defaultLossFor(model);
  if (file->training) {
    // As qat-cli train: the file's compile() set-up is the default.
    if (auto kind = lossFromName(file->training->loss)) loss = {*kind, file->training->fromLogits};
    TrainingSettings s = settings_;
    if (auto opt = optimizerFromName(file->training->optimizer)) s.optimizer = *opt;
    if (file->training->learningRate && *file->training->learningRate > 0)
      s.learningRate = *file->training->learningRate;
    setTrainingSettings(s);
  }
  QStringList warnings;
  for (const std::string& w : file->warnings) warnings << fromStd(w);
  setModel(std::move(model), QFileInfo(h5Path).fileName(), h5Path, loss, warnings);
  return true;
}

void ProjectDocument::setModel(Model model, const QString& name, const QString& source, LossSpec loss,
                               QStringList warnings) {
  project::DataRef data = project_.data;  // the loaded data stays
  project_ = project::Project{};
  project_.model = std::move(model);
  project_.modelName = name.toStdString();
  project_.modelSource = source.toStdString();
  project_.data = std::move(data);
  hasModel_ = true;
  modelWarnings_ = std::move(warnings);
  loss_ = loss;
  nodeInfo_.clear();
  for (int n = 0; n < project_.model.size(); ++n) nodeInfo_.push_back(quant::classifyNode(project_.model, n));
  resetConfig();
  selection_.clear();
  activeRunId_ = 0;
  lastOutcome_.reset();
  undoStack_->clear();
  projectPath_.clear();
  emit projectPathChanged(projectPath_);
  setModified(false);
  emit modelChanged();
  emit quantizeConfigChanged({});
  emit selectionChanged();
  emit activeRunChanged(0);
}

// tfmot's quantize_model default: the 8-bit scheme over every layer it supports.
void ProjectDocument::resetConfig() { project_.config = wholeModelScheme(quant::SchemeOptions{}); }

qint64 ProjectDocument::parameterCount() const {
  return hasModel_ ? static_cast<qint64>(project_.model.paramCount()) : 0;
}

int ProjectDocument::nodeOfLayer(const QString& layer) const {
  return hasModel_ ? project_.model.find(layer.toStdString()) : -1;
}

QString ProjectDocument::layerName(int node) const { return fromStd(project_.model.node(node).layer->name()); }

QString ProjectDocument::layerClass(int node) const {
  return QString::fromLatin1(opTypeName(project_.model.node(node).layer->op()));
}

// ---- quantize config --------------------------------------------------------------------

bool ProjectDocument::canQuantize(int node, QString* reason) const {
  auto say = [&](QString why) {
    if (reason) *reason = std::move(why);
    return false;
  };
  if (!hasModel_ || node < 0 || node >= project_.model.size()) return say(tr("No such layer."));
  const quant::NodeQuantInfo& info = nodeInfo_[size_t(node)];
  switch (info.role) {
    case quant::QuantRole::Unsupported: return say(fromStd(info.reason));
    case quant::QuantRole::Input:
      return say(tr("Model inputs are quantized by the input quantizer; there is nothing to tick here."));
    case quant::QuantRole::PassThrough:
      return say(tr("%1 only passes already quantized values through; it has nothing to quantize.")
                     .arg(layerClass(node)));
    default: break;
  }
  if (reason) reason->clear();
  return true;
}

const quant::LayerQuantConfig* ProjectDocument::layerConfig(int node) const {
  auto it = project_.config.layers.find(project_.model.node(node).layer->name());
  return it == project_.config.layers.end() ? nullptr : &it->second;
}

bool ProjectDocument::isQuantized(int node) const {
  if (!canQuantize(node)) return false;
  const quant::LayerQuantConfig* c = layerConfig(node);
  return c && c->quantize;
}

QString ProjectDocument::bitBadge(int node) const {
  if (!canQuantize(node)) return nodeInfo_.empty() || nodeInfo_[size_t(node)].role != quant::QuantRole::Unsupported
                                     ? QString()
                                     : QStringLiteral("float");
  const quant::LayerQuantConfig* c = layerConfig(node);
  if (!c || !c->quantize) return QStringLiteral("float");
  int wbits = 0;
  for (const auto& [name, spec] : c->weights) wbits = std::max(wbits, spec.bits);
  // A conv whose output quantizer sits after its fused BN / ReLU (the scheme's layout
  // rule) reads as the group's activation bits: what the exported op produces.
  std::optional<int> abits;
  if (c->output) abits = c->output->bits;
  else if (wbits > 0)
    for (const QList<int>& group : fusedGroups())
      if (group.front() == node)
        if (const quant::LayerQuantConfig* last = layerConfig(group.back()); last && last->quantize && last->output)
          abits = last->output->bits;
  QStringList parts;
  if (wbits > 0) parts << QStringLiteral("W%1").arg(wbits);
  if (abits) parts << QStringLiteral("A%1").arg(*abits);
  if (parts.isEmpty()) {  // e.g. a BN between a conv and its ReLU: folded into the conv
    for (const QList<int>& group : fusedGroups())
      if (group.contains(node) && group.front() != node) return tr("fused");
    return QStringLiteral("—");
  }
  return parts.join(QLatin1Char('/'));
}

// The scheme over the whole model, so the layout rules (quantizer after a fused ReLU, none
// between a conv and its BN) come out per layer as they would for the whole model.
quant::QuantizeConfig ProjectDocument::wholeModelScheme(const quant::SchemeOptions& scheme) const {
  auto r = quant::makeSchemeConfig(project_.model, scheme, {}, /*skipUnsupported=*/true);
  return r.ok() ? std::move(r->config) : quant::QuantizeConfig{};
}

quant::LayerQuantConfig ProjectDocument::presetConfig(int node, QuantPreset preset) const {
  return presetEntry(node, preset,
                     preset == QuantPreset::Float ? quant::QuantizeConfig{} : wholeModelScheme(presetScheme(preset)));
}

// `scheme`: wholeModelScheme of the preset (unused for Float).
quant::LayerQuantConfig ProjectDocument::presetEntry(int node, QuantPreset preset,
                                                     const quant::QuantizeConfig& scheme) const {
  quant::LayerQuantConfig out;
  if (preset != QuantPreset::Float) {
    auto it = scheme.layers.find(project_.model.node(node).layer->name());
    return it != scheme.layers.end() ? it->second : out;
  }
  if (const quant::LayerQuantConfig* c = layerConfig(node)) out = *c;
  out.quantize = false;
  return out;
}

void ProjectDocument::pushConfig(quant::QuantizeConfig next, const QList<int>& nodes, const QString& text) {
  if (next == project_.config) return;
  undoStack_->push(new ConfigCommand(this, project_.config, std::move(next), nodes, text));
}

void ProjectDocument::applyConfig(const quant::QuantizeConfig& config, const QList<int>& nodes) {
  project_.config = config;
  setModified(true);
  emit quantizeConfigChanged(nodes);
}

void ProjectDocument::setQuantized(const QList<int>& nodes, bool on) {
  quant::QuantizeConfig next = project_.config;
  std::optional<quant::QuantizeConfig> scheme;  // computed once, when a never-configured layer is ticked
  QList<int> changed;
  for (int n : nodes) {
    if (!canQuantize(n)) continue;
    const std::string& name = project_.model.node(n).layer->name();
    auto it = next.layers.find(name);
    if (it == next.layers.end()) {
      if (!on) continue;
      // Never configured: the scheme's entry (the user's own specs are kept otherwise).
      if (!scheme) {
        auto options = quant::schemeFromName(next.scheme);
        scheme = wholeModelScheme(options.ok() ? *options : quant::SchemeOptions{});
      }
      auto entry = scheme->layers.find(name);
      if (entry == scheme->layers.end()) continue;
      it = next.layers.emplace(name, entry->second).first;
    }
    it->second.quantize = on;
    changed << n;
  }
  const QString what = changed.size() == 1 ? layerName(changed[0]) : tr("%n layers", nullptr, int(changed.size()));
  pushConfig(std::move(next), changed, (on ? tr("Quantize %1") : tr("Keep %1 in float")).arg(what));
}

void ProjectDocument::applyPreset(const QList<int>& nodes, QuantPreset preset) {
  const quant::QuantizeConfig scheme =
      preset == QuantPreset::Float ? quant::QuantizeConfig{} : wholeModelScheme(presetScheme(preset));
  std::map<std::string, quant::LayerQuantConfig> changes;
  for (int n : nodes)
    if (canQuantize(n)) changes[project_.model.node(n).layer->name()] = presetEntry(n, preset, scheme);
  setLayerConfigs(changes, tr("Preset %1").arg(presetName(preset)));
}

void ProjectDocument::setLayerConfigs(const std::map<std::string, quant::LayerQuantConfig>& changes,
                                      const QString& text) {
  quant::QuantizeConfig next = project_.config;
  QList<int> nodes;
  for (const auto& [name, c] : changes) {
    next.layers[name] = c;
    if (int n = project_.model.find(name); n >= 0) nodes << n;
  }
  pushConfig(std::move(next), nodes, text);
}

void ProjectDocument::setBnMode(quant::BnMode mode) {
  quant::QuantizeConfig next = project_.config;
  next.bnMode = mode;
  pushConfig(std::move(next), {}, tr("BatchNorm mode %1").arg(fromStd(std::string(quant::bnModeName(mode)))));
}

void ProjectDocument::setFreezeBnStep(long step) {
  quant::QuantizeConfig next = project_.config;
  next.freezeBnStep = step;
  pushConfig(std::move(next), {}, tr("Freeze BatchNorm at step %1").arg(step));
}

void ProjectDocument::setQuantizeConfig(const quant::QuantizeConfig& config, const QString& text) {
  pushConfig(config, {}, text);
}

QList<QList<int>> ProjectDocument::fusedGroups() const {
  QList<QList<int>> out;
  if (!hasModel_) return out;
  for (const auto& g : quant::fusedGroups(project_.model)) out << QList<int>(g.begin(), g.end());
  return out;
}

// ---- selection ------------------------------------------------------------------------------

void ProjectDocument::setSelectedNodes(QList<int> nodes) {
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  if (nodes == selection_) return;
  selection_ = std::move(nodes);
  emit selectionChanged();
}

QList<int> ProjectDocument::nodesOfClass(const QString& className) const {
  QList<int> out;
  if (!hasModel_) return out;
  for (int n = 0; n < project_.model.size(); ++n)
    if (nodeInfo_[size_t(n)].role != quant::QuantRole::Input && layerClass(n) == className) out << n;
  return out;
}

QStringList ProjectDocument::layerClasses() const {
  QStringList out;
  if (!hasModel_) return out;
  for (int n = 0; n < project_.model.size(); ++n)
    if (nodeInfo_[size_t(n)].role != quant::QuantRole::Input) out << layerClass(n);
  out.removeDuplicates();
  out.sort();
  return out;
}

// Weights at their configured bit widths; biases, BN parameters and float layers at 32.
ProjectDocument::SizeEstimate ProjectDocument::sizeEstimate() const {
  SizeEstimate e;
  if (!hasModel_) return e;
  double bits = 0;
  for (int n = 0; n < project_.model.size(); ++n) {
    const quant::LayerQuantConfig* c = isQuantized(n) ? layerConfig(n) : nullptr;
    for (const Param* p : project_.model.node(n).layer->params()) {
      const auto count = static_cast<double>(p->value.size());
      e.floatBytes += static_cast<qint64>(count) * 4;
      int b = 32;
      if (c) {
        auto it = c->weights.find(p->name);
        if (it != c->weights.end()) b = it->second.bits;
      }
      bits += count * b;
    }
  }
  e.quantizedBytes = static_cast<qint64>(std::ceil(bits / 8));
  return e;
}

}  // namespace qat::ui
