#pragma once
// Set-up shared by the 2-D convolution layers whose options carry kernelH/W, strideH/W,
// dilationH/W and a TF padding (Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose):
// the window checks and the ConvGeometry those options describe.
#include <string>

#include "engine/kernels/conv2d.h"
#include "engine/layers/spatial_checks.h"

namespace qat {

// kernel_size, strides and dilation_rate of the options, as Keras checks them.
template <class Options>
std::string convWindowProblem(const Options& o) {
  return windowProblem("kernel_size", o.kernelH, o.kernelW, o.strideH, o.strideW, o.dilationH,
                       o.dilationW);
}

// The per-sample (N = 0) geometry of a conv over an (H, W, Cin) image giving Cout channels,
// with the options' window and padding (OH, OW resolved; 0 when the kernel does not fit).
template <class Options>
ConvGeometry convWindowGeometry(const Options& o, int H, int W, int Cin, int Cout) {
  ConvGeometry g;
  g.H = H;
  g.W = W;
  g.Cin = Cin;
  g.KH = o.kernelH;
  g.KW = o.kernelW;
  g.Cout = Cout;
  g.strideH = o.strideH;
  g.strideW = o.strideW;
  g.dilationH = o.dilationH;
  g.dilationW = o.dilationW;
  g.setPadding(o.padding);
  return g;
}

// The output of g over the input `in` would be empty ('valid' padding, kernel too large).
inline std::string kernelFitProblem(const Shape& in, const ConvGeometry& g) {
  return windowFitProblem("kernel", in, g.KH, g.KW, g.dilationH, g.dilationW, g.OH, g.OW);
}

}  // namespace qat
