#pragma once
// Export verification, part of every export: a validation set runs through (a) the model
// the studio trained (fake-quant, or float for float exports) and (b) the integer
// interpreter on the graph read back from the written file; the report says how often
// they agree and by how much they differ.
#include <string>

#include "engine/data/dataset.h"
#include "engine/deploy/integer_graph.h"
#include "engine/graph/model.h"

namespace qat::deploy {

struct VerificationReport {
  size_t samples = 0;
  double top1Agreement = 0;       // fraction of samples whose argmax agrees
  double maxStepDifference = 0;   // max |a − b| over all outputs in output quantization steps
                                  // (float graphs: max |a − b| relative to the output range)
  double withinOneStep = 0;       // fraction of output values at most one step apart
  double referenceAccuracy = -1;  // accuracy of (a), when the data has labels
  double exportAccuracy = -1;     // accuracy of (b)
  bool quantized = true;          // false for float graphs
  std::string summary() const;    // one paragraph for the report dialog / CLI
};

// Runs `graph` with the integer interpreter on real-valued inputs x (N, ...) and returns
// real-valued outputs: int8-I/O graphs get their inputs quantized and outputs dequantized
// here, so every graph is called the same way. The studio's "integer" evaluation mode.
Expected<Tensor> runGraph(const IntegerGraph& graph, const Tensor& x);

// Top-1 accuracy of `graph` on labelled data (integer evaluation mode).
Expected<double> graphAccuracy(const IntegerGraph& graph, const Dataset& data);

// `reference` is the quantized model (run with fake quant) or, for a float graph, the
// float model. Uses up to maxSamples samples of `data` (0: all).
Expected<VerificationReport> verifyGraph(Model& reference, const IntegerGraph& exported, const Dataset& data,
                                         size_t maxSamples = 0);

}  // namespace qat::deploy
