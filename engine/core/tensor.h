#pragma once
// Shape and Tensor: dense float32, row-major, NHWC for images.
// A Shape inside a graph node is per sample (no batch dimension); a Tensor that flows
// through the executor carries the batch as its first dimension: (N, H, W, C).
// Tensors keep their capacity when resized smaller, so training buffers are allocated
// once and reused across steps.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <new>
#include <string>
#include <vector>

#include "engine/core/error.h"

namespace qat {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int> dims) : dims_(dims) {}
  explicit Shape(std::vector<int> dims) : dims_(std::move(dims)) {}

  int rank() const { return static_cast<int>(dims_.size()); }
  int operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  int& operator[](int i) { return dims_[static_cast<size_t>(i)]; }
  // Negative index counts from the back: back(-1) is the last dimension.
  int back(int i = -1) const { return dims_[dims_.size() + static_cast<size_t>(i)]; }
  const std::vector<int>& dims() const { return dims_; }
  size_t numel() const {
    size_t n = 1;
    for (int d : dims_) n *= static_cast<size_t>(d);
    return n;
  }
  // (N, ...this)
  Shape withBatch(int n) const {
    std::vector<int> d;
    d.reserve(dims_.size() + 1);
    d.push_back(n);
    d.insert(d.end(), dims_.begin(), dims_.end());
    return Shape(std::move(d));
  }
  // this without its first dimension
  Shape withoutBatch() const { return Shape(std::vector<int>(dims_.begin() + 1, dims_.end())); }
  bool operator==(const Shape& o) const = default;
  std::string str() const;  // "(28, 28, 1)"

 private:
  std::vector<int> dims_;
};

// 64-byte aligned allocator so SIMD loads never split cache lines.
template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t{64}); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
};

using FloatBuffer = std::vector<float, AlignedAllocator<float>>;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, float fill = 0.0f) : shape_(std::move(shape)), data_(shape_.numel(), fill) {}

  const Shape& shape() const { return shape_; }
  int dim(int i) const { return shape_[i]; }
  int rank() const { return shape_.rank(); }
  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float& operator[](size_t i) { return data_[i]; }
  float operator[](size_t i) const { return data_[i]; }

  // Changes the shape; keeps capacity (no reallocation when shrinking). New elements are
  // zero, existing contents are unspecified afterwards: callers overwrite.
  void resize(const Shape& shape) {
    shape_ = shape;
    data_.resize(shape_.numel());
  }
  // Same element count, new shape (like Keras Reshape / Flatten).
  void reshapeInPlace(const Shape& shape) {
    QAT_ASSERT(shape.numel() == data_.size());
    shape_ = shape;
  }
  void fill(float v) { std::fill(data_.begin(), data_.end(), v); }
  void zero() { fill(0.0f); }

 private:
  Shape shape_;
  FloatBuffer data_;
};

}  // namespace qat
