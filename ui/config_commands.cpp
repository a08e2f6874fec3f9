#include "ui/config_commands.h"

#include "ui/project_document.h"

namespace qat::ui {

ConfigCommand::ConfigCommand(ProjectDocument* document, quant::QuantizeConfig before, quant::QuantizeConfig after,
                             QList<int> nodes, const QString& text)
    : QUndoCommand(text),
      document_(document),
      before_(std::move(before)),
      after_(std::move(after)),
      nodes_(std::move(nodes)) {}

void ConfigCommand::undo() { document_->applyConfig(before_, nodes_); }
void ConfigCommand::redo() { document_->applyConfig(after_, nodes_); }

}  // namespace qat::ui
