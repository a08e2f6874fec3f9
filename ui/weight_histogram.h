#pragma once
// WeightHistogram: the distribution of one weight tensor with the quantization grid that
// its quantizer spec would use on those weights, so the user sees how coarse n bits are.
//
// The grid is the engine's own: a quantizer is made from the spec (LastValue semantics,
// i.e. the range of the current weights, except for Fixed whose range is given), run once
// in calibration mode over the weights, and its grids() read back. Per-axis specs have one
// grid per output channel (quantize_wrapper.cpp's channel rule); the plot then shows one
// channel's weights and grid, chosen with setChannel().
#include <qcustomplot.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/quant/quantizer.h"

namespace qat::ui {

class WeightHistogram : public QCustomPlot {
  Q_OBJECT
 public:
  explicit WeightHistogram(QWidget* parent = nullptr);

  // Shows `weights` (copied) of parameter `param` of `layer`. No spec: float, no grid.
  // Keeps the channel when the channel count stays the same, else shows channel 0.
  void setTensor(const QString& layer, const std::string& param, const Tensor& weights,
                 const std::optional<quant::QuantizerSpec>& spec);
  void clear();
  void setChannel(int channel);  // clamped to 0..channelCount()-1

  int channel() const { return channel_; }
  int channelCount() const { return channels_; }  // 1 for per-tensor grids and float
  bool hasGrid() const { return !grids_.empty(); }
  // Every level of the shown grid, ascending ((q − zeroPoint)·scale for q in qmin..qmax),
  // and the ones drawn (every levelStride()-th, counted from the zero point).
  const std::vector<double>& gridLevels() const { return levels_; }
  const std::vector<double>& drawnLevels() const { return drawn_; }
  int levelStride() const { return stride_; }
  // The weights plotted: all of them, or the chosen channel's.
  const std::vector<float>& shownValues() const { return shown_; }
  QString title() const { return title_->text(); }
  QCPBars* bars() const { return bars_; }
  QCPGraph* gridGraph() const { return gridGraph_; }

  static constexpr int kMaxDrawnLevels = 64;
  // The tensor's per-axis channel count: the innermost axis, or C·M of a depthwise kernel.
  static int axisChannels(const std::string& param, const Shape& shape);

 private:
  void computeGrids();
  void rebuild();  // plot data of the current channel

  QCPTextElement* title_;
  QCPBars* bars_;
  QCPGraph* gridGraph_;
  QString layer_;
  std::string param_;
  Tensor weights_;
  std::optional<quant::QuantizerSpec> spec_;
  std::vector<quant::Grid> grids_;  // one per channel, or one; empty: float / no grid
  QString gridNote_;                // why there is no grid, when there is none
  int channels_ = 1, channel_ = 0, stride_ = 1;
  std::vector<float> shown_;
  std::vector<double> levels_, drawn_;
};

}  // namespace qat::ui
