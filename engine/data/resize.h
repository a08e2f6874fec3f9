#pragma once
// Bilinear image resize for float HWC images.
//
// Sampling uses pixel centres (the convention of tf.image.resize, which Keras'
// image_dataset_from_directory uses, without antialiasing): output pixel (i, j) maps
// to the source position
//   y = (i + 0.5) · inH / outH − 0.5,   x = (j + 0.5) · inW / outW − 0.5,
// clamped to [0, inH − 1] × [0, inW − 1], and takes the weighted mean of the four
// surrounding pixels:
//   out = (1−fy)(1−fx)·p[y0][x0] + (1−fy)fx·p[y0][x1] + fy(1−fx)·p[y1][x0] + fy·fx·p[y1][x1]
// with y0 = floor(y), y1 = min(y0 + 1, inH − 1), fy = y − y0 (same for x). Same size in
// and out reproduces the input exactly.
namespace qat {

// src (inH, inW, channels) -> dst (outH, outW, channels); both dense row-major HWC.
void resizeBilinear(const float* src, int inH, int inW, int channels, float* dst, int outH, int outW);

}  // namespace qat
