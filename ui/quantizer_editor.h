#pragma once
// QuantizerEditor: the fields of one quantizer (a QuantizerSpec) for one or many layers.
//
// The layer inspector loads it with the specs of every selected layer for one slot (the
// "kernel" of each, or each output). Where the specs agree the field shows the common
// value; where they differ it shows an indeterminate state ("—" in spin boxes, combos and
// line edits, a partially checked box). A user edit emits edited(field) once; the
// inspector then writes *only that field* into each layer's spec with apply() and pushes
// one undoable change through the document. Loading never emits edited() (the widgets'
// signals are blocked), so a refresh after undo/redo cannot create a new command.
#include <QGroupBox>

#include <optional>
#include <vector>

#include "engine/quant/quantizer.h"

class QCheckBox;
class QComboBox;
class QFormLayout;
class QLayout;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace qat::ui {

enum class QuantField { Skip, Type, Bits, Symmetric, NarrowRange, PerAxis, Pow2Scale, EmaDecay, RangeMin, RangeMax };

class QuantizerEditor : public QGroupBox {
  Q_OBJECT
 public:
  // withSkip: the slot may be empty (an output quantizer); a "skip" check box says so.
  // withPerAxis: per-axis grids make sense (weights).
  QuantizerEditor(const QString& title, bool withSkip, bool withPerAxis, QWidget* parent = nullptr);

  // One entry per layer; nullopt = the slot is empty for that layer (skipped output).
  void load(const std::vector<std::optional<quant::QuantizerSpec>>& specs);
  // Writes the editor's value of `field` into `spec` (for Skip: nothing, see skipChecked).
  // False when the field holds no value to write (indeterminate, empty, not a number).
  bool apply(QuantField field, quant::QuantizerSpec& spec) const;
  // The user's intent for the Skip field: true = no quantizer.
  bool skipChecked() const;
  // "bits → 4", for the undo step's text.
  QString describeEdit(QuantField field) const;

  QComboBox* typeCombo() const { return type_; }
  QSpinBox* bitsSpin() const { return bits_; }
  QCheckBox* skipCheck() const { return skip_; }  // null without skip
  QCheckBox* symmetricCheck() const { return symmetric_; }
  QCheckBox* narrowRangeCheck() const { return narrow_; }
  QCheckBox* perAxisCheck() const { return perAxis_; }  // null without per-axis
  QCheckBox* pow2ScaleCheck() const { return pow2_; }
  QLineEdit* emaDecayEdit() const { return ema_; }
  QLineEdit* rangeMinEdit() const { return rangeMin_; }
  QLineEdit* rangeMaxEdit() const { return rangeMax_; }
  // The type every loaded (non-empty) spec has, "" when mixed or none.
  QString commonType() const { return commonType_; }

  static constexpr int kMixedBits = 1;  // the spin box value that shows "—"

 signals:
  void edited(qat::ui::QuantField field);

 private:
  void updateTypeRows();
  void commitLine(QLineEdit* edit, QuantField field);

  QCheckBox* skip_ = nullptr;
  QComboBox* type_;
  QLabel* typeInfo_;
  QSpinBox* bits_;
  QCheckBox* symmetric_;
  QCheckBox* narrow_;
  QCheckBox* perAxis_ = nullptr;
  QCheckBox* pow2_;
  QLineEdit* ema_;
  QLineEdit* rangeMin_;
  QLineEdit* rangeMax_;
  QFormLayout* form_;
  QLayout* flags_;  // the row of check boxes
  QString commonType_;
  bool anyPresent_ = false;
};

}  // namespace qat::ui
