#pragma once
// LayerInspector: the quantize config of the selected layer(s), editable.
//
// It shows what the document holds and writes back only through the document: ticking
// "Quantize" (setQuantized), presets (applyPreset), quantizer fields (setLayerConfigs,
// one undo step per edit covering every target layer), BatchNorm handling (setBnMode,
// setFreezeBnStep). Every document signal that can change what it shows makes it reload
// from the document (refresh()); loading blocks the widgets' signals and edits listen
// only to user-interaction signals (clicked, activated, a changed spin box value), so
// undo/redo never feeds back into a new command.
//
// Multi-selection: edits go to every selected layer that can be quantized ("Apply to all
// selected", on by default; off: the first selected layer only). Each editor shows the
// common value of its field or an indeterminate state, and an edit writes only the field
// the user changed, into the layers that have that slot (the same weight parameter).
#include <QWidget>

#include <map>
#include <optional>
#include <string>

#include "ui/project_document.h"
#include "ui/quantizer_editor.h"

class QCheckBox;
class QComboBox;
class QGroupBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QVBoxLayout;

namespace qat::ui {

class WeightHistogram;

class LayerInspector : public QWidget {
  Q_OBJECT
 public:
  explicit LayerInspector(ProjectDocument* document, QWidget* parent = nullptr);
  ~LayerInspector() override;

  // Reloads everything from the document (called on its signals).
  void refresh();

  // The layers edits apply to: the selected ones that can be quantized (or only the
  // first of them when "Apply to all selected" is off).
  QList<int> targetNodes() const;

  // ---- widgets, for the main window and tests ----
  QLabel* headerLabel() const { return header_; }
  QLabel* placeholderLabel() const { return placeholder_; }  // "Select a layer in the graph"
  QLabel* reasonLabel() const { return reason_; }            // why (some) layers cannot be quantized
  QLabel* messageLabel() const { return message_; }          // a refused edit (invalid spec)
  QWidget* editorArea() const { return controls_; }          // disabled when nothing can be quantized
  QCheckBox* quantizeCheck() const { return quantize_; }
  QCheckBox* applyToAllCheck() const { return applyToAll_; }
  QPushButton* presetButton(QuantPreset preset) const;
  QStringList weightParams() const;                          // slots with an editor, e.g. "kernel"
  QuantizerEditor* weightEditor(const QString& param) const;  // null if none
  QuantizerEditor* outputEditor() const { return output_; }
  QGroupBox* bnGroup() const { return bnGroup_; }
  QComboBox* bnModeCombo() const { return bnMode_; }
  QSpinBox* freezeBnSpin() const { return freezeBn_; }
  WeightHistogram* histogram() const { return histogram_; }
  QSpinBox* channelSpin() const { return channel_; }
  // The layer and parameter the histogram shows (-1 / "" when none).
  int histogramNode() const { return histNode_; }
  QString histogramParam() const { return QString::fromStdString(histParam_); }

 private:
  void buildUi();
  void refreshHeader(const QList<int>& selection);
  void refreshEditors(const QList<int>& quantized);
  void refreshBn(const QList<int>& selection);
  void refreshHistogram(const QList<int>& selection);
  QList<int> quantizedTargets() const;
  // A user edit of `field` in the editor of `param` ("" = the output quantizer).
  void onEdited(const std::string& param, QuantField field);
  // Fills in what a new type needs (Fixed: a range) and drops the old type's extras.
  void fitToType(int node, const std::string& param, const std::string& oldType, quant::QuantizerSpec& spec) const;

  ProjectDocument* document_;
  QLabel* header_;
  QLabel* placeholder_;
  QLabel* reason_;
  QLabel* message_;
  QLabel* floatHint_;
  QWidget* body_;
  QWidget* controls_;
  QCheckBox* quantize_;
  QCheckBox* applyToAll_;
  std::map<QuantPreset, QPushButton*> presets_;
  QVBoxLayout* weightLayout_;
  std::map<std::string, QuantizerEditor*> weightEditors_;
  QuantizerEditor* output_;
  QGroupBox* bnGroup_;
  QComboBox* bnMode_;
  QSpinBox* freezeBn_;
  QGroupBox* histGroup_;
  QSpinBox* channel_;
  QLabel* channelLabel_;
  WeightHistogram* histogram_;
  // What the histogram was computed from; recomputed only when this or the weights change.
  int histNode_ = -1;
  std::string histParam_;
  std::optional<quant::QuantizerSpec> histSpec_;
  bool weightsDirty_ = true;
};

}  // namespace qat::ui
