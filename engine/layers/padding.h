#pragma once
// Keras / TensorFlow spatial padding modes and the per-axis arithmetic they imply.
// Shared by the convolution and pooling kernels and layers.
//
//  valid: no padding; out = floor((in - effK) / s) + 1 with effK = (k - 1)·d + 1,
//         and out = 0 when the (dilated) window is larger than the input.
//  same:  out = ceil(in / s); pad_total = max((out - 1)·s + effK - in, 0),
//         pad_before = pad_total / 2, pad_after = pad_total - pad_before
//         (TensorFlow puts the odd extra row/column at the bottom/right).
#include <algorithm>
#include <optional>
#include <string_view>

namespace qat {

enum class Padding { Valid, Same };

inline std::string_view paddingName(Padding p) { return p == Padding::Same ? "same" : "valid"; }

inline std::optional<Padding> paddingFromName(std::string_view name) {
  if (name == "valid") return Padding::Valid;
  if (name == "same") return Padding::Same;
  return std::nullopt;
}

// Output size and padding along one spatial axis.
struct AxisPadding {
  int out = 0;     // output length; 0 means the window does not fit (valid padding)
  int before = 0;  // zeros (or ignored cells, for pooling) before the first input element
  int after = 0;   // ... after the last one
};

// in, kernel, stride, dilation must be positive.
inline AxisPadding axisPadding(Padding mode, int in, int kernel, int stride, int dilation = 1) {
  const int effK = (kernel - 1) * dilation + 1;
  AxisPadding a;
  if (mode == Padding::Valid) {
    a.out = in >= effK ? (in - effK) / stride + 1 : 0;
    return a;
  }
  a.out = (in + stride - 1) / stride;
  const int total = std::max((a.out - 1) * stride + effK - in, 0);
  a.before = total / 2;
  a.after = total - a.before;
  return a;
}

}  // namespace qat
