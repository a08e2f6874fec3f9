#pragma once
// Shape checks shared by the merge layers (Add, Subtract, Multiply, Concatenate).
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace qat {

// "(4, 3), (4, 5)": the input shapes for error messages.
inline std::string joinShapes(const std::vector<Shape>& shapes) {
  std::string s;
  for (size_t i = 0; i < shapes.size(); ++i) s += (i ? ", " : "") + shapes[i].str();
  return s;
}

// Empty when all shapes are equal (elementwise merges; no broadcasting), else the message.
inline std::string sameShapeError(const std::vector<Shape>& shapes) {
  for (const Shape& s : shapes)
    if (s != shapes.front())
      return "inputs must all have the same shape, got " + joinShapes(shapes);
  return {};
}

}  // namespace qat
