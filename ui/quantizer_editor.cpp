#include "ui/quantizer_editor.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleValidator>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSpinBox>

#include <functional>

namespace qat::ui {

namespace {

const QString kMixed = QStringLiteral("—");

// The one value every present spec has for a field, or nullopt when they differ.
template <class T>
std::optional<T> common(const std::vector<std::optional<quant::QuantizerSpec>>& specs,
                        const std::function<T(const quant::QuantizerSpec&)>& get) {
  std::optional<T> value;
  for (const auto& s : specs) {
    if (!s) continue;
    const T v = get(*s);
    if (value && !(*value == v)) return std::nullopt;
    value = v;
  }
  return value;
}

void setTri(QCheckBox* box, std::optional<bool> v) {
  const QSignalBlocker block(box);
  box->setTristate(!v.has_value());
  box->setCheckState(!v ? Qt::PartiallyChecked : *v ? Qt::Checked : Qt::Unchecked);
}

// Text of an optional number; "" for unset. The shortest %g text that reads back as the
// same float (the specs hold floats): "0.999", "-6", "0.04287426".
QString numberText(std::optional<double> v) {
  if (!v) return {};
  const float f = static_cast<float>(*v);
  for (int digits = 6; digits < 9; ++digits) {
    const QString t = QString::number(double(f), 'g', digits);
    if (t.toFloat() == f) return t;
  }
  return QString::number(double(f), 'g', 9);
}

bool usesInitRange(const QString& type) {
  return type == QLatin1String("Fixed") || type == QLatin1String("LearnedRange") || type == QLatin1String("LSQ");
}

}  // namespace

QuantizerEditor::QuantizerEditor(const QString& title, bool withSkip, bool withPerAxis, QWidget* parent)
    : QGroupBox(title, parent) {
  form_ = new QFormLayout(this);
  form_->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
  if (withSkip) {
    skip_ = new QCheckBox(tr("Skip (no quantizer: the output stays float)"), this);
    form_->addRow(skip_);
    connect(skip_, &QCheckBox::clicked, this, [this] { emit edited(QuantField::Skip); });
  }

  type_ = new QComboBox(this);
  type_->setPlaceholderText(kMixed);  // shown when mixed (current index −1)
  for (const std::string& t : quant::quantizerTypes()) {
    type_->addItem(QString::fromStdString(t));
    type_->setItemData(type_->count() - 1, QString::fromStdString(quant::quantizerDescription(t)), Qt::ToolTipRole);
  }
  connect(type_, &QComboBox::activated, this, [this] { emit edited(QuantField::Type); });
  form_->addRow(tr("Type"), type_);
  typeInfo_ = new QLabel(this);
  typeInfo_->setWordWrap(true);
  typeInfo_->setStyleSheet(QStringLiteral("color: palette(mid);"));
  form_->addRow(typeInfo_);

  // Bits: 2..16; the minimum 1 is the indeterminate "—" (specialValueText).
  bits_ = new QSpinBox(this);
  bits_->setRange(kMixedBits, 16);
  bits_->setSpecialValueText(kMixed);
  bits_->setKeyboardTracking(false);  // typing "16" must not commit "1" first
  connect(bits_, &QSpinBox::valueChanged, this, [this] { emit edited(QuantField::Bits); });
  connect(bits_, &QSpinBox::editingFinished, this, [this] { emit edited(QuantField::Bits); });
  form_->addRow(tr("Bits"), bits_);

  auto* flags = new QHBoxLayout;
  flags_ = flags;
  auto addFlag = [&](const QString& text, const QString& tip, QuantField f) {
    auto* box = new QCheckBox(text, this);
    box->setToolTip(tip);
    connect(box, &QCheckBox::clicked, this, [this, f] { emit edited(f); });
    flags->addWidget(box);
    return box;
  };
  symmetric_ = addFlag(tr("symmetric"), tr("range ±max(|min|, |max|): zero point at the middle"),
                       QuantField::Symmetric);
  narrow_ = addFlag(tr("narrow range"), tr("qmin = 1: an int8 grid of [−127, 127]"), QuantField::NarrowRange);
  if (withPerAxis)
    perAxis_ = addFlag(tr("per-axis"), tr("one grid per output channel"), QuantField::PerAxis);
  pow2_ = addFlag(tr("pow-2 scale"), tr("scale rounded up to a power of two (shift-only hardware)"),
                  QuantField::Pow2Scale);
  flags->addStretch();
  form_->addRow(flags);

  auto makeLine = [this](QuantField f) {
    auto* e = new QLineEdit(this);
    auto* v = new QDoubleValidator(e);
    v->setLocale(QLocale::c());  // config files use '.', whatever the desktop's locale
    e->setValidator(v);
    connect(e, &QLineEdit::editingFinished, this, [this, e, f] { commitLine(e, f); });
    return e;
  };
  ema_ = makeLine(QuantField::EmaDecay);
  ema_->setToolTip(tr("moving-average decay in [0, 1) (tfmot: 0.999)"));
  form_->addRow(tr("EMA decay"), ema_);
  rangeMin_ = makeLine(QuantField::RangeMin);
  rangeMax_ = makeLine(QuantField::RangeMax);
  form_->addRow(tr("Range min"), rangeMin_);
  form_->addRow(tr("Range max"), rangeMax_);
  updateTypeRows();
}

void QuantizerEditor::commitLine(QLineEdit* edit, QuantField field) {
  // editingFinished also fires on focus loss without a change: only real edits count.
  if (edit->text() == edit->property("loadedText").toString()) return;
  edit->setProperty("loadedText", edit->text());
  emit edited(field);
}

void QuantizerEditor::load(const std::vector<std::optional<quant::QuantizerSpec>>& specs) {
  using S = quant::QuantizerSpec;
  anyPresent_ = false;
  bool anyEmpty = false;
  for (const auto& s : specs) (s ? anyPresent_ : anyEmpty) = true;
  if (skip_) setTri(skip_, anyPresent_ && anyEmpty ? std::nullopt : std::optional<bool>(!anyPresent_));

  const auto type = common<std::string>(specs, [](const S& s) { return s.type; });
  commonType_ = type ? QString::fromStdString(*type) : QString();
  {
    const QSignalBlocker block(type_);
    type_->setCurrentIndex(type ? type_->findText(commonType_) : -1);
  }
  {
    const QSignalBlocker block(bits_);
    const auto bits = common<int>(specs, [](const S& s) { return s.bits; });
    bits_->setValue(bits ? *bits : kMixedBits);
  }
  setTri(symmetric_, common<bool>(specs, [](const S& s) { return s.symmetric; }));
  setTri(narrow_, common<bool>(specs, [](const S& s) { return s.narrowRange; }));
  if (perAxis_) setTri(perAxis_, common<bool>(specs, [](const S& s) { return s.perAxis; }));
  setTri(pow2_, common<bool>(specs, [](const S& s) { return s.pow2Scale; }));

  // Line edits: "" + placeholder "—" when mixed; an unset optional range is "" too, with
  // a placeholder that says what happens then.
  auto setLine = [](QLineEdit* e, bool mixed, std::optional<double> v, const QString& unsetText) {
    const QSignalBlocker block(e);
    e->setText(mixed ? QString() : numberText(v));
    e->setPlaceholderText(mixed ? kMixed : unsetText);
    e->setProperty("loadedText", e->text());
  };
  const auto ema = common<float>(specs, [](const S& s) { return s.emaDecay; });
  setLine(ema_, !ema, ema ? std::optional<double>(*ema) : std::nullopt, {});
  // FixedRangeClip keeps its clip range in the extra keys (defaults ±1), the others in
  // initMin/initMax (unset: the first batch sets it).
  const bool clip = commonType_ == QLatin1String("FixedRangeClip");
  auto rangeOf = [clip](bool low) {
    return [clip, low](const S& s) -> std::optional<double> {
      if (clip) return s.extra.value(low ? "min" : "max", low ? -1.0 : 1.0);
      const auto& v = low ? s.initMin : s.initMax;
      return v ? std::optional<double>(*v) : std::nullopt;
    };
  };
  const QString unset = tr("unset: the first batch sets it");
  const auto lo = common<std::optional<double>>(specs, rangeOf(true));
  const auto hi = common<std::optional<double>>(specs, rangeOf(false));
  setLine(rangeMin_, !lo, lo ? *lo : std::nullopt, unset);
  setLine(rangeMax_, !hi, hi ? *hi : std::nullopt, unset);
  updateTypeRows();
}

void QuantizerEditor::updateTypeRows() {
  // With every slot skipped there is nothing to edit but the skip box itself.
  const bool any = anyPresent_;
  form_->setRowVisible(type_, any);
  form_->setRowVisible(bits_, any);
  form_->setRowVisible(flags_, any);
  const QString& t = commonType_;
  form_->setRowVisible(ema_, any && t == QLatin1String("MovingAverage"));
  const bool range = any && (usesInitRange(t) || t == QLatin1String("FixedRangeClip"));
  form_->setRowVisible(rangeMin_, range);
  form_->setRowVisible(rangeMax_, range);
  typeInfo_->setText(t.isEmpty() ? (anyPresent_ ? tr("The selected layers use different types.") : QString())
                                 : QString::fromStdString(quant::quantizerDescription(t.toStdString())));
  form_->setRowVisible(typeInfo_, !typeInfo_->text().isEmpty());
}

bool QuantizerEditor::skipChecked() const { return skip_ && skip_->checkState() != Qt::Unchecked; }

bool QuantizerEditor::apply(QuantField field, quant::QuantizerSpec& spec) const {
  auto flag = [](QCheckBox* b) { return b->checkState() != Qt::Unchecked; };
  auto number = [](QLineEdit* e, double& v) {
    bool ok = false;
    v = QLocale::c().toDouble(e->text(), &ok);
    return ok;
  };
  double v = 0;
  switch (field) {
    case QuantField::Skip:
      return false;
    case QuantField::Type:
      if (type_->currentIndex() < 0) return false;
      spec.type = type_->currentText().toStdString();
      return true;
    case QuantField::Bits:
      if (bits_->value() == kMixedBits) return false;
      spec.bits = bits_->value();
      return true;
    case QuantField::Symmetric:
      spec.symmetric = flag(symmetric_);
      return true;
    case QuantField::NarrowRange:
      spec.narrowRange = flag(narrow_);
      return true;
    case QuantField::PerAxis:
      if (!perAxis_) return false;
      spec.perAxis = flag(perAxis_);
      return true;
    case QuantField::Pow2Scale:
      spec.pow2Scale = flag(pow2_);
      return true;
    case QuantField::EmaDecay:
      if (!number(ema_, v)) return false;
      spec.emaDecay = static_cast<float>(v);
      return true;
    case QuantField::RangeMin:
    case QuantField::RangeMax: {
      const bool low = field == QuantField::RangeMin;
      QLineEdit* e = low ? rangeMin_ : rangeMax_;
      const bool empty = e->text().trimmed().isEmpty();
      if (spec.type == "FixedRangeClip") {
        const char* key = low ? "min" : "max";
        if (empty) spec.extra.erase(key);  // back to the default ±1
        else if (number(e, v)) spec.extra[key] = v;
        else return false;
        return true;
      }
      if (empty) {  // unset range: only the learned kinds can do without one
        if (spec.type == "Fixed") return false;
        spec.initMin.reset();
        spec.initMax.reset();
        return true;
      }
      if (!number(e, v)) return false;
      const float f = static_cast<float>(v);
      // The range is set as a pair; an unset other end mirrors this one (|v|, or 1 at 0).
      const float other = f != 0.0f ? std::abs(f) * (low ? 1.0f : -1.0f) : (low ? 1.0f : -1.0f);
      (low ? spec.initMin : spec.initMax) = f;
      if (!(low ? spec.initMax : spec.initMin)) (low ? spec.initMax : spec.initMin) = other;
      return true;
    }
  }
  return false;
}

QString QuantizerEditor::describeEdit(QuantField field) const {
  auto onOff = [](QCheckBox* b) { return b->checkState() != Qt::Unchecked ? QStringLiteral("on") : QStringLiteral("off"); };
  switch (field) {
    case QuantField::Skip: return skipChecked() ? tr("skip") : tr("quantize");
    case QuantField::Type: return tr("type → %1").arg(type_->currentText());
    case QuantField::Bits: return tr("bits → %1").arg(bits_->value());
    case QuantField::Symmetric: return tr("symmetric %1").arg(onOff(symmetric_));
    case QuantField::NarrowRange: return tr("narrow range %1").arg(onOff(narrow_));
    case QuantField::PerAxis: return tr("per-axis %1").arg(perAxis_ ? onOff(perAxis_) : QString());
    case QuantField::Pow2Scale: return tr("pow-2 scale %1").arg(onOff(pow2_));
    case QuantField::EmaDecay: return tr("EMA decay → %1").arg(ema_->text());
    case QuantField::RangeMin: return tr("range min → %1").arg(rangeMin_->text());
    case QuantField::RangeMax: return tr("range max → %1").arg(rangeMax_->text());
  }
  return {};
}

}  // namespace qat::ui
