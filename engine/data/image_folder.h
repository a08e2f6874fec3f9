#pragma once
// Image classification folders, as for Keras' image_dataset_from_directory:
//   root/<class name>/*.png|*.jpg|*.jpeg
// Class folders are sorted by name and numbered from 0; files are sorted by name within
// a class. Images are decoded with stb_image (Debian libstb), converted to 1 (grey) or
// 3 (RGB) channels, and resized bilinearly (resize.h) to the requested size. Without a
// requested size every image must already have the same size.
#include <string>

#include "engine/core/error.h"
#include "engine/core/tensor.h"
#include "engine/data/dataset.h"

namespace qat {

struct ImageFolderOptions {
  int channels = 3;  // 1 or 3
  // Target size (the model's input H, W). Both 0: keep the images' own size.
  int height = 0;
  int width = 0;
  Normalization norm;  // pixel values are 0..255 before normalisation
};

// x (N, H, W, channels), labels from the folder names, classNames = folder names.
Expected<Dataset> loadImageFolder(const std::string& root, const ImageFolderOptions& options);

// One image as (1, H, W, channels), e.g. for prediction; height/width 0 keep its size.
Expected<Tensor> loadImage(const std::string& path, int channels, int height, int width, const Normalization& norm);

}  // namespace qat
