#pragma once
// Config and shape checks shared by the 2-D convolution and pooling layers. Each returns
// an empty string when fine, else what is wrong (the layer wraps it in layerError()).
#include <string>

#include "engine/core/tensor.h"
#include "engine/layers/padding.h"

namespace qat {

// Concatenates strings by appending (GCC 12 warns falsely, -Wrestrict, about
// "literal" + std::string temporaries).
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  ((s += parts), ...);
  return s;
}

inline std::string pairStr(int a, int b) {
  return cat("(", std::to_string(a), ", ", std::to_string(b), ")");
}

// One (height, width, channels) input per sample.
inline std::string imageInputProblem(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return "takes exactly one input";
  const Shape& s = inputs[0];
  if (s.rank() != 3)
    return cat("needs a per-sample input of rank 3 (height, width, channels), got ", s.str());
  if (s[0] <= 0 || s[1] <= 0 || s[2] <= 0)
    return cat("input dimensions must be positive, got ", s.str());
  return {};
}

// Kernel / pool window, strides and dilation of a sliding-window layer.
inline std::string windowProblem(const char* what, int kh, int kw, int sh, int sw, int dh = 1,
                                 int dw = 1) {
  if (kh <= 0 || kw <= 0) return cat(what, " must be positive, got ", pairStr(kh, kw));
  if (sh <= 0 || sw <= 0) return cat("strides must be positive, got ", pairStr(sh, sw));
  if (dh <= 0 || dw <= 0) return cat("dilation_rate must be positive, got ", pairStr(dh, dw));
  // Keras (and tf.nn's depthwise/separable ops) reject this combination.
  if ((sh > 1 || sw > 1) && (dh > 1 || dw > 1))
    return cat("strides > 1 cannot be combined with dilation_rate > 1 (strides ", pairStr(sh, sw),
               ", dilation_rate ", pairStr(dh, dw), ")");
  return {};
}

// The output would be empty: the (dilated) window is larger than the input.
inline std::string windowFitProblem(const char* what, const Shape& in, int kh, int kw, int dh,
                                    int dw, int oh, int ow) {
  if (oh > 0 && ow > 0) return {};
  return cat(what, " ", pairStr((kh - 1) * dh + 1, (kw - 1) * dw + 1),
             " (dilated) is larger than the input ", pairStr(in[0], in[1]), " with 'valid' padding");
}

}  // namespace qat
