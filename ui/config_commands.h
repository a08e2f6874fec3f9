#pragma once
// ConfigCommand: one undoable change of the quantize config (ticking layers, a preset,
// an inspector edit, the BN mode). It stores the whole config before and after: configs
// are small (a few specs per layer), and a snapshot cannot drift out of sync the way a
// diff can when commands are merged or the model-wide settings change too.
#include <QList>
#include <QUndoCommand>

#include "engine/quant/quantize_config.h"

namespace qat::ui {

class ProjectDocument;

class ConfigCommand : public QUndoCommand {
 public:
  // nodes: the layers the change touches (for quantizeConfigChanged; empty: model-wide).
  ConfigCommand(ProjectDocument* document, quant::QuantizeConfig before, quant::QuantizeConfig after,
                QList<int> nodes, const QString& text);
  void undo() override;
  void redo() override;

 private:
  ProjectDocument* document_;
  quant::QuantizeConfig before_, after_;
  QList<int> nodes_;
};

}  // namespace qat::ui
